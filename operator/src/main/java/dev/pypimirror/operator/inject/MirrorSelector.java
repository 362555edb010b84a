package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.api.Annotations;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.api.SystemNamespaces;
import dev.pypimirror.operator.api.Undecodable;
import dev.pypimirror.operator.policy.LabelSelectors;
import dev.pypimirror.operator.policy.PolicyMirrors;
import dev.pypimirror.operator.policy.PolicyRules;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Which mirror, if any, a pod gets: the first rule of the injection contract that applies. */
public final class MirrorSelector {
  /** The outcome of selection. */
  public sealed interface Selection {
    /** Not a target: no patch at all. */
    record Untouched(Reason reason, String why) implements Selection {}

    /** Inject this mirror. */
    record Use(PypiMirror mirror) implements Selection {}

    /**
     * Asked for a mirror that cannot be used: admitted without it (or denied under Enforce).
     *
     * @param problem why the mirror cannot be used, as the user is told it
     */
    record Unavailable(Reason reason, String problem) implements Selection {
      /** What a pod admitted without its mirror is warned. */
      public String warning() {
        return problem + "; the pod is admitted without a mirror";
      }
    }
  }

  /**
   * What a pod is and where it is created.
   *
   * @param requester who asks: {@link Requester#CLIENT} when unknown
   */
  public record PodFacts(
      Map<String, String> annotations,
      Map<String, String> labels,
      String namespace,
      Requester requester) {
    public PodFacts(Map<String, String> annotations, Map<String, String> labels, String namespace) {
      this(annotations, labels, namespace, Requester.CLIENT);
    }
  }

  private MirrorSelector() {}

  /**
   * The one rule for pods that are never injected, whatever asks: system namespaces and the
   * operator's own, and static pods. Under Enforce a static-pod annotation counts only on a pod a
   * node creates (anyone else can write it). Nothing else on a pod exempts it: the operator's own
   * cache-sync pods are decided like any pod.
   */
  public static Optional<Selection.Untouched> neverInjected(
      PodFacts pod, String operatorNamespace, boolean enforce) {
    String namespace = pod.namespace();
    if (SystemNamespaces.NAMES.contains(namespace) || namespace.equals(operatorNamespace)) {
      return Optional.of(
          new Selection.Untouched(
              Reason.NAMESPACE_NEVER_INJECTED, "namespace " + namespace + " is never injected"));
    }
    if (pod.annotations().containsKey(Annotations.STATIC_POD)
        && (!enforce || pod.requester() == Requester.NODE)) {
      return Optional.of(new Selection.Untouched(Reason.STATIC_POD, "static pod"));
    }
    return Optional.empty();
  }

  /**
   * @param policy the policy governing the namespace, or null
   * @param operatorNamespace the operator's own namespace, never injected; null when unknown
   * @param warnings receives what the user should be told even when the pod is untouched
   */
  public static Selection select(
      PodFacts pod,
      PypiMirrorPolicy policy,
      String operatorNamespace,
      MirrorDirectory mirrors,
      List<String> warnings) {
    String namespace = pod.namespace();
    Map<String, String> annotations = pod.annotations();
    boolean enforce = PolicyRules.enforces(policy);
    Optional<Selection.Untouched> never = neverInjected(pod, operatorNamespace, enforce);
    if (never.isPresent()) {
      return never.get();
    }
    return switch (asked(pod, policy)) {
      case OPTED_OUT -> {
        if (!enforce) {
          if (policy != null) {
            warnings.add(
                "pypimirror.dev/inject: \"false\" is honoured; PypiMirrorPolicy %s is Advisory, under Enforce this pod would get the mirror"
                    .formatted(policy.getMetadata().getName()));
          }
          yield new Selection.Untouched(Reason.OPTED_OUT, "opted out");
        }
        warnings.add(
            "pypimirror.dev/inject: \"false\" is ignored: PypiMirrorPolicy %s enforces the mirror in namespace %s"
                .formatted(policy.getMetadata().getName(), namespace));
        yield policyMirror(policy, namespace, mirrors);
      }
      case NAMED_MIRROR -> {
        String named = annotations.get(Annotations.MIRROR).trim();
        yield mirrors
            .get(namespace, named)
            .<Selection>map(m -> useIfReady(m, policy))
            .orElseGet(
                () ->
                    new Selection.Unavailable(
                        Reason.MIRROR_NOT_FOUND,
                        "PypiMirror %s/%s not found".formatted(namespace, named)));
      }
      case NAMESPACE_DEFAULT -> defaultMirror(namespace, mirrors.inNamespace(namespace), policy);
      case POLICY_SELECTED -> policyMirror(policy, namespace, mirrors);
      default -> {
        if (pod.requester() == Requester.OFFLINE_OPT_IN) {
          yield policy != null
              ? policyMirror(policy, namespace, mirrors)
              : defaultMirror(namespace, mirrors.inNamespace(namespace), null);
        }
        yield new Selection.Untouched(Reason.NOT_SELECTED, "no injection annotation");
      }
    };
  }

  /**
   * The rules of the contract's "Which pods" list, in its order (numbered from 1): the first that
   * applies to a pod decides what it gets.
   */
  public enum Rule {
    /** System namespaces, the operator's own, static pods. */
    NEVER_INJECTED,
    /** {@code pypimirror.dev/inject: "false"} (ignored under Enforce). */
    OPTED_OUT,
    /** {@code pypimirror.dev/mirror: NAME}. */
    NAMED_MIRROR,
    /** {@code pypimirror.dev/inject: "true"}: the namespace's default mirror. */
    NAMESPACE_DEFAULT,
    /** Selected by the governing policy's podSelector: the policy's mirror. */
    POLICY_SELECTED,
    /** None of these: untouched. */
    NOT_ASKED;

