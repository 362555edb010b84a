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
import static org.assertj.core.api.Assertions.entry;

import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PydistutilsSpec;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Golden tests: the exact files and keys a mirror renders to, one rule of the contract per test.
 */
class MirrorConfigRendererTest {

  @Test
  void aProxiedMirrorGivesPipUvAndPydistutilsItsProxyAloneWithTrustedHost() {
    PypiMirrorSpec spec =
        withPip(
            withProxy(
                spec(
                    withCredentials(https("https://corp.jfrog.example/api/pypi/simple/"), "jfrog"),
                    trustedHttp("http://10.0.0.5:3141/simple/"))),
            0,
            15);

    RenderedConfig rendered = MirrorConfigRenderer.render("corp", "builds", spec);

    String proxy = "http://pypi-mirror-corp-proxy.builds.svc:8080/simple/";
    assertThat(rendered.data().get("pip.conf"))
        .isEqualTo(
            """
            [global]
            index-url = http://pypi-mirror-corp-proxy.builds.svc:8080/simple/
            trusted-host = pypi-mirror-corp-proxy.builds.svc:8080
            retries = 0
            timeout = 15
            """);
    assertThat(rendered.data().get("uv.toml"))
        .isEqualTo(
            """
            allow-insecure-host = ["pypi-mirror-corp-proxy.builds.svc:8080"]

            [[index]]
            name = "mirror-1"
            url = "http://pypi-mirror-corp-proxy.builds.svc:8080/simple/"
            default = true
            """);
    assertThat(rendered.data())
        .containsExactly(
            entry("pip.conf", rendered.data().get("pip.conf")),
            entry("uv.toml", rendered.data().get("uv.toml")),
            entry("pydistutils.cfg", "[easy_install]\nindex_url = " + proxy + "\n"),
            entry("PIP_INDEX_URL", proxy),
            entry("PIP_TRUSTED_HOST", "pypi-mirror-corp-proxy.builds.svc:8080"),
            entry("PIP_RETRIES", "0"),
            entry("PIP_TIMEOUT", "15"),
            entry("UV_DEFAULT_INDEX", proxy),
            entry("UV_INSECURE_HOST", "pypi-mirror-corp-proxy.builds.svc:8080"));
    assertThat(rendered.indexUrls()).containsExactly(proxy);
  }

  @Test
  void theApiExampleRendersEveryFileAndKey() {
    PypiMirrorSpec spec =
        withPip(
            withCache(
                spec(
                    https("https://devpi.corp.example/root/pypi/+simple/"),
                    trustedHttp("http://10.0.0.5:3141/simple/")),
                "/tmp/pypi"),
            0,
            15);

    RenderedConfig rendered = MirrorConfigRenderer.render("corp", spec);

    assertThat(rendered.data().get("pip.conf"))
        .isEqualTo(
            """
            [global]
            index-url = https://devpi.corp.example/root/pypi/+simple/
            extra-index-url = http://10.0.0.5:3141/simple/
                https://pypi.org/simple
            trusted-host = 10.0.0.5:3141
            retries = 0
            timeout = 15
            """);
    assertThat(rendered.data().get("uv.toml"))
        .isEqualTo(
            """
            allow-insecure-host = ["10.0.0.5:3141"]

            [[index]]
            name = "mirror-1"
            url = "https://devpi.corp.example/root/pypi/+simple/"

            [[index]]
            name = "mirror-2"
            url = "http://10.0.0.5:3141/simple/"

            [[index]]
            name = "pypi"
            url = "https://pypi.org/simple"
            default = true
            """);
    assertThat(rendered.data().get("pydistutils.cfg"))
        .isEqualTo("[easy_install]\nindex_url = http://10.0.0.5:3141/simple/\n");
    assertThat(rendered.data())
        .containsExactly(
            entry("pip.conf", rendered.data().get("pip.conf")),
            entry("uv.toml", rendered.data().get("uv.toml")),
            entry("pydistutils.cfg", rendered.data().get("pydistutils.cfg")),
            entry("PIP_INDEX_URL", "https://devpi.corp.example/root/pypi/+simple/"),
            entry("PIP_EXTRA_INDEX_URL", "http://10.0.0.5:3141/simple/ https://pypi.org/simple"),
            entry("PIP_TRUSTED_HOST", "10.0.0.5:3141"),
            entry("PIP_RETRIES", "0"),
            entry("PIP_TIMEOUT", "15"),
            entry(
                "UV_INDEX",
                "https://devpi.corp.example/root/pypi/+simple/ http://10.0.0.5:3141/simple/"),
            entry("UV_DEFAULT_INDEX", "https://pypi.org/simple"),
            entry("UV_INSECURE_HOST", "10.0.0.5:3141"));
    assertThat(rendered.indexUrls())
        .containsExactly(
            "https://devpi.corp.example/root/pypi/+simple/",
            "http://10.0.0.5:3141/simple/",
            "https://pypi.org/simple");
  }

