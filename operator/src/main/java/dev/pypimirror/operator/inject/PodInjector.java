package dev.pypimirror.operator.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.config.InvalidMirrorException;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.InjectionPlan.Outcome;
import dev.pypimirror.operator.inject.MirrorSelector.Selection;
import dev.pypimirror.operator.policy.PolicyDirectory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The whole injection decision for one pod: policy, selection, then the patch. Pure. */
public final class PodInjector {
  private PodInjector() {}

  /** Injection with no policy, as for a pod that asked by annotation. */
  public static InjectionPlan inject(
      JsonNode pod, String namespace, String operatorNamespace, MirrorDirectory mirrors) {
    return inject(pod, namespace, operatorNamespace, mirrors, PolicyDirectory.NONE, false);
  }

  /**
   * @param pod the pod or pod template exactly as received
   * @param namespace the namespace the pod is created in
   * @param operatorNamespace the operator's own namespace (never injected), or null
   * @param optedInByDefault a pod without injection annotations counts as opted in (offline use)
   */
  public static InjectionPlan inject(
      JsonNode pod,
      String namespace,
      String operatorNamespace,
      MirrorDirectory mirrors,
      PolicyDirectory policies,
      boolean optedInByDefault) {
    Map<String, String> annotations =
        PodPatchPlanner.stringMap(pod.path("metadata").path("annotations"));
    Map<String, String> labels = PodPatchPlanner.stringMap(pod.path("metadata").path("labels"));
    PypiMirrorPolicy policy = policies.governing(namespace).orElse(null);
    boolean enforce =
        policy != null
            && policy.getSpec().getEnforcement() == PypiMirrorPolicySpec.Enforcement.Enforce;
    PolicyMode mode =
        policy == null ? PolicyMode.NONE : new PolicyMode(policy.getMetadata().getName(), enforce);
    List<String> warnings = new ArrayList<>();
    Selection selection =
        MirrorSelector.select(
            new MirrorSelector.PodFacts(annotations, labels, namespace),
            policy,
            operatorNamespace,
            mirrors,
            optedInByDefault,
            warnings);
    if (selection instanceof Selection.Untouched untouched) {
      return new InjectionPlan(Outcome.UNTOUCHED, untouched.why(), List.of(), warnings);
    }
    if (annotations.containsKey(Annotations.INJECTED)) {
      return InjectionPlan.untouched(
          Outcome.ALREADY_INJECTED, annotations.get(Annotations.INJECTED));
    }
    if (selection instanceof Selection.Unavailable unavailable) {
      return unavailable(
          pod, annotations, mode, unavailable.skipped(), unavailable.warning(), warnings);
    }
    var mirror = ((Selection.Use) selection).mirror();
    RenderedConfig rendered;
    try {
      rendered = mirrors.rendered(mirror);
    } catch (InvalidMirrorException e) {
      return unavailable(
          pod,
          annotations,
          mode,
          Annotations.SKIPPED_MIRROR_NOT_READY,
          "PypiMirror %s/%s is invalid (%s); the pod is admitted without a mirror"
              .formatted(namespace, mirror.getMetadata().getName(), e.getMessage()),
          warnings);
    }
    InjectionPlan plan = PodPatchPlanner.plan(pod, mirror, rendered, mode);
    if (warnings.isEmpty()) {
      return plan;
    }
    warnings.addAll(plan.warnings());
    return new InjectionPlan(plan.outcome(), plan.detail(), plan.operations(), warnings);
  }

  /** Admitted without the mirror, annotated and warned; denied when a policy enforces it. */
  private static InjectionPlan unavailable(
      JsonNode pod,
      Map<String, String> annotations,
      PolicyMode mode,
      String reason,
      String warning,
      List<String> warnings) {
    if (mode.enforce()) {
      String why = warning.replace("; the pod is admitted without a mirror", "");
      return new InjectionPlan(
          Outcome.DENIED,
          "PypiMirrorPolicy %s enforces a PyPI mirror here, and it cannot be injected: %s"
              .formatted(mode.policy(), why),
          List.of(),
          warnings);
    }
    List<ObjectNode> operations =
        reason.equals(annotations.get(Annotations.SKIPPED))
            ? List.of()
            : PodPatchPlanner.annotate(pod, Map.of(Annotations.SKIPPED, reason));
    List<String> all = new ArrayList<>(warnings);
    all.add(warning);
    return new InjectionPlan(Outcome.SKIPPED, reason, operations, all);
  }
}
