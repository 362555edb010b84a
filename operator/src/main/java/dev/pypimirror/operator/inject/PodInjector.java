package dev.pypimirror.operator.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.Annotations;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.config.InvalidMirrorException;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.InjectionPlan.Outcome;
import dev.pypimirror.operator.inject.MirrorSelector.Selection;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.policy.PolicyRules;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The whole injection decision for one pod: policy, selection, then the patch. Pure. */
public final class PodInjector {
  private PodInjector() {}

  /** Injection with no policy, as for a pod that asked by annotation. */
  public static InjectionPlan inject(
      JsonNode pod, String namespace, String operatorNamespace, MirrorDirectory mirrors) {
    return inject(pod, namespace, operatorNamespace, mirrors, PolicyDirectory.NONE, false);
  }

  /**
   * As {@link #inject(JsonNode, String, String, MirrorDirectory, PolicyDirectory, boolean,
   * boolean)} for a pod no node creates (offline, or the requester is unknown).
   */
  public static InjectionPlan inject(
      JsonNode pod,
      String namespace,
      String operatorNamespace,
      MirrorDirectory mirrors,
      PolicyDirectory policies,
      boolean optedInByDefault) {
    return inject(pod, namespace, operatorNamespace, mirrors, policies, optedInByDefault, false);
  }

  /**
   * @param pod the pod or pod template exactly as received
   * @param namespace the namespace the pod is created in
   * @param operatorNamespace the operator's own namespace (never injected), or null
   * @param optedInByDefault a pod without injection annotations counts as opted in (offline use)
   * @param createdByNode the request comes from a node, the only creator of real static pods
   */
  public static InjectionPlan inject(
      JsonNode pod,
      String namespace,
      String operatorNamespace,
      MirrorDirectory mirrors,
      PolicyDirectory policies,
      boolean optedInByDefault,
      boolean createdByNode) {
    PypiMirrorPolicy policy = policies.governing(namespace).orElse(null);
    return decide(
        pod,
        namespace,
        operatorNamespace,
        mirrors,
        policy,
        optedInByDefault,
        createdByNode,
        (mirror, rendered, mode, withCache) ->
            PodPatchPlanner.plan(pod, mirror, rendered, mode, withCache));
  }

  /**
   * The decision on an update of a pod's ephemeralcontainers subresource (kubectl debug): under
   * Enforce, a pod the policy selects gets, in each ephemeral container the update adds, what
   * {@link PodPatchPlanner#planEphemeral} says; anything else is left alone, as pods' containers
   * are outside Enforce.
   *
   * @param before the names of the ephemeral containers the pod had before the update
   */
  public static InjectionPlan injectEphemeral(
      JsonNode pod,
      Set<String> before,
      String namespace,
      String operatorNamespace,
      MirrorDirectory mirrors,
      PolicyDirectory policies) {
    PypiMirrorPolicy policy = policies.governing(namespace).orElse(null);
    if (!PolicyRules.enforces(policy)) {
      return InjectionPlan.untouched(
          Reason.NOT_A_POD_CREATE, "ephemeral containers are held only under Enforce");
    }
    Set<String> added = new LinkedHashSet<>();
    pod.path("spec").path("ephemeralContainers").forEach(c -> added.add(c.path("name").asText()));
    added.removeAll(before);
    return decide(
        pod,
        namespace,
        operatorNamespace,
        mirrors,
        policy,
        false,
        false,
        (mirror, rendered, mode, withCache) ->
            PodPatchPlanner.planEphemeral(pod, added, mirror, rendered, mode, withCache));
  }

  /** What is planned for a pod once its mirror is known and rendered. */
  private interface Planner {
    InjectionPlan plan(
        PypiMirror mirror, RenderedConfig rendered, PolicyMode mode, boolean withCache);
  }

  /** Selection, then the planner with the selected mirror; the pod's own rules around both. */
  private static InjectionPlan decide(
      JsonNode pod,
      String namespace,
      String operatorNamespace,
      MirrorDirectory mirrors,
      PypiMirrorPolicy policy,
      boolean optedInByDefault,
      boolean createdByNode,
      Planner planner) {
    Map<String, String> annotations =
        PodPatchPlanner.stringMap(pod.path("metadata").path("annotations"));
    Map<String, String> labels = PodPatchPlanner.stringMap(pod.path("metadata").path("labels"));
    PolicyMode mode = PolicyMode.of(policy);
    List<String> warnings = new ArrayList<>();
    MirrorSelector.PodFacts facts =
        new MirrorSelector.PodFacts(annotations, labels, namespace, createdByNode);
    Selection selection =
        MirrorSelector.select(
            facts, policy, operatorNamespace, mirrors, optedInByDefault, warnings);
    if (selection instanceof Selection.Untouched untouched) {
      return new InjectionPlan(
          Outcome.UNTOUCHED, untouched.reason(), untouched.why(), List.of(), warnings);
    }
    if (selection instanceof Selection.Unavailable unavailable) {
      return unavailable(pod, annotations, mode, unavailable, warnings);
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
          new Selection.Unavailable(
              Reason.MIRROR_INVALID,
              "PypiMirror %s/%s is invalid (%s)"
                  .formatted(namespace, mirror.getMetadata().getName(), e.getMessage())),
          warnings);
    }
    // an opt-out that Enforce overrides gets the configuration, never the cache: the cache sync's
    // download container opts out so that upstream code never sees the cache
    boolean withCache =
        MirrorSelector.rule(facts, policy, operatorNamespace) != MirrorSelector.Rule.OPTED_OUT;
    InjectionPlan plan = planner.plan(mirror, rendered, mode, withCache);
    if (warnings.isEmpty()) {
      return plan;
    }
    warnings.addAll(plan.warnings());
    return new InjectionPlan(
        plan.outcome(), plan.reason(), plan.detail(), plan.operations(), warnings);
  }

  /** Admitted without the mirror, annotated and warned; denied when a policy enforces it. */
  private static InjectionPlan unavailable(
      JsonNode pod,
      Map<String, String> annotations,
      PolicyMode mode,
      Selection.Unavailable unavailable,
      List<String> warnings) {
    if (mode.enforce()) {
      return InjectionPlan.denied(
          unavailable.reason(),
          "PypiMirrorPolicy %s enforces a PyPI mirror here, and it cannot be injected: %s"
              .formatted(mode.policy(), unavailable.problem()),
          warnings);
    }
    String skipped = unavailable.reason().skippedAnnotation();
    List<ObjectNode> operations =
        PodPatchPlanner.annotate(pod, Map.of(Annotations.SKIPPED, skipped));
    List<String> all = new ArrayList<>(warnings);
    all.add(unavailable.warning());
    return new InjectionPlan(Outcome.SKIPPED, unavailable.reason(), skipped, operations, all);
  }
}
