package dev.pypimirror.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.policy.EgressPolicies;
import dev.pypimirror.operator.policy.EgressPoliciesTest;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A policy's settings that do nothing as written are named, each with why, and exactly those: each
 * restrictEgress case agrees with {@link EgressPolicies#desired}, each allowedEnv case with {@link
 * EnvAllowList}.
 */
class IneffectiveSettingsTest {
  @Test
  void aRestrictingPolicyThatGetsItsNetworkPolicyHasNone() {
    PypiMirrorPolicy policy = EgressPoliciesTest.restricting();
    policy.getSpec().setAllowedEnv(List.of("HTTPS_PROXY", "https_proxy", "PIP_NO_CACHE_DIR"));

    assertThat(EgressPolicies.desired(policy, "ml")).isPresent();
    assertThat(IneffectiveSettings.of(policy)).isEmpty();
  }

  @Test
  void restrictEgressWithoutAProxyMirrorAPodSelectorOrEnforceIsNamedAndWritesNothing() {
    PypiMirrorPolicy mounted = EgressPoliciesTest.restricting();
    mounted.getSpec().getMirror().getCache().setServe(CacheSpec.Serve.Mount);
    PypiMirrorPolicy noMirror = EgressPoliciesTest.restricting();
    noMirror.getSpec().setMirror(null);
    PypiMirrorPolicy noPodSelector = EgressPoliciesTest.restricting();
    noPodSelector.getSpec().setPodSelector(null);
    PypiMirrorPolicy advisory = EgressPoliciesTest.restricting();
    advisory.getSpec().setEnforcement(PypiMirrorPolicySpec.Enforcement.Advisory);

    for (PypiMirrorPolicy policy : List.of(mounted, noMirror, noPodSelector, advisory)) {
      assertThat(EgressPolicies.desired(policy, "ml")).isEmpty();
    }
    assertThat(IneffectiveSettings.of(mounted))
        .containsExactly(
            "restrictEgress has no effect: the policy's mirror is not served by its caching proxy"
                + " (mirror.cache.serve: Proxy), and without one the pods would need the indexes"
                + " themselves, which a NetworkPolicy cannot name by URL; no NetworkPolicy is"
                + " written");
    assertThat(IneffectiveSettings.of(noMirror)).isEqualTo(IneffectiveSettings.of(mounted));
    assertThat(IneffectiveSettings.of(noPodSelector))
        .containsExactly(
            "restrictEgress has no effect without a podSelector: a NetworkPolicy selects pods by"
                + " labels only; no NetworkPolicy is written");
    assertThat(IneffectiveSettings.of(advisory))
        .containsExactly(
            "restrictEgress has no effect: the policy does not enforce (enforcement: Enforce is"
                + " needed); no NetworkPolicy is written");
  }

  @Test
  void aPodSelectorThatAlsoSelectsTheMirrorsOwnProxyAndSyncPodsIsNamedAndStillRestricts() {
    PypiMirrorPolicy everyPod = EgressPoliciesTest.restricting();
    everyPod.getSpec().setPodSelector(new io.fabric8.kubernetes.api.model.LabelSelector());
    PypiMirrorPolicy proxyOnly = EgressPoliciesTest.restricting();
    proxyOnly
        .getSpec()
        .setPodSelector(
            new io.fabric8.kubernetes.api.model.LabelSelectorBuilder()
                .withMatchLabels(java.util.Map.of("app.kubernetes.io/component", "proxy"))
                .build());

    assertThat(EgressPolicies.desired(everyPod, "ml")).isPresent(); // builds stay restricted
    assertThat(IneffectiveSettings.of(everyPod))
        .containsExactly(
            "restrictEgress also cuts the mirror's own caching proxy or cache sync pods"
                + " (app.kubernetes.io/component=proxy, app.kubernetes.io/component=cache-sync)"
                + " off from the upstreams they fetch from: the podSelector selects them too;"
                + " select the build pods by a label of their own instead");
    assertThat(IneffectiveSettings.of(proxyOnly))
        .singleElement()
        .asString()
        .contains("(app.kubernetes.io/component=proxy)");
    assertThat(IneffectiveSettings.of(EgressPoliciesTest.restricting())).isEmpty();
  }

  @Test
  void allowedEgressCidrsWithoutRestrictEgressIsNamed() {
    PypiMirrorPolicy policy = EgressPoliciesTest.restricting();
    policy.getSpec().setRestrictEgress(false);

    assertThat(IneffectiveSettings.of(policy))
        .containsExactly("allowedEgressCIDRs has no effect without restrictEgress: true");
  }

  @Test
  void allowedEnvNamingWhatTheAllowListNeverLetsThroughOrKeepsAnywayIsNamed() {
    List<String> allowed =
        List.of(
            "PIP_INDEX_URL",
            "PIP_PYPI_URL",
            "pip_proxy",
            "UV_INDEX",
            "PIP_CONFIG_FILE",
            "PIP_NO_CACHE_DIR",
            "PYTHONPATH",
            "HOME",
            "JAVA_HOME");
    PypiMirrorPolicy policy = EgressPoliciesTest.restricting();
    policy.getSpec().setAllowedEnv(allowed);

    assertThat(IneffectiveSettings.of(policy))
        .containsExactly(
            "allowedEnv names PIP_INDEX_URL, PIP_PYPI_URL, pip_proxy, UV_INDEX, PIP_CONFIG_FILE,"
                + " which the allow-list removes whatever allowedEnv says: each names an index or"
                + " a source of packages, or changes where pip or uv connect, whom they trust or"
                + " which interpreter runs",
            "allowedEnv names HOME, JAVA_HOME, which the allow-list keeps without it (and HOME is"
                + " held to a literal absolute path given once whatever allowedEnv says)");
    // each agrees with the allow-list itself
    for (String name : List.of("PIP_INDEX_URL", "PIP_PYPI_URL", "pip_proxy", "UV_INDEX")) {
      assertThat(EnvAllowList.verdict(name, java.util.Set.copyOf(allowed)))
          .as(name)
          .isEqualTo(EnvAllowList.Verdict.REMOVE);
    }
    assertThat(EnvAllowList.verdict("JAVA_HOME", java.util.Set.of()))
        .isEqualTo(EnvAllowList.Verdict.KEEP);

    policy.getSpec().setEnforcement(PypiMirrorPolicySpec.Enforcement.Advisory);
    policy.getSpec().setRestrictEgress(false);
    policy.getSpec().setAllowedEgressCIDRs(null);
    assertThat(IneffectiveSettings.of(policy))
        .containsExactly(
            "allowedEnv has no effect: the allow-list holds under enforcement: Enforce only");
  }
}
