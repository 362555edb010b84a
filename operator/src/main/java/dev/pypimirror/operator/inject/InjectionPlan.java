package dev.pypimirror.operator.inject;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What the webhook does to one pod: the outcome, the JSON Patch operations (in a fixed order), and
 * the admission warnings a user should see. For DENIED, {@code detail} is the refusal message.
 */
public record InjectionPlan(
    Outcome outcome, String detail, List<ObjectNode> operations, List<String> warnings) {

  public enum Outcome {
    /** Not a target of injection: no patch. */
    UNTOUCHED,
    /** Already carries pypimirror.dev/injected: no patch (the webhook may be reinvoked). */
    ALREADY_INJECTED,
    /** The mirror was injected. */
    INJECTED,
    /** The pod asked for a mirror that cannot be used: annotated and warned only. */
    SKIPPED,
    /** An enforcing policy requires a mirror that cannot be injected: the pod is refused. */
    DENIED
  }

  public InjectionPlan {
    operations = List.copyOf(operations);
    warnings = List.copyOf(warnings);
  }

  public static InjectionPlan untouched(Outcome outcome, String detail) {
    return new InjectionPlan(outcome, detail, List.of(), List.of());
  }

  public boolean hasPatch() {
    return !operations.isEmpty();
  }

  public ArrayNode patch() {
    ArrayNode patch = JsonNodeFactory.instance.arrayNode();
    operations.forEach(patch::add);
    return patch;
  }
}
