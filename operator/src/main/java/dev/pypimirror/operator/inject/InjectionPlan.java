package dev.pypimirror.operator.inject;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What the webhook does to one pod: the outcome and its reason, the JSON Patch operations (in a
 * fixed order), and the admission warnings a user should see. {@code detail}: the mirror's name
 * when injected, the pypimirror.dev/skipped value when skipped, the refusal message when denied,
 * why when untouched.
 */
public record InjectionPlan(
    Outcome outcome,
    Reason reason,
    String detail,
    List<ObjectNode> operations,
    List<String> warnings) {

  public enum Outcome {
    /** Not a target of injection: no patch. */
    UNTOUCHED,
    /** Already holds everything the injection adds: no patch (the webhook may be reinvoked). */
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

  public static InjectionPlan untouched(Reason reason, String detail) {
    return new InjectionPlan(Outcome.UNTOUCHED, reason, detail, List.of(), List.of());
  }

  /** Refused, with the message the user sees. */
  public static InjectionPlan denied(Reason reason, String message, List<String> warnings) {
    return new InjectionPlan(Outcome.DENIED, reason, message, List.of(), warnings);
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
