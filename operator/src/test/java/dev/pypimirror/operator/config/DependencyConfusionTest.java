package dev.pypimirror.operator.config;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static dev.pypimirror.operator.testing.Mirrors.withPublic;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.PypiMirrorSpec;
import io.fabric8.kubernetes.api.model.Condition;
import org.junit.jupiter.api.Test;

/** Which mirrors give pip the public index beside a private one, and what their status says. */
class DependencyConfusionTest {
  static final String DEVPI = "https://devpi.corp.example/simple/";

  @Test
  void aPrivateIndexBesideThePublicOneIsARiskThatSaysWhyAndWhatToDo() {
    PypiMirrorSpec mixed = spec(https(DEVPI));

    assertThat(DependencyConfusion.risk(mixed))
        .hasValueSatisfying(
            why ->
                assertThat(why)
                    .startsWith(
                        "pip gets the public index https://pypi.org/simple beside " + DEVPI + ":")
                    .contains("installs the highest version found on any of them")
                    .contains("dependency confusion")
                    .contains("serve: Proxy with resolution: FirstMatch")
                    .contains("offline: true or publicIndex.enabled: false"));
    Condition condition = MirrorStatuses.dependencyConfusion(mixed, 3);
    assertThat(condition.getType()).isEqualTo("DependencyConfusionRisk");
    assertThat(condition.getStatus() + "/" + condition.getReason())
        .isEqualTo("True/PublicIndexBesidePrivate");
    assertThat(condition.getMessage()).isEqualTo(DependencyConfusion.risk(mixed).orElseThrow());
    assertThat(condition.getObservedGeneration()).isEqualTo(3);
  }

  @Test
  void theCacheBesideThePublicIndexIsARiskToo() {
    // the cache holds what the private indexes served; pip asks pypi.org for the same names
    PypiMirrorSpec cacheOnly = withCache(spec(), "/tmp/pypi");

    assertThat(DependencyConfusion.risk(cacheOnly))
        .hasValueSatisfying(why -> assertThat(why).contains("beside file:///tmp/pypi:"));
  }

  @Test
  void offlineADisabledPublicIndexOrASingleIndexIsNoRisk() {
    PypiMirrorSpec offline = spec(https(DEVPI), https("https://other.corp.example/simple/"));
    offline.setOffline(true);
    PypiMirrorSpec noPublic = withPublic(spec(https(DEVPI)), false, "https://pypi.org/simple");
    PypiMirrorSpec single = spec(https(DEVPI));
    single.setOffline(true);

    assertThat(DependencyConfusion.risk(offline)).isEmpty();
    assertThat(DependencyConfusion.risk(noPublic)).isEmpty();
    assertThat(DependencyConfusion.risk(single)).isEmpty();
    assertThat(conditionOf(offline))
        .isEqualTo(
            "False/NoPublicIndex/pip gets no public index: "
                + DEVPI
                + ", https://other.corp.example/simple/");
    assertThat(conditionOf(single))
        .isEqualTo("False/SingleIndexForPip/pip gets one index: " + DEVPI);
  }

  @org.junit.jupiter.api.Test
  void aProxyMirrorGivesPipOneIndexWhateverItsUpstreams() {
    PypiMirrorSpec proxied = withCache(spec(https(DEVPI)), "/tmp/pypi");
    proxied.getCache().setServe(dev.pypimirror.operator.api.CacheSpec.Serve.Proxy);

    assertThat(DependencyConfusion.risk(proxied)).isEmpty();
    assertThat(conditionOf(MirrorConfigRenderer.served("m", "builds", proxied)))
        .isEqualTo(
            "False/SingleIndexForPip/pip gets one index: http://pypi-mirror-m-proxy.builds.svc:8080/simple/");
  }

  static String conditionOf(PypiMirrorSpec spec) {
    Condition c = MirrorStatuses.dependencyConfusion(spec, 1);
    return c.getStatus() + "/" + c.getReason() + "/" + c.getMessage();
  }
}
