package dev.pypimirror.operator.policy;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.owned.CacheSync;
import dev.pypimirror.operator.owned.OwnedProxyDeployment;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The egress NetworkPolicy a policy with {@code restrictEgress: true} keeps in each namespace it
 * governs: the pods its podSelector selects may reach their mirror's caching proxy, DNS, and the
 * policy's {@code allowedEgressCIDRs}, nothing else. Pure; the policy reconciler writes it.
 */
public final class EgressPolicies {
  /** The labels of the cluster DNS pods (kube-dns and CoreDNS both carry it). */
  static final Map<String, String> DNS_PODS = Map.of("k8s-app", "kube-dns");

  private EgressPolicies() {}

  /** The NetworkPolicy's name in each namespace. */
  public static String name(String policy) {
    return "pypi-mirror-" + policy + "-egress";
  }

  /**
   * The NetworkPolicy for {@code namespace}, or empty when the policy asks for none or cannot have
   * one: it must enforce, set restrictEgress, make a mirror served by a proxy (without a proxy the
   * pods would need the indexes themselves, which a CIDR list cannot name by URL) and have a
   * podSelector (a NetworkPolicy selects pods by labels only, never by the annotation a pod asks
   * for a mirror with).
   */
  public static Optional<NetworkPolicy> desired(PypiMirrorPolicy policy, String namespace) {
    if (!restricts(policy)) {
      return Optional.empty();
    }
    PypiMirrorPolicySpec spec = policy.getSpec();
    String name = policy.getMetadata().getName();
    List<NetworkPolicyEgressRule> egress = new ArrayList<>();
    egress.add(
        new NetworkPolicyEgressRuleBuilder()
            .addNewTo()
            .withPodSelector(
                new LabelSelectorBuilder()
                    .withMatchLabels(OwnedProxyDeployment.selector(name))
                    .build())
            .endTo()
            .withPorts(tcp(MirrorObjects.PROXY_PORT))
            .build());
    egress.add(
        new NetworkPolicyEgressRuleBuilder()
            .addNewTo()
            .withNamespaceSelector(new LabelSelector())
            .withPodSelector(new LabelSelectorBuilder().withMatchLabels(DNS_PODS).build())
            .endTo()
            .withPorts(port("UDP", 53), port("TCP", 53))
            .build());
    List<String> cidrs =
        spec.getAllowedEgressCIDRs() == null ? List.of() : spec.getAllowedEgressCIDRs();
    if (!cidrs.isEmpty()) {
      var rule = new NetworkPolicyEgressRuleBuilder();
      cidrs.forEach(cidr -> rule.addNewTo().withNewIpBlock().withCidr(cidr).endIpBlock().endTo());
      egress.add(rule.build());
    }
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY);
    labels.put(PolicyMirrors.MADE_BY_POLICY_LABEL, name);
    return Optional.of(
        new NetworkPolicyBuilder()
            .withNewMetadata()
            .withName(name(name))
            .withNamespace(namespace)
            .withLabels(labels)
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion(policy.getApiVersion())
                    .withKind(policy.getKind())
                    .withName(name)
                    .withUid(policy.getMetadata().getUid())
                    .withController(true)
                    .withBlockOwnerDeletion(true)
                    .build())
            .endMetadata()
            .withNewSpec()
            .withPodSelector(copy(spec.getPodSelector()))
            .withPolicyTypes("Egress")
            .withEgress(egress)
            .endSpec()
            .build());
  }

  /** Whether the policy has a NetworkPolicy written in the namespaces it governs. */
  static boolean restricts(PypiMirrorPolicy policy) {
    PypiMirrorPolicySpec spec = policy.getSpec();
    if (!PolicyRules.enforces(policy)
        || !spec.isRestrictEgress()
        || spec.getPodSelector() == null
        || spec.getMirror() == null) {
      return false;
    }
    CacheSpec cache = spec.getMirror().getCache();
    return cache != null && cache.isProxied();
  }

  /**
   * Why the policy's egress NetworkPolicy also cuts the mirror's own caching proxy or cache sync
   * pods off from the upstreams they fetch from (its podSelector selects their labels, as {@code
   * {}} does); empty when it does not, or writes none. The NetworkPolicy is written anyway, so
   * builds stay restricted (closed), and the policy says what to change.
   */
  public static Optional<String> selectsOwnPods(PypiMirrorPolicy policy) {
    if (!restricts(policy)) {
      return Optional.empty();
    }
    String name = policy.getMetadata().getName();
    LabelSelector selector = policy.getSpec().getPodSelector();
    List<String> selected = new ArrayList<>();
    try {
      for (String component : List.of(OwnedProxyDeployment.COMPONENT, CacheSync.COMPONENT)) {
        if (LabelSelectors.matches(selector, MirrorObjects.labels(name, component))) {
          selected.add("app.kubernetes.io/component=" + component);
        }
      }
    } catch (LabelSelectors.InvalidSelectorException e) {
      return Optional.empty(); // refused as invalid elsewhere
    }
    return selected.isEmpty()
        ? Optional.empty()
        : Optional.of(
            ("restrictEgress also cuts the mirror's own caching proxy or cache sync pods (%s) off"
                    + " from the upstreams they fetch from: the podSelector selects them too; select"
                    + " the build pods by a label of their own instead")
                .formatted(String.join(", ", selected)));
  }

  private static NetworkPolicyPort tcp(int port) {
    return port("TCP", port);
  }

  private static NetworkPolicyPort port(String protocol, int port) {
    NetworkPolicyPort p = new NetworkPolicyPort();
    p.setProtocol(protocol);
    p.setPort(new IntOrString(port));
    return p;
  }

  private static LabelSelector copy(LabelSelector selector) {
    return new LabelSelectorBuilder(selector).build();
  }
}
