package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.policy.LabelSelectors;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Which mirror, if any, a pod gets: the first rule of the injection contract that applies. */
public final class MirrorSelector {
  public static final Set<String> SYSTEM_NAMESPACES =
      Set.of("kube-system", "kube-public", "kube-node-lease");

  /** Label on a PypiMirror that a PypiMirrorPolicy made: the policy's name. */
  public static final String POLICY_LABEL = "pypimirror.dev/policy";

  /** The outcome of selection. */
  public sealed interface Selection {
    /** Not a target: no patch at all. */
    record Untouched(String why) implements Selection {}

    /** Inject this mirror. */
    record Use(PypiMirror mirror) implements Selection {}

    /** Asked for a mirror that cannot be used: admitted without it (or denied under Enforce). */
    record Unavailable(String skipped, String warning) implements Selection {}
  }

  /** What a pod is and where it is created. */
  public record PodFacts(
      Map<String, String> annotations, Map<String, String> labels, String namespace) {}

  private MirrorSelector() {}

  /**
   * @param policy the policy governing the namespace, or null
   * @param operatorNamespace the operator's own namespace, never injected; null when unknown
   * @param optedInByDefault treat a pod without injection annotations as opted in (offline)
   * @param warnings receives what the user should be told even when the pod is untouched
   */
  public static Selection select(
      PodFacts pod,
      PypiMirrorPolicy policy,
      String operatorNamespace,
      MirrorDirectory mirrors,
      boolean optedInByDefault,
      List<String> warnings) {
    String namespace = pod.namespace();
    Map<String, String> annotations = pod.annotations();
    if (SYSTEM_NAMESPACES.contains(namespace) || namespace.equals(operatorNamespace)) {
      return new Selection.Untouched("namespace " + namespace + " is never injected");
    }
    if (annotations.containsKey(Annotations.STATIC_POD)) {
      return new Selection.Untouched("static pod");
    }
    if (MirrorObjects.MANAGED_BY.equals(pod.labels().get(MirrorObjects.MANAGED_BY_LABEL))) {
      return new Selection.Untouched("the operator's own pod (a cache sync)");
    }
    boolean enforce =
        policy != null
            && policy.getSpec().getEnforcement() == PypiMirrorPolicySpec.Enforcement.Enforce;
    if ("false".equalsIgnoreCase(annotations.get(Annotations.INJECT))) {
      if (!enforce) {
        if (policy != null) {
          warnings.add(
              "pypimirror.dev/inject: \"false\" is honoured; PypiMirrorPolicy %s is Advisory, under Enforce this pod would get the mirror"
                  .formatted(policy.getMetadata().getName()));
        }
        return new Selection.Untouched("opted out");
      }
      warnings.add(
          "pypimirror.dev/inject: \"false\" is ignored: PypiMirrorPolicy %s enforces the mirror in namespace %s"
              .formatted(policy.getMetadata().getName(), namespace));
      return policyMirror(policy, namespace, mirrors);
    }
    String named = annotations.get(Annotations.MIRROR);
    if (named != null && !named.isBlank()) {
      return mirrors
          .get(namespace, named.trim())
          .<Selection>map(MirrorSelector::useIfReady)
          .orElseGet(
              () ->
                  notReady(
                      "PypiMirror %s/%s not found; the pod is admitted without a mirror"
                          .formatted(namespace, named.trim())));
    }
    if ("true".equalsIgnoreCase(annotations.get(Annotations.INJECT))) {
      return defaultMirror(namespace, mirrors.inNamespace(namespace));
    }
    if (policy != null && LabelSelectors.matches(policy.getSpec().getPodSelector(), pod.labels())) {
      return policyMirror(policy, namespace, mirrors);
    }
    if (optedInByDefault) {
      return policy != null
          ? policyMirror(policy, namespace, mirrors)
          : defaultMirror(namespace, mirrors.inNamespace(namespace));
    }
    return new Selection.Untouched("no injection annotation");
  }

  /**
   * The policy's own mirror (the PypiMirror it made); a policy without one: the namespace default.
   */
  static Selection policyMirror(
      PypiMirrorPolicy policy, String namespace, MirrorDirectory mirrors) {
    String name = policy.getMetadata().getName();
    if (policy.getSpec().getMirror() == null) {
      return defaultMirror(namespace, mirrors.inNamespace(namespace));
    }
    return mirrors
        .get(namespace, name)
        .filter(m -> name.equals(label(m, POLICY_LABEL)))
        .<Selection>map(MirrorSelector::useIfReady)
        .orElseGet(
            () ->
                notReady(
                    "PypiMirrorPolicy %s's mirror %s/%s does not exist (yet); the pod is admitted without a mirror"
                        .formatted(name, namespace, name)));
  }

  /** The namespace default: annotated default, else made by a policy, else the only mirror. */
  static Selection defaultMirror(String namespace, List<PypiMirror> candidates) {
    List<PypiMirror> sorted =
        candidates.stream().sorted(Comparator.comparing(m -> m.getMetadata().getName())).toList();
    for (var choice :
        List.<List<PypiMirror>>of(
            sorted.stream().filter(m -> "true".equals(annotation(m, Annotations.DEFAULT))).toList(),
            sorted.stream().filter(m -> label(m, POLICY_LABEL) != null).toList(),
            sorted)) {
      if (choice.size() == 1) {
        return useIfReady(choice.get(0));
      }
      if (choice.size() > 1) {
        return new Selection.Unavailable(
            Annotations.SKIPPED_NO_DEFAULT_MIRROR,
            "several PypiMirrors in namespace "
                + namespace
                + " could be the default ("
                + String.join(", ", choice.stream().map(m -> m.getMetadata().getName()).toList())
                + "); annotate one pypimirror.dev/default: \"true\" or name it with"
                + " pypimirror.dev/mirror; the pod is admitted without a mirror");
      }
    }
    return notReady(
        "no PypiMirror in namespace " + namespace + "; the pod is admitted without a mirror");
  }

  private static Selection useIfReady(PypiMirror mirror) {
    if (mirror.getStatus() == null || !mirror.getStatus().isReady()) {
      String why =
          mirror.getStatus() == null
              ? "not reconciled yet"
              : mirror
                  .getStatus()
                  .condition("Ready")
                  .map(c -> c.getReason() + ": " + c.getMessage())
                  .orElse("not reconciled yet");
      return notReady(
          "PypiMirror "
              + mirror.getMetadata().getNamespace()
              + "/"
              + mirror.getMetadata().getName()
              + " is not Ready ("
              + why
              + "); the pod is admitted without a mirror");
    }
    return new Selection.Use(mirror);
  }

  private static Selection notReady(String warning) {
    return new Selection.Unavailable(Annotations.SKIPPED_MIRROR_NOT_READY, warning);
  }

  private static String annotation(PypiMirror m, String key) {
    var a = m.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }

  private static String label(PypiMirror m, String key) {
    var l = m.getMetadata().getLabels();
    return l == null ? null : l.get(key);
  }
}
