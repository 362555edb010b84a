package dev.pypimirror.operator.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.Annotations;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.config.InvalidMirrorException;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.MirrorSelector.PodFacts;
import dev.pypimirror.operator.inject.MirrorSelector.Selection;
import dev.pypimirror.operator.inject.PodPatchPlanner.CacheMount;
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
    return inject(pod, namespace, operatorNamespace, mirrors, PolicyDirectory.NONE);
  }

  /**
   * As {@link #inject(JsonNode, String, String, MirrorDirectory, PolicyDirectory, Requester)} for a
   * pod a client creates (or whose requester is unknown).
   */
  public static InjectionPlan inject(
      JsonNode pod,
      String namespace,
      String operatorNamespace,
      MirrorDirectory mirrors,
      PolicyDirectory policies) {
    return inject(pod, namespace, operatorNamespace, mirrors, policies, Requester.CLIENT);
  }

  /**
   * @param pod the pod or pod template exactly as received
   * @param namespace the namespace the pod is created in
   * @param operatorNamespace the operator's own namespace (never injected), or null
   * @param requester who asks: a node's static pods, the offline opt-in
   */
  public static InjectionPlan inject(
      JsonNode pod,
      String namespace,
      String operatorNamespace,
      MirrorDirectory mirrors,
      PolicyDirectory policies,
      Requester requester) {
    PypiMirrorPolicy policy = policies.governing(namespace).orElse(null);
    PodFacts facts =
        new PodFacts(PodMetadata.annotations(pod), PodMetadata.labels(pod), namespace, requester);
    return decide(
        pod,
        facts,
        operatorNamespace,
        mirrors,
        policy,
        (mirror, rendered, mode, cacheMount) ->
            PodPatchPlanner.plan(pod, mirror, rendered, mode, cacheMount));
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
    PodFacts facts = new PodFacts(PodMetadata.annotations(pod), PodMetadata.labels(pod), namespace);
    return decide(
        pod,
        facts,
        operatorNamespace,
        mirrors,
        policy,
        (mirror, rendered, mode, cacheMount) ->
            PodPatchPlanner.planEphemeral(pod, added, mirror, rendered, mode, cacheMount));
  }

  /** What is planned for a pod once its mirror is known and rendered. */
  private interface Planner {
    InjectionPlan plan(
        PypiMirror mirror, RenderedConfig rendered, PolicyMode mode, CacheMount cacheMount);
  }

  /** Selection, then the planner with the selected mirror; the pod's own rules around both. */
  private static InjectionPlan decide(
      JsonNode pod,
      PodFacts facts,
      String operatorNamespace,
      MirrorDirectory mirrors,
      PypiMirrorPolicy policy,
      Planner planner) {
    PolicyMode mode = PolicyMode.of(policy);
    List<String> warnings = new ArrayList<>();
    Selection selection =
        MirrorSelector.select(facts, policy, operatorNamespace, mirrors, warnings);
    if (selection instanceof Selection.Untouched untouched) {
      return InjectionPlan.untouched(untouched.reason(), untouched.why(), warnings);
    }
    if (selection instanceof Selection.Unavailable unavailable) {
      return unavailable(pod, mode, unavailable, warnings);
    }
    PypiMirror mirror = ((Selection.Use) selection).mirror();
    RenderedConfig rendered;
    try {
      rendered = mirrors.rendered(mirror);
    } catch (InvalidMirrorException e) {
      return unavailable(pod, mode, invalid(facts, mirror, e), warnings);
    }
    // an opt-out that Enforce overrides gets the configuration, never the cache: the cache sync's
    // download container opts out so that upstream code never sees the cache
    CacheMount cacheMount =
        MirrorSelector.rule(facts, policy, operatorNamespace) == MirrorSelector.Rule.OPTED_OUT
            ? CacheMount.LEFT_OUT
            : CacheMount.MOUNTED;
    return planner.plan(mirror, rendered, mode, cacheMount).warnedFirst(warnings);
  }

  private static Selection.Unavailable invalid(
      PodFacts facts, PypiMirror mirror, InvalidMirrorException e) {
    return new Selection.Unavailable(
        Reason.MIRROR_INVALID,
        "PypiMirror %s/%s is invalid (%s)"
            .formatted(facts.namespace(), mirror.getMetadata().getName(), e.getMessage()));
  }

  /** Admitted without the mirror, annotated and warned; denied when a policy enforces it. */
  private static InjectionPlan unavailable(
      JsonNode pod, PolicyMode mode, Selection.Unavailable unavailable, List<String> warnings) {
    if (mode.enforce()) {
      return InjectionPlan.denied(
          unavailable.reason(),
          "PypiMirrorPolicy %s enforces a PyPI mirror here, and it cannot be injected: %s"
              .formatted(mode.policy(), unavailable.problem()),
          warnings);
    }
    String skipped = unavailable.reason().skippedAnnotation();
    List<ObjectNode> operations = PodMetadata.annotate(pod, Map.of(Annotations.SKIPPED, skipped));
    List<String> all = new ArrayList<>(warnings);
    all.add(unavailable.warning());
    return InjectionPlan.skipped(unavailable.reason(), skipped, operations, all);
  }
}
