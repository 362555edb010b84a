package dev.pypimirror.operator.inject;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.config.InvalidMirrorException;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.InjectionPlan.Outcome;
import dev.pypimirror.operator.inject.MirrorSelector.Selection;
import dev.pypimirror.operator.inject.PodPatchPlanner.OwnVariables;
import java.util.List;
import java.util.Map;

/** The whole injection decision for one pod: selection, then the patch. Pure. */
public final class PodInjector {
  private PodInjector() {}

  /**
   * @param pod the pod or pod template exactly as received
   * @param namespace the namespace the pod is created in
   * @param operatorNamespace the operator's own namespace (never injected), or null
   */
  public static InjectionPlan inject(
      JsonNode pod, String namespace, String operatorNamespace, MirrorDirectory mirrors) {
    return inject(pod, namespace, operatorNamespace, mirrors, false);
  }

  /**
   * @param optedInByDefault a pod without injection annotations counts as opted in (offline use)
   */
  public static InjectionPlan inject(
      JsonNode pod,
      String namespace,
      String operatorNamespace,
      MirrorDirectory mirrors,
      boolean optedInByDefault) {
    Map<String, String> annotations =
        PodPatchPlanner.stringMap(pod.path("metadata").path("annotations"));
    Selection selection =
        MirrorSelector.select(annotations, namespace, operatorNamespace, mirrors, optedInByDefault);
    if (selection instanceof Selection.Untouched untouched) {
      return InjectionPlan.untouched(Outcome.UNTOUCHED, untouched.why());
    }
    if (annotations.containsKey(Annotations.INJECTED)) {
      return InjectionPlan.untouched(
          Outcome.ALREADY_INJECTED, annotations.get(Annotations.INJECTED));
    }
    if (selection instanceof Selection.Unavailable unavailable) {
      return skipped(pod, annotations, unavailable.skipped(), unavailable.warning());
    }
    var mirror = ((Selection.Use) selection).mirror();
    RenderedConfig rendered;
    try {
      rendered = MirrorConfigRenderer.render(mirror.getMetadata().getName(), mirror.getSpec());
    } catch (InvalidMirrorException e) {
      return skipped(
          pod,
          annotations,
          Annotations.SKIPPED_MIRROR_NOT_READY,
          "PypiMirror %s/%s is invalid (%s); the pod is admitted without a mirror"
              .formatted(namespace, mirror.getMetadata().getName(), e.getMessage()));
    }
    return PodPatchPlanner.plan(pod, mirror, rendered, OwnVariables.KEEP);
  }

  private static InjectionPlan skipped(
      JsonNode pod, Map<String, String> annotations, String reason, String warning) {
    var operations =
        reason.equals(annotations.get(Annotations.SKIPPED))
            ? List.<com.fasterxml.jackson.databind.node.ObjectNode>of()
            : PodPatchPlanner.annotate(pod, Map.of(Annotations.SKIPPED, reason));
    return new InjectionPlan(Outcome.SKIPPED, reason, operations, List.of(warning));
  }
}
