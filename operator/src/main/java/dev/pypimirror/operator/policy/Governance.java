package dev.pypimirror.operator.policy;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.SystemNamespaces;
import dev.pypimirror.operator.api.Undecodable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which policy governs a namespace: of those selecting it, the highest priority, then name order.
 */
public final class Governance {
  /** Best first: priority descending, then name ascending. */
  public static final Comparator<PypiMirrorPolicy> RANK =
      Comparator.<PypiMirrorPolicy>comparingInt(p -> -p.getSpec().getPriority())
          .thenComparing(p -> p.getMetadata().getName());

  private Governance() {}

  /**
   * Whether {@code policy} selects the namespace (never a system one or the operator's own; a
   * policy that cannot be read selects none: an Enforce entry the leader wrote for it before stays
   * and refuses, see {@code WebhookRoutes}). A policy whose namespaceSelector is invalid selects
   * nothing: its error stays its own ({@link #problems}), the other policies govern as before.
   */
  public static boolean selects(
      PypiMirrorPolicy policy,
      String namespace,
      Map<String, String> labels,
      String operatorNamespace) {
    if (SystemNamespaces.NAMES.contains(namespace)
        || namespace.equals(operatorNamespace)
        || Undecodable.is(policy)) {
      return false;
    }
    try {
      return LabelSelectors.matches(
          policy.getSpec().getNamespaceSelector(), withNameLabel(namespace, labels));
    } catch (LabelSelectors.InvalidSelectorException e) {
      return false;
    }
  }

  /**
   * What is wrong with the policy's selectors, each problem prefixed with its field (empty: valid).
   * Such a policy governs nothing and gets no webhook entry; its status says why.
   */
  public static List<String> problems(PypiMirrorPolicy policy) {
    List<String> problems = new ArrayList<>();
    if (policy.getSpec() == null || policy.getSpec().getNamespaceSelector() == null) {
      problems.add("spec.namespaceSelector is required");
    } else {
      LabelSelectors.problems(policy.getSpec().getNamespaceSelector())
          .forEach(p -> problems.add("spec.namespaceSelector." + p));
    }
    if (policy.getSpec() != null) {
      LabelSelectors.problems(policy.getSpec().getPodSelector())
          .forEach(p -> problems.add("spec.podSelector." + p));
    }
    return problems;
  }

  public static Optional<PypiMirrorPolicy> governing(
      Collection<PypiMirrorPolicy> policies,
      String namespace,
      Map<String, String> labels,
      String operatorNamespace) {
    return policies.stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(p -> selects(p, namespace, labels, operatorNamespace))
        .min(RANK);
  }

  /** Kubernetes labels every namespace with its name; clusters before 1.21 did not, so add it. */
  private static Map<String, String> withNameLabel(String namespace, Map<String, String> labels) {
    if (labels != null && labels.containsKey("kubernetes.io/metadata.name")) {
      return labels;
    }
    var all = new java.util.HashMap<String, String>(labels == null ? Map.of() : labels);
    all.put("kubernetes.io/metadata.name", namespace);
    return all;
  }
}
