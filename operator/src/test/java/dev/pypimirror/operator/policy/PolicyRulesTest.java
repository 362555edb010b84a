package dev.pypimirror.operator.policy;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static dev.pypimirror.operator.testing.Mirrors.withPublic;
import static dev.pypimirror.operator.testing.Policies.policy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.testing.Mirrors;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyRulesTest {
  static PypiMirrorPolicy strict() {
    PypiMirrorPolicy p = policy("corp-builds", Map.of("team", "ml"), null, true);
    p.getSpec().setAllowedIndexPrefixes(List.of("https://devpi.corp.example/"));
    p.getSpec().setAllowPublicIndex(false);
    p.getSpec().setAllowInsecureHttp(false);
    return p;
  }

  @Test
  void aCompliantMirrorHasNoViolations() {
    PypiMirrorSpec ok =
        withCache(spec(https("https://devpi.corp.example/root/pypi/+simple/")), "/tmp/pypi");
    ok.getIndexes().add(new IndexSpec("file:///tmp/pypi", false));
    ok.setOffline(true);

    assertThat(PolicyRules.violations(strict(), ok)).isEmpty();
  }

  @Test
  void aProxyIsNoWayAroundAPolicyButItsOwnHttpUrlIsAllowed() {
    PypiMirrorSpec proxied =
        Mirrors.withProxy(
            spec(
                https("https://devpi.corp.example/root/pypi/+simple/"),
                https("https://evil.example/simple/")));
    proxied.setOffline(true);
    PypiMirrorPolicy single = strict();
    single.getSpec().setRequireSingleIndexForPip(true);

    // every upstream obeys the policy; pip gets the proxy's plain-http URL alone, which is fine
    assertThat(PolicyRules.violations(single, proxied))
        .containsExactly(
            "PypiMirrorPolicy corp-builds: spec.indexes[1].url https://evil.example/simple/ is not under allowedIndexPrefixes [https://devpi.corp.example/]");
    proxied.getIndexes().remove(1);
    assertThat(PolicyRules.violations(single, proxied)).isEmpty();
    proxied.setOffline(false);
    assertThat(PolicyRules.violations(single, proxied))
        .singleElement()
        .asString()
        .contains("allowPublicIndex is false");
  }

  @Test
  void eachRuleIsNamedWithThePolicy() {
    PypiMirrorSpec bad =
        spec(https("https://evil.example/simple/"), trustedHttp("http://devpi.corp.example/x/"));

    assertThat(PolicyRules.violations(strict(), bad))
        .containsExactly(
            "PypiMirrorPolicy corp-builds: spec.indexes[0].url https://evil.example/simple/ is not under allowedIndexPrefixes [https://devpi.corp.example/]",
            "PypiMirrorPolicy corp-builds: allowInsecureHttp is false, but spec.indexes[1].url is plain http: http://devpi.corp.example/x/",
            "PypiMirrorPolicy corp-builds: spec.indexes[1].url http://devpi.corp.example/x/ is not under allowedIndexPrefixes [https://devpi.corp.example/]",
            "PypiMirrorPolicy corp-builds: allowPublicIndex is false, but the mirror uses the public index (set offline: true or publicIndex.enabled: false)");
  }

  @Test
  void requireSingleIndexForPipRefusesEveryMirrorThatGivesPipMoreThanOneIndex() {
    PypiMirrorPolicy single = policy("one-index", Map.of("team", "ml"), null, true);
    single.getSpec().setRequireSingleIndexForPip(true);
    PypiMirrorSpec mixed = spec(https("https://devpi.corp.example/simple/"));
    PypiMirrorSpec twoPrivate =
        spec(https("https://devpi.corp.example/simple/"), https("https://b.corp.example/simple/"));
    twoPrivate.setOffline(true);
    PypiMirrorSpec one = spec(https("https://devpi.corp.example/simple/"));
    one.setOffline(true);

    assertThat(PolicyRules.violations(single, mixed))
        .containsExactly(
            "PypiMirrorPolicy one-index: requireSingleIndexForPip is true, but pip gets 2 indexes (https://devpi.corp.example/simple/, https://pypi.org/simple) and installs the highest version found on any of them (use serve: Proxy, or a single index with offline: true or publicIndex.enabled: false)");
    assertThat(PolicyRules.violations(single, twoPrivate))
        .singleElement()
        .asString()
        .contains("requireSingleIndexForPip is true, but pip gets 2 indexes");
    assertThat(PolicyRules.violations(single, one)).isEmpty();
    single.getSpec().setRequireSingleIndexForPip(false);
    assertThat(PolicyRules.violations(single, mixed)).isEmpty();
  }

  @Test
  void everyUrlACacheSyncUsesObeysThePolicy() {
    // a synced cache serves what its upstream gave it
    PypiMirrorSpec synced = withCache(spec(), "/tmp/pypi");
    synced.setOffline(true);
    synced.getCache().setPackages(List.of("requests==2.32.3"));
    synced.getCache().setSync(new dev.pypimirror.operator.api.SyncSpec());

    synced.getCache().getSync().setUpstream("http://devpi.corp.example.evil.com/simple/");
    assertThat(PolicyRules.violations(strict(), synced))
        .containsExactly(
            "PypiMirrorPolicy corp-builds: allowInsecureHttp is false, but spec.cache.sync.upstream is plain http: http://devpi.corp.example.evil.com/simple/",
            "PypiMirrorPolicy corp-builds: spec.cache.sync.upstream http://devpi.corp.example.evil.com/simple/ is not under allowedIndexPrefixes [https://devpi.corp.example/]");

    synced.getCache().getSync().setUpstream("https://devpi.corp.example/root/pypi/../../x/");
    assertThat(PolicyRules.violations(strict(), synced))
        .singleElement()
        .asString()
        .startsWith("PypiMirrorPolicy corp-builds: spec.cache.sync.upstream");

    synced.getCache().getSync().setUpstream("https://devpi.corp.example/root/pypi/+simple/");
    assertThat(PolicyRules.violations(strict(), synced)).isEmpty();

    // with no index of its own and no upstream, the sync falls back to the public index
    synced.getCache().getSync().setUpstream(null);
    assertThat(PolicyRules.violations(strict(), synced))
        .containsExactly(
            "PypiMirrorPolicy corp-builds: allowPublicIndex is false, but the cache sync downloads from the public index (the mirror has no index of its own; set spec.cache.sync.upstream)");

    // the mirror's own indexes are its upstream: checked once, as indexes
    PypiMirrorSpec own = withCache(spec(https("https://evil.example/simple/")), "/tmp/pypi");
    own.setOffline(true);
    own.getCache().setPackages(List.of("six"));
    assertThat(PolicyRules.violations(strict(), own))
        .containsExactly(
            "PypiMirrorPolicy corp-builds: spec.indexes[0].url https://evil.example/simple/ is not under allowedIndexPrefixes [https://devpi.corp.example/]");

    // an unsynced cache downloads nothing: its upstream is not used
    synced.getCache().setPackages(List.of());
    synced.getCache().getSync().setUpstream("http://evil.example/");
    assertThat(PolicyRules.violations(strict(), synced)).isEmpty();
  }

  @ParameterizedTest(name = "{0} under {1}: {2}")
  @CsvSource({
    "https://devpi.corp.example/root/pypi/+simple/, https://devpi.corp.example/root/pypi/, true",
    "HTTPS://DEVPI.corp.example:443/root/pypi/+simple/, https://devpi.corp.example/root/pypi/, true",
    "https://devpi.corp.example/root/pypi, https://devpi.corp.example/root/pypi/, true",
    "https://devpi.corp.example/root/p%79pi/+simple/, https://devpi.corp.example/root/pypi/, true",
    "https://devpi.corp.example/root/pypi/+simple/, https://devpi.corp.example, true",
    "https://devpi.corp.example/root/pypi/../../other/+simple/, https://devpi.corp.example/root/pypi/, false",
    "https://devpi.corp.example/root/pypi/%2e%2E/other/, https://devpi.corp.example/root/pypi/, false",
    "https://devpi.corp.example/root/pypi/./x/, https://devpi.corp.example/root/pypi/, false",
    "https://devpi.corp.example/root/pypi%2f..%2fother/, https://devpi.corp.example/root/pypi/, false",
    "https://devpi.corp.example/root/pypi-other/, https://devpi.corp.example/root/pypi, false",
    "https://devpi.corp.example.evil.com/root/pypi/, https://devpi.corp.example, false",
    "https://devpi.corp.example@evil.com/root/pypi/, https://devpi.corp.example/, false",
    "https://user:pw@devpi.corp.example/root/pypi/, https://devpi.corp.example/, false",
    "https://devpi.corp.example:8443/root/pypi/, https://devpi.corp.example/, false",
    "http://devpi.corp.example/root/pypi/, https://devpi.corp.example/, false",
    "https://devpi.corp.example\\@evil.com/, https://devpi.corp.example/, false",
    "https://devpi.corp.example./root/pypi/, https://devpi.corp.example/, false",
    "https://devpi.corp.example/root/pypi/?x=/../, https://devpi.corp.example/root/pypi/, false",
    "https://devpi.corp.example/root/pypi/%0a, https://devpi.corp.example/root/pypi/, false",
    "https://devpi.corp.example/root/pypi/, https://devpi.corp.example/root/pypi/../, false",
  })
  void allowedIndexPrefixesCompareNormalisedUrlsBySegment(
      String url, String prefix, boolean allowed) {
    assertThat(PolicyRules.isUnderAllowedPrefix(url, List.of(prefix))).isEqualTo(allowed);
  }

  @Test
  void aDotSegmentTrickIsAViolationThatSaysWhy() {
    PypiMirrorPolicy p = strict();
    p.getSpec().setAllowedIndexPrefixes(List.of("https://devpi.corp.example/root/pypi/"));
    PypiMirrorSpec trick = spec(https("https://devpi.corp.example/root/pypi/../../other/+simple/"));
    trick.setOffline(true);

    assertThat(PolicyRules.violations(p, trick))
        .containsExactly(
            "PypiMirrorPolicy corp-builds: spec.indexes[0].url https://devpi.corp.example/root/pypi/../../other/+simple/ cannot be checked against the policy: its path has a dot segment (..)");
  }

  @Test
  void aPublicIndexUrlOtherThanPypiIsCheckedLikeAnyIndex() {
    PypiMirrorPolicy p = strict();
    p.getSpec().setAllowPublicIndex(true);
    PypiMirrorSpec elsewhere =
        withPublic(
            spec(https("https://devpi.corp.example/root/pypi/+simple/")),
            true,
            "https://evil.example/simple");
    PypiMirrorSpec pypi = spec(https("https://devpi.corp.example/root/pypi/+simple/"));

    assertThat(PolicyRules.violations(p, elsewhere))
        .containsExactly(
            "PypiMirrorPolicy corp-builds: spec.publicIndex.url https://evil.example/simple is not under allowedIndexPrefixes [https://devpi.corp.example/]");
    assertThat(PolicyRules.violations(p, pypi)).isEmpty();
  }

  @Test
  void aPermissivePolicyAllowsAnything() {
    PypiMirrorPolicy open = policy("open", Map.of(), null, false);

    assertThat(PolicyRules.violations(open, spec(trustedHttp("http://anything/simple/"))))
        .isEmpty();
  }

  @Test
  void labelSelectorsMatchLikeKubernetes() {
    var labels = Map.of("team", "ml", "tier", "build");
    assertThat(LabelSelectors.matches(null, labels)).isFalse();
    assertThat(LabelSelectors.matches(new LabelSelectorBuilder().build(), labels)).isTrue();
    assertThat(
            LabelSelectors.matches(
                new LabelSelectorBuilder().addToMatchLabels("team", "ml").build(), labels))
        .isTrue();
    assertThat(
            LabelSelectors.matches(
                new LabelSelectorBuilder().addToMatchLabels("team", "web").build(), labels))
        .isFalse();
    assertThat(
            LabelSelectors.matches(
                new LabelSelectorBuilder()
                    .addToMatchExpressions(
                        new LabelSelectorRequirement("tier", "In", List.of("build", "ci")))
                    .addToMatchExpressions(
                        new LabelSelectorRequirement("legacy", "DoesNotExist", List.of()))
                    .build(),
                labels))
        .isTrue();
    assertThat(
            LabelSelectors.matches(
                new LabelSelectorBuilder()
                    .addToMatchExpressions(
                        new LabelSelectorRequirement("team", "NotIn", List.of("ml")))
                    .build(),
                labels))
        .isFalse();
    assertThat(
            LabelSelectors.matches(
                new LabelSelectorBuilder()
                    .addToMatchExpressions(
                        new LabelSelectorRequirement("team", "Exists", List.of()))
                    .build(),
                Map.of()))
        .isFalse();
  }

  @Test
  void theHighestPriorityThenTheFirstNameGoverns() {
    PypiMirrorPolicy a = policy("a", Map.of("team", "ml"), null, false);
    PypiMirrorPolicy b = policy("b", Map.of("team", "ml"), null, false);
    PypiMirrorPolicy everyone = policy("everyone", Map.of(), null, false);
    everyone.getSpec().setPriority(10);
    var ml = Map.of("team", "ml");

    assertThat(Governance.governing(List.of(b, a), "x", ml, "op")).hasValue(a);
    assertThat(Governance.governing(List.of(b, a, everyone), "x", ml, "op")).hasValue(everyone);
    assertThat(Governance.governing(List.of(a, b), "x", Map.of("team", "web"), "op")).isEmpty();
    assertThat(Governance.governing(List.of(everyone), "kube-system", Map.of(), "op")).isEmpty();
    assertThat(Governance.governing(List.of(everyone), "op", Map.of(), "op")).isEmpty();
    assertThat(
            Governance.governing(
                List.of(
                    policy(
                        "by-name", Map.of("kubernetes.io/metadata.name", "builds"), null, false)),
                "builds",
                null,
                "op"))
        .isPresent();
  }
}