    /** The rule's number in the contract's list. */
    public int number() {
      return ordinal() + 1;
    }
  }

  /** Which rule of the contract decides for {@code pod}; {@link #select} follows it. */
  public static Rule rule(PodFacts pod, PypiMirrorPolicy policy, String operatorNamespace) {
    return neverInjected(pod, operatorNamespace, PolicyRules.enforces(policy)).isPresent()
        ? Rule.NEVER_INJECTED
        : asked(pod, policy);
  }

  /** Rules 2 to 6: what the pod's annotations and labels ask for. */
  private static Rule asked(PodFacts pod, PypiMirrorPolicy policy) {
    Map<String, String> annotations = pod.annotations();
    if ("false".equalsIgnoreCase(annotations.get(Annotations.INJECT))) {
      return Rule.OPTED_OUT;
    }
    String named = annotations.get(Annotations.MIRROR);
    if (named != null && !named.isBlank()) {
      return Rule.NAMED_MIRROR;
    }
    if ("true".equalsIgnoreCase(annotations.get(Annotations.INJECT))) {
      return Rule.NAMESPACE_DEFAULT;
    }
    if (policy != null && LabelSelectors.matches(policy.getSpec().getPodSelector(), pod.labels())) {
      return Rule.POLICY_SELECTED;
    }
    return Rule.NOT_ASKED;
  }

  /**
   * The policy's own mirror (the PypiMirror it made); a policy without one: the namespace default.
   */
  public static Selection policyMirror(
      PypiMirrorPolicy policy, String namespace, MirrorDirectory mirrors) {
    String name = policy.getMetadata().getName();
    if (policy.getSpec().getMirror() == null) {
      return defaultMirror(namespace, mirrors.inNamespace(namespace), policy);
    }
    return mirrors
        .get(namespace, name)
        .filter(m -> name.equals(PolicyMirrors.madeByPolicy(m)))
        .<Selection>map(m -> useIfReady(m, policy))
        .orElseGet(
            () ->
                new Selection.Unavailable(
                    Reason.MIRROR_NOT_FOUND,
                    "PypiMirrorPolicy %s's mirror %s/%s does not exist (yet)"
                        .formatted(name, namespace, name)));
  }

  /** The namespace default: annotated default, else made by a policy, else the only mirror. */
  static Selection defaultMirror(
      String namespace, List<PypiMirror> candidates, PypiMirrorPolicy policy) {
    List<PypiMirror> sorted =
        candidates.stream().sorted(Comparator.comparing(m -> m.getMetadata().getName())).toList();
    for (var choice :
        List.<List<PypiMirror>>of(
            sorted.stream().filter(m -> "true".equals(annotation(m, Annotations.DEFAULT))).toList(),
            sorted.stream().filter(m -> PolicyMirrors.madeByPolicy(m) != null).toList(),
            sorted)) {
      if (choice.size() == 1) {
        return useIfReady(choice.get(0), policy);
      }
      if (choice.size() > 1) {
        return new Selection.Unavailable(
            Reason.NO_DEFAULT_MIRROR,
            "several PypiMirrors in namespace "
                + namespace
                + " could be the default ("
                + String.join(", ", choice.stream().map(m -> m.getMetadata().getName()).toList())
                + "); annotate one pypimirror.dev/default: \"true\" or name it with"
                + " pypimirror.dev/mirror");
      }
    }
    return new Selection.Unavailable(
        Reason.MIRROR_NOT_FOUND, "no PypiMirror in namespace " + namespace);
  }

  /**
   * The mirror, if its status says Ready for its current generation (so the files the pod mounts
   * are the ones its spec renders) and its spec obeys the governing policy now: the status is not
   * taken for proof of either.
   */
  static Selection useIfReady(PypiMirror mirror, PypiMirrorPolicy policy) {
    String name = mirror.getMetadata().getNamespace() + "/" + mirror.getMetadata().getName();
    if (Undecodable.is(mirror)) {
      return new Selection.Unavailable(Reason.MIRROR_NOT_READY, Undecodable.describe(mirror));
    }
    PypiMirrorStatus status = mirror.getStatus();
    Optional<Condition> ready =
        status == null
            ? Optional.empty()
            : status.condition(Conditions.READY).filter(c -> c != null);
    if (status == null || !status.isReady() || ready.isEmpty()) {
      String why =
          ready.map(c -> c.getReason() + ": " + c.getMessage()).orElse("not reconciled yet");
      return new Selection.Unavailable(
          Reason.MIRROR_NOT_READY, "PypiMirror %s is not Ready (%s)".formatted(name, why));
    }
    long generation = orZero(mirror.getMetadata().getGeneration());
    long observed = orZero(status.getObservedGeneration());
    long readyObserved = orZero(ready.get().getObservedGeneration());
    if (observed != generation || readyObserved != generation) {
      return new Selection.Unavailable(
          Reason.MIRROR_STALE,
          "PypiMirror %s's status describes generation %d (Ready: %d), not its current generation %d"
              .formatted(name, observed, readyObserved, generation));
    }
    if (policy != null) {
      List<String> violations = PolicyRules.violations(policy, mirror.getSpec());
      if (!violations.isEmpty()) {
        return new Selection.Unavailable(
            Reason.MIRROR_POLICY_VIOLATION,
            "PypiMirror %s breaks its namespace's policy (%s)"
                .formatted(name, String.join("; ", violations)));
      }
    }
    return new Selection.Use(mirror);
  }

  private static long orZero(Long value) {
    return value == null ? 0 : value;
  }

  private static String annotation(PypiMirror m, String key) {
    var a = m.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }
}
