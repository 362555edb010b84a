package dev.pypimirror.operator.inject;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.jsonpatch.JsonPatches;
import java.util.List;
import java.util.Objects;

/**
 * What the webhook does to one pod: the outcome and its reason, what the outcome is about (the
 * mirror, the skip, the refusal or why the pod is left alone), the JSON Patch operations (in a
 * fixed order), and the admission warnings a user should see.
 *
 * @param injected the mirror and its marker: set exactly when {@link Outcome#INJECTED} or {@link
 *     Outcome#ALREADY_INJECTED}
 * @param skipped the {@code pypimirror.dev/skipped} value the pod carries once patched: why it has
 *     no mirror ({@link Outcome#SKIPPED}), or the mounts left out of an injection; else null
 * @param refusal what a refused pod's author is told: set exactly when {@link Outcome#DENIED}
 * @param why why the pod is left alone: set exactly when {@link Outcome#UNTOUCHED}
 */
public record InjectionPlan(
    Outcome outcome,
    Reason reason,
    Injected injected,
    String skipped,
    String refusal,
    String why,
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

  /**
   * The mirror a pod holds once patched.
   *
   * @param mirror the PypiMirror's name
   * @param marker the {@code pypimirror.dev/injected} value ({@code name@hash}) the pod carries
   *     once patched; null where the request writes none (ephemeral containers)
   */
  public record Injected(String mirror, String marker) {
    public Injected {
      Objects.requireNonNull(mirror, "mirror");
    }
  }

  public InjectionPlan {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(reason, "reason");
    boolean holdsMirror = outcome == Outcome.INJECTED || outcome == Outcome.ALREADY_INJECTED;
    if (holdsMirror != (injected != null)
        || (outcome == Outcome.DENIED) != (refusal != null)
        || (outcome == Outcome.UNTOUCHED) != (why != null)
        || (outcome == Outcome.SKIPPED && skipped == null)) {
      throw new IllegalArgumentException("an InjectionPlan " + outcome + " without its part");
    }
    operations = List.copyOf(operations);
    warnings = List.copyOf(warnings);
  }

  public static InjectionPlan untouched(Reason reason, String why) {
    return untouched(reason, why, List.of());
  }

  public static InjectionPlan untouched(Reason reason, String why, List<String> warnings) {
    return new InjectionPlan(Outcome.UNTOUCHED, reason, null, null, null, why, List.of(), warnings);
  }

  /** Refused, with the message the user sees. */
  public static InjectionPlan denied(Reason reason, String refusal, List<String> warnings) {
    return new InjectionPlan(
        Outcome.DENIED, reason, null, null, refusal, null, List.of(), warnings);
  }

  /** Admitted without a mirror, annotated {@code pypimirror.dev/skipped: skipped}. */
  public static InjectionPlan skipped(
      Reason reason, String skipped, List<ObjectNode> operations, List<String> warnings) {
    return new InjectionPlan(
        Outcome.SKIPPED, reason, null, skipped, null, null, operations, warnings);
  }

  /**
   * The mirror injected, or already held when {@code holdsEverything} (the operations then set at
   * most the markers).
   *
   * @param skipped the mounts left out ({@code container:path,...}), or null
   */
  public static InjectionPlan injected(
      Injected injected,
      String skipped,
      boolean holdsEverything,
      List<ObjectNode> operations,
      List<String> warnings) {
    return new InjectionPlan(
        holdsEverything ? Outcome.ALREADY_INJECTED : Outcome.INJECTED,
        holdsEverything ? Reason.ALREADY_INJECTED : Reason.INJECTED,
        injected,
        skipped,
        null,
        null,
        operations,
        warnings);
  }

  /** The same plan with {@code earlier} warnings before its own. */
  public InjectionPlan warnedFirst(List<String> earlier) {
    if (earlier.isEmpty()) {
      return this;
    }
    List<String> all = new java.util.ArrayList<>(earlier);
    all.addAll(warnings);
    return new InjectionPlan(outcome, reason, injected, skipped, refusal, why, operations, all);
  }

  /** The injected mirror's name, or null when the pod gets none. */
  public String mirror() {
    return injected == null ? null : injected.mirror();
  }

  public boolean hasPatch() {
    return !operations.isEmpty();
  }

  public ArrayNode patch() {
    return JsonPatches.patch(operations);
  }
}
