package dev.pypimirror.operator.config;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static dev.pypimirror.operator.testing.Mirrors.withCredentials;
import static dev.pypimirror.operator.testing.Mirrors.withPip;
import static dev.pypimirror.operator.testing.Mirrors.withProxy;
import static dev.pypimirror.operator.testing.Mirrors.withPublic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.InjectionSpec;
import dev.pypimirror.operator.api.ProxySpec;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MirrorSpecValidatorTest {

  @Test
  void aValidSpecHasNoProblems() {
    PypiMirrorSpec spec =
        withCache(
            spec(
                https("https://a.example/simple/"),
                trustedHttp("http://10.0.0.5:3141/simple/"),
                new IndexSpec("file:///tmp/pypi", false)),
            "/tmp/pypi");
    assertThat(MirrorSpecValidator.problems("corp", spec)).isEmpty();
  }

  @Test
  void credentialsUnderMountAreRefusedPointingAtProxy() {
    PypiMirrorSpec spec =
        withCache(
            spec(withCredentials(https("https://corp.jfrog.example/simple/"), "jfrog")),
            "/tmp/pypi");
    assertThat(MirrorSpecValidator.problems("m", spec))
        .containsExactly(
            "spec.indexes[0].credentialsSecret: credentials need spec.cache.serve: Proxy (and the"
                + " cache enabled); with Mount they would be in every build pod's environment");
    spec.getCache().setServe(CacheSpec.Serve.Proxy);
    assertThat(MirrorSpecValidator.problems("m", spec)).isEmpty();
  }

  @Test
  void aProxyNeedsTheCacheAndSeveralReplicasNeedReadWriteMany() {
    PypiMirrorSpec spec = withProxy(spec(https("https://a.example/simple/")));
    ProxySpec proxy = new ProxySpec();
    proxy.setReplicas(2);
    spec.getCache().setProxy(proxy);
    spec.getCache().setEnabled(false);
    assertThat(MirrorSpecValidator.problems("m", spec))
        .containsExactly(
            "spec.cache.serve: Proxy needs spec.cache.enabled: true",
            "spec.cache.proxy.replicas: 2 replicas mount the cache read-write together: needs"
                + " spec.cache.accessModes [ReadWriteMany]");
    spec.getCache().setEnabled(true);
    spec.getCache().setAccessModes(List.of(CacheSpec.AccessMode.ReadWriteMany));
    assertThat(MirrorSpecValidator.problems("m", spec)).isEmpty();
  }

  @Test
  void plainHttpWithoutTrustIsRefused() {
    assertThat(
            MirrorSpecValidator.problems(
                "m", spec(new IndexSpec("http://10.0.0.5/simple/", false))))
        .containsExactly(
            "spec.indexes[0].url: plain http index http://10.0.0.5/simple/ needs trustedHost: true");
  }

  @Test
  void aFileUrlMustBeTheEnabledCache() {
    assertThat(
            MirrorSpecValidator.problems(
                "m", withCache(spec(new IndexSpec("file:///elsewhere", false)), "/tmp/pypi")))
        .containsExactly(
            "spec.indexes[0].url: a file:// index must be the enabled cache's mount path"
                + " (file:///tmp/pypi), got file:///elsewhere");
    assertThat(MirrorSpecValidator.problems("m", spec(new IndexSpec("file:///tmp/pypi", false))))
        .containsExactly(
            "spec.indexes[0].url: a file:// index must be the enabled cache's mount path"
                + " (the cache is off), got file:///tmp/pypi");
  }

  @Test
  void noIndexAtAllIsRefused() {
    assertThat(MirrorSpecValidator.problems("m", spec()))
        .containsExactly("spec.indexes: no index: list at least one or enable spec.cache");
  }

  @Test
  void badSchemesAndNonUrlsAreRefusedWithTheirIndex() {
    assertThat(
            MirrorSpecValidator.problems(
                "m",
                spec(
                    https("https://ok.example/"),
                    https("ftp://mirror.example/simple/"),
                    https("not a url"),
                    https("https:///no-host"))))
        .containsExactly(
            "spec.indexes[1].url: scheme must be https, http or file, got \"ftp://mirror.example/simple/\"",
            "spec.indexes[2].url: not a URL: \"not a url\"",
            "spec.indexes[3].url: not a URL: \"https:///no-host\"");
  }

  @Test
  void negativeNumbersAreRefused() {
    assertThat(MirrorSpecValidator.problems("m", withPip(spec(https("https://a.example/")), -1, 0)))
        .containsExactly(
            "spec.pip.retries: must be 0 or more, got -1",
            "spec.pip.timeoutSeconds: must be 1 or more, got 0");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/etc/pypi-mirror",
        "/etc/pypi-mirror/cache",
        "/etc",
        "/etc/pip.conf",
        "/etc/uv",
        "/etc/uv/uv.toml",
        "/root/.pydistutils.cfg",
        "/root",
        "/home/builder/.pydistutils.cfg",
        "/home"
      })
  void theCacheIsNeverMountedAtAboveOrBelowTheConfiguration(String mountPath) {
    PypiMirrorSpec spec = withCache(spec(https("https://a.example/")), mountPath);
    PypiMirrorSpec homed = withCache(spec(https("https://a.example/")), mountPath);
    InjectionSpec injection = new InjectionSpec();
    injection.setHomeDir("/home/builder/");
    homed.setInjection(injection);

    assertThat(
            mountPath.startsWith("/home")
                ? MirrorSpecValidator.problems("m", homed)
                : MirrorSpecValidator.problems("m", spec))
        .isNotEmpty()
        .allMatch(
            p ->
                p.startsWith("spec.cache.mountPath: may not be at, above or below /")
                    && p.endsWith(
                        ", where the mirror's configuration is mounted, got \""
                            + mountPath
                            + "\""));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/tmp/pypi/", "/etc//pip.conf", "/etc/./pip.conf", "/x/../etc"})
  void theCachePathIsWrittenOneWayOnly(String mountPath) {
    assertThat(
            MirrorSpecValidator.problems(
                "m", withCache(spec(https("https://a.example/")), mountPath)))
        .containsExactly(
            "spec.cache.mountPath: must be an absolute path without spaces, '.' or '..' segments,"
                + " '//' or a trailing '/', got \""
                + mountPath
                + "\"");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"/tmp/pypi", "/cache", "/etc/pypi-mirrors", "/root2", "/.cache", "/a/..b"})
  void aCacheBesideTheConfigurationIsValid(String mountPath) {
    assertThat(
            MirrorSpecValidator.problems(
                "m", withCache(spec(https("https://a.example/")), mountPath)))
        .isEmpty();
  }

  @Test
  void pathsMustBeAbsoluteAndPublicIndexHttp() {
    PypiMirrorSpec spec = withCache(spec(https("https://a.example/")), "relative/path");
    spec.getCache().setSize("ten gigs");
    InjectionSpec injection = new InjectionSpec();
    injection.setHomeDir("~");
    spec.setInjection(injection);
    withPublic(spec, true, "file:///pypi");

    assertThat(MirrorSpecValidator.problems("m", spec))
        .containsExactly(
            "spec.cache.mountPath: must be an absolute path without spaces, '.' or '..' segments,"
                + " '//' or a trailing '/', got \"relative/path\"",
            "spec.cache.size: not a Kubernetes quantity: ten gigs",
            "spec.publicIndex.url: must be an http(s) URL, got \"file:///pypi\"",
            "spec.injection.homeDir: must be an absolute path without spaces, got \"~\"");
  }

  @Test
  void aNameTooLongForALabelIsRefused() {
    assertThat(MirrorSpecValidator.problems("x".repeat(64), spec(https("https://a.example/"))))
        .containsExactly("metadata.name: at most 63 characters (it is a label value), got 64");
  }

  @Test
  void renderRefusesAnInvalidSpecWithEveryProblem() {
    assertThatThrownBy(
            () ->
                MirrorConfigRenderer.render(
                    "m", withPip(spec(new IndexSpec("http://h/", false)), -2, null)))
        .isInstanceOf(InvalidMirrorException.class)
        .hasMessage(
            "spec.indexes[0].url: plain http index http://h/ needs trustedHost: true;"
                + " spec.pip.retries: must be 0 or more, got -2");
  }
}