  @Test
  void withoutIndexesTheEnabledCacheIsTheOnlyMirror() {
    PypiMirrorSpec spec = withCache(spec(), "/tmp/pypi");

    RenderedConfig rendered = MirrorConfigRenderer.render("seed", spec);

    assertThat(rendered.data().get("pip.conf"))
        .isEqualTo(
            "[global]\nindex-url = file:///tmp/pypi\nextra-index-url = https://pypi.org/simple\n");
    assertThat(rendered.data().get("pydistutils.cfg"))
        .isEqualTo("[easy_install]\nindex_url = file:///tmp/pypi\n");
    assertThat(rendered.data()).containsEntry("UV_INDEX", "file:///tmp/pypi");
  }

  @Test
  void offlineNeverNamesThePublicIndexAndTheLastMirrorIsUvsDefault() {
    PypiMirrorSpec spec =
        spec(https("https://a.example/simple/"), https("https://b.example/simple/"));
    spec.setOffline(true);

    RenderedConfig rendered = MirrorConfigRenderer.render("m", spec);

    assertThat(rendered.data().values()).noneMatch(v -> v.contains("pypi.org"));
    assertThat(rendered.data().get("pip.conf"))
        .isEqualTo(
            "[global]\nindex-url = https://a.example/simple/\nextra-index-url = https://b.example/simple/\n");
    assertThat(rendered.data().get("uv.toml"))
        .isEqualTo(
            """
            [[index]]
            name = "mirror-1"
            url = "https://a.example/simple/"

            [[index]]
            name = "mirror-2"
            url = "https://b.example/simple/"
            default = true
            """);
    assertThat(rendered.data())
        .containsEntry("UV_INDEX", "https://a.example/simple/")
        .containsEntry("UV_DEFAULT_INDEX", "https://b.example/simple/");
    assertThat(rendered.indexUrls())
        .containsExactly("https://a.example/simple/", "https://b.example/simple/");
  }

  @Test
  void aDisabledPublicIndexIsLeftOutLikeOffline() {
    PypiMirrorSpec spec =
        withPublic(spec(https("https://a.example/simple/")), false, "https://pypi.org/simple");

    RenderedConfig rendered = MirrorConfigRenderer.render("m", spec);

    assertThat(rendered.data().get("pip.conf"))
        .isEqualTo("[global]\nindex-url = https://a.example/simple/\n");
    assertThat(rendered.data())
        .doesNotContainKeys("PIP_EXTRA_INDEX_URL", "UV_INDEX")
        .containsEntry("UV_DEFAULT_INDEX", "https://a.example/simple/");
  }

  @Test
  void aCustomPublicIndexIsAppendedLast() {
    PypiMirrorSpec spec =
        withPublic(spec(https("https://a.example/simple/")), true, "https://pypi.internal/simple");

    RenderedConfig rendered = MirrorConfigRenderer.render("m", spec);

    assertThat(rendered.indexUrls())
        .containsExactly("https://a.example/simple/", "https://pypi.internal/simple");
    assertThat(rendered.data()).containsEntry("UV_DEFAULT_INDEX", "https://pypi.internal/simple");
  }

  @Test
  void trustedHostsAreOnlyPlainHttpIndexesMarkedTrustedAsHostAndPort() {
    PypiMirrorSpec spec =
        withCache(
            spec(
                new IndexSpec("https://secure.example/simple/", true),
                trustedHttp("http://plain.example/simple/"),
                trustedHttp("http://10.1.2.3:8080/simple/"),
                trustedHttp("http://10.1.2.3:8080/other/"),
                new IndexSpec("file:///cache", false)),
            "/cache");

    RenderedConfig rendered = MirrorConfigRenderer.render("m", spec);

    assertThat(rendered.data())
        .containsEntry("PIP_TRUSTED_HOST", "plain.example 10.1.2.3:8080")
        .containsEntry("UV_INSECURE_HOST", "plain.example 10.1.2.3:8080");
    assertThat(rendered.data().get("pip.conf"))
        .contains("trusted-host = plain.example\n    10.1.2.3:8080\n")
        .doesNotContain("None")
        .doesNotContain("secure.example\n    ");
    assertThat(rendered.data().get("uv.toml"))
        .startsWith("allow-insecure-host = [\"plain.example\", \"10.1.2.3:8080\"]\n");
  }

