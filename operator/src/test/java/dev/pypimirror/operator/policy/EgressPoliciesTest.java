package dev.pypimirror.operator.policy;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.testing.Policies;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** restrictEgress: the NetworkPolicy a policy keeps in each namespace it governs. */
public class EgressPoliciesTest {
  public static PypiMirrorPolicy restricting() {
    PypiMirrorSpec mirror =
        withCache(spec(https("https://devpi.corp.example/simple/")), "/tmp/pypi");
    mirror.getCache().setServe(CacheSpec.Serve.Proxy);
    PypiMirrorPolicy policy = Policies.policy("corp-builds", Map.of("team", "ml"), mirror, true);
    policy.getMetadata().setUid("uid-1");
    policy.getSpec().setPodSelector(Policies.selector(Map.of("role", "image-build")));
    policy.getSpec().setRestrictEgress(true);
    policy.getSpec().setAllowedEgressCIDRs(List.of("10.20.0.0/16", "fd00::/8"));
    return policy;
  }

  @Test
  void theSelectedPodsReachOnlyTheirMirrorsProxyDnsAndTheAllowedCidrs() {
    NetworkPolicy np = EgressPolicies.desired(restricting(), "ml").orElseThrow();

    assertThat(np.getMetadata().getName()).isEqualTo("pypi-mirror-corp-builds-egress");
    assertThat(np.getMetadata().getNamespace()).isEqualTo("ml");
    assertThat(np.getMetadata().getLabels())
        .containsEntry("pypimirror.dev/policy", "corp-builds")
        .containsEntry("app.kubernetes.io/managed-by", "pypi-mirror-operator");
    assertThat(np.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo("uid-1"));
    assertThat(np.getSpec().getPodSelector().getMatchLabels())
        .containsExactly(Map.entry("role", "image-build"));
    assertThat(np.getSpec().getPolicyTypes()).containsExactly("Egress");
    assertThat(np.getSpec().getIngress()).isNullOrEmpty();
    var egress = np.getSpec().getEgress();
    assertThat(egress).hasSize(3);
    // the proxy: pods of the policy's mirror's proxy Deployment, in the same namespace
    NetworkPolicyPeer proxy = egress.get(0).getTo().get(0);
    assertThat(proxy.getNamespaceSelector()).isNull();
    assertThat(proxy.getPodSelector().getMatchLabels())
        .containsEntry("app.kubernetes.io/component", "proxy")
        .containsEntry("app.kubernetes.io/instance", "corp-builds")
        .containsEntry("pypimirror.dev/mirror", "corp-builds");
    assertThat(egress.get(0).getPorts())
        .extracting(NetworkPolicyPort::getProtocol, NetworkPolicyPort::getPort)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("TCP", new IntOrString(8080)));
    // DNS: the cluster DNS pods in any namespace, UDP and TCP 53
    NetworkPolicyPeer dns = egress.get(1).getTo().get(0);
    assertThat(dns.getNamespaceSelector().getMatchLabels()).isNullOrEmpty();
    assertThat(dns.getPodSelector().getMatchLabels())
        .containsExactly(Map.entry("k8s-app", "kube-dns"));
    assertThat(egress.get(1).getPorts())
        .extracting(NetworkPolicyPort::getProtocol, p -> p.getPort().getIntVal())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("UDP", 53),
            org.assertj.core.groups.Tuple.tuple("TCP", 53));
    // and the CIDRs, on any port
    assertThat(egress.get(2).getTo())
        .extracting(p -> p.getIpBlock().getCidr())
        .containsExactly("10.20.0.0/16", "fd00::/8");
    assertThat(egress.get(2).getPorts()).isNullOrEmpty();
  }

  @Test
  void withoutCidrsThereIsNoThirdRule() {
    PypiMirrorPolicy policy = restricting();
    policy.getSpec().setAllowedEgressCIDRs(List.of());

    assertThat(EgressPolicies.desired(policy, "ml").orElseThrow().getSpec().getEgress()).hasSize(2);
  }

  @Test
  void noNetworkPolicyUnlessEnforcedRestrictedProxiedAndSelectedByLabels() {
    PypiMirrorPolicy advisory = restricting();
    advisory
        .getSpec()
        .setEnforcement(dev.pypimirror.operator.api.PypiMirrorPolicySpec.Enforcement.Advisory);
    PypiMirrorPolicy notAsked = restricting();
    notAsked.getSpec().setRestrictEgress(false);
    PypiMirrorPolicy mounted = restricting();
    mounted.getSpec().getMirror().getCache().setServe(CacheSpec.Serve.Mount);
    PypiMirrorPolicy noPodSelector = restricting();
    noPodSelector.getSpec().setPodSelector(null);
    PypiMirrorPolicy noMirror = restricting();
    noMirror.getSpec().setMirror(null);

    for (PypiMirrorPolicy policy : List.of(advisory, notAsked, mounted, noPodSelector, noMirror)) {
      assertThat(EgressPolicies.desired(policy, "ml")).isEmpty();
    }
  }
}