  @Test
  void noTrustedHostKeyAtAllWhenEveryIndexIsSecure() {
    RenderedConfig rendered =
        MirrorConfigRenderer.render("m", spec(https("https://a.example/simple/")));

    assertThat(rendered.data().get("pip.conf")).doesNotContain("trusted-host");
    assertThat(rendered.data().get("uv.toml")).doesNotContain("allow-insecure-host");
    assertThat(rendered.data()).doesNotContainKeys("PIP_TRUSTED_HOST", "UV_INSECURE_HOST");
  }

  @Test
  void retriesAndTimeoutOnlyWhenSet() {
    RenderedConfig unset = MirrorConfigRenderer.render("m", spec(https("https://a.example/s/")));
    RenderedConfig retriesOnly =
        MirrorConfigRenderer.render("m", withPip(spec(https("https://a.example/s/")), 3, null));

    assertThat(unset.data().get("pip.conf")).doesNotContain("retries").doesNotContain("timeout");
    assertThat(unset.data()).doesNotContainKeys("PIP_RETRIES", "PIP_TIMEOUT");
    assertThat(retriesOnly.data().get("pip.conf"))
        .contains("retries = 3\n")
        .doesNotContain("timeout");
    assertThat(retriesOnly.data())
        .containsEntry("PIP_RETRIES", "3")
        .doesNotContainKey("PIP_TIMEOUT");
  }

  @Test
  void pydistutilsUsesTheLastMirrorNeverThePublicIndexAndNeverAllowHosts() {
    PypiMirrorSpec spec =
        spec(https("https://first.example/simple/"), https("https://last.example/simple/"));

    String cfg = MirrorConfigRenderer.render("m", spec).data().get("pydistutils.cfg");

    assertThat(cfg).isEqualTo("[easy_install]\nindex_url = https://last.example/simple/\n");
    assertThat(cfg).doesNotContain("allow_hosts");
  }

  @Test
  void pydistutilsCanBeTurnedOff() {
    PypiMirrorSpec spec = spec(https("https://a.example/simple/"));
    PydistutilsSpec off = new PydistutilsSpec();
    off.setEnabled(false);
    spec.setPydistutils(off);

    assertThat(MirrorConfigRenderer.render("m", spec).data()).doesNotContainKey("pydistutils.cfg");
  }

  /** The seed sorted DIB_PYPI_MIRROR_URL_10 before _2; here the list order is the order. */
  @Test
  void twelveMirrorsKeepTheirOrderEverywhere() {
    List<IndexSpec> indexes = new ArrayList<>();
    IntStream.rangeClosed(1, 12)
        .forEach(i -> indexes.add(https("https://mirror-" + i + ".example/simple/")));
    PypiMirrorSpec spec = spec();
    spec.setIndexes(indexes);
    spec.setOffline(true);
    List<String> urls = indexes.stream().map(IndexSpec::getUrl).toList();

    RenderedConfig rendered = MirrorConfigRenderer.render("m", spec);

    assertThat(rendered.indexUrls()).containsExactlyElementsOf(urls);
    assertThat(rendered.data().get("PIP_INDEX_URL")).isEqualTo(urls.get(0));
    assertThat(rendered.data().get("PIP_EXTRA_INDEX_URL"))
        .isEqualTo(String.join(" ", urls.subList(1, 12)));
    assertThat(rendered.data().get("UV_INDEX")).isEqualTo(String.join(" ", urls.subList(0, 11)));
    assertThat(rendered.data().get("UV_DEFAULT_INDEX")).isEqualTo(urls.get(11));
    String uv = rendered.data().get("uv.toml");
    for (int i = 1; i < 12; i++) {
      assertThat(uv.indexOf(urls.get(i - 1))).isLessThan(uv.indexOf(urls.get(i)));
    }
    String pip = rendered.data().get("pip.conf");
    for (int i = 1; i < 12; i++) {
      assertThat(pip.indexOf(urls.get(i - 1))).isLessThan(pip.indexOf(urls.get(i)));
    }
    assertThat(rendered.data().get("pydistutils.cfg")).contains(urls.get(11));
  }

  @Test
  void theHashFollowsTheDataAndNothingElse() {
    PypiMirrorSpec a = spec(https("https://a.example/simple/"));
    PypiMirrorSpec b = spec(https("https://b.example/simple/"));

    String hashA = MirrorConfigRenderer.render("one", a).hash();

    assertThat(hashA).hasSize(64).matches("[0-9a-f]+");
    assertThat(MirrorConfigRenderer.render("other-name", a).hash()).isEqualTo(hashA);
    assertThat(MirrorConfigRenderer.render("one", b).hash()).isNotEqualTo(hashA);
  }
}
