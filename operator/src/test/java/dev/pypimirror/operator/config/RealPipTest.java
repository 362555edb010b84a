package dev.pypimirror.operator.config;

import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static dev.pypimirror.operator.testing.Mirrors.withPip;
import static dev.pypimirror.operator.testing.Mirrors.withPublic;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.testing.IndexServer;
import dev.pypimirror.operator.testing.Python;
import dev.pypimirror.operator.testing.SelfSignedTls;
import dev.pypimirror.operator.testing.SimpleIndex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Real pip consumes what the renderer writes: a tiny wheel in a PEP 503 mirror on loopback http,
 * the same tree as a file:// cache, and a public index over https that only an online mirror may
 * reach. Each case runs twice: once with only PIP_CONFIG_FILE (the rendered pip.conf), once with
 * only the rendered environment keys and no config file.
 */
class RealPipTest {
  static final String MIRRORED = "pmo-probe";
  static final String PUBLIC_ONLY = "Pmo_Public.Only";

  /** A private project: 1.0 on the mirror, and a higher version of its name on the public index. */
  static final String SHADOWED = "pmo-private";

  @TempDir static Path scratch;
  static Python python;
  static Path mirrorTree;
  static Path publicTree;
  static IndexServer mirror;
  static IndexServer publicIndex;
  static SelfSignedTls tls;

  enum Mode {
    CONFIG_FILE,
    ENVIRONMENT
  }

  @BeforeAll
  static void buildAndServe() throws Exception {
    python = new Python(scratch);
    mirrorTree = Files.createDirectories(scratch.resolve("mirror"));
    publicTree = Files.createDirectories(scratch.resolve("public"));
    SimpleIndex.add(mirrorTree, MIRRORED, python.buildWheel(scratch, MIRRORED, "1.0"));
    SimpleIndex.add(publicTree, PUBLIC_ONLY, python.buildWheel(scratch, PUBLIC_ONLY, "2.0"));
    SimpleIndex.add(mirrorTree, SHADOWED, python.buildWheel(scratch, SHADOWED, "1.0"));
    SimpleIndex.add(publicTree, SHADOWED, python.buildWheel(scratch, SHADOWED, "9.0"));
    tls = SelfSignedTls.create(Files.createDirectories(scratch.resolve("tls")));
    mirror = IndexServer.http(mirrorTree);
    publicIndex = IndexServer.https(publicTree, tls.serverContext());
  }

  @AfterAll
  static void stop() {
    mirror.close();
    publicIndex.close();
  }

  /** Writes the rendered config where a pod would see it and returns the env pip runs with. */
  static Map<String, String> podEnvironment(PypiMirrorSpec spec, Mode mode, Path dir)
      throws Exception {
    RenderedConfig rendered = MirrorConfigRenderer.render("m", spec);
    Map<String, String> env = new HashMap<>();
    env.put("PIP_CERT", tls.certificatePem.toString()); // trust the loopback "public index"
    if (mode == Mode.CONFIG_FILE) {
      Path pipConf = dir.resolve("pip.conf");
      Files.writeString(pipConf, rendered.data().get(RenderedConfig.PIP_CONF));
      env.put("PIP_CONFIG_FILE", pipConf.toString());
    } else {
      env.put("PIP_CONFIG_FILE", "/dev/null"); // pip reads no config file at all
      RenderedConfig.ENV_KEYS.stream()
          .filter(k -> k.startsWith("PIP_") && rendered.data().containsKey(k))
          .forEach(k -> env.put(k, rendered.data().get(k)));
    }
    return env;
  }

  static java.util.List<String> wheelsIn(Path dir) throws Exception {
    try (var files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".whl")).toList();
    }
  }

  static Path newDir(String name) throws Exception {
    return Files.createTempDirectory(scratch, name);
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void aDeadFirstMirrorFallsThroughToTheNextWithRetriesZero(Mode mode) throws Exception {
    String dead = "http://127.0.0.1:" + IndexServer.closedPort() + "/simple/";
    PypiMirrorSpec spec = withPip(spec(trustedHttp(dead), trustedHttp(mirror.url())), 0, 5);
    spec.setOffline(true);
    Path out = newDir("fallback");

    python.pipDownload(out, podEnvironment(spec, mode, out), MIRRORED).assertOk();

    assertThat(out.resolve("pmo_probe-1.0-py3-none-any.whl")).exists();
    assertThat(mirror.requests()).contains("/simple/pmo-probe/");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void theFileCacheIsAWorkingIndex(Mode mode) throws Exception {
    PypiMirrorSpec spec = withCache(spec(), mirrorTree.toString());
    spec.setOffline(true);
    Path out = newDir("cache");

    python.pipDownload(out, podEnvironment(spec, mode, out), MIRRORED).assertOk();

    assertThat(out.resolve("pmo_probe-1.0-py3-none-any.whl")).exists();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void onlineTheMirrorFallsBackToThePublicIndex(Mode mode) throws Exception {
    PypiMirrorSpec spec = withPublic(spec(trustedHttp(mirror.url())), true, publicIndex.url());
    Path out = newDir("online");
    publicIndex.requests().clear();

    python.pipDownload(out, podEnvironment(spec, mode, out), PUBLIC_ONLY).assertOk();

    assertThat(wheelsIn(out)).singleElement().asString().endsWith("-2.0-py3-none-any.whl");
    assertThat(publicIndex.requests()).contains("/simple/pmo-public-only/");
  }

  /**
   * pip's extra-index-url has no priority: with the mirror as index-url, the public index's higher
   * version of the private project's name wins (dependency confusion), which is what the mirror's
   * DependencyConfusionRisk condition warns of; offline, the mirror's own version is installed.
   */
  @ParameterizedTest
  @EnumSource(Mode.class)
  void thePublicIndexsHigherVersionWinsOverTheMirrorsUnderExtraIndexUrl(Mode mode)
      throws Exception {
    PypiMirrorSpec spec = withPublic(spec(trustedHttp(mirror.url())), true, publicIndex.url());
    Path online = newDir("confusion");
    Path offline = newDir("confusion-offline");

    python.pipDownload(online, podEnvironment(spec, mode, online), SHADOWED).assertOk();
    assertThat(DependencyConfusion.risk(spec)).isPresent();
    spec.setOffline(true);
    python.pipDownload(offline, podEnvironment(spec, mode, offline), SHADOWED).assertOk();

    assertThat(MirrorConfigRenderer.pipIndexes(spec)).containsExactly(mirror.url());
    assertThat(wheelsIn(online)).containsExactly("pmo_private-9.0-py3-none-any.whl");
    assertThat(wheelsIn(offline)).containsExactly("pmo_private-1.0-py3-none-any.whl");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void anOfflineMirrorNeverConsultsThePublicIndex(Mode mode) throws Exception {
    PypiMirrorSpec spec = withPublic(spec(trustedHttp(mirror.url())), true, publicIndex.url());
    spec.setOffline(true);
    Path out = newDir("offline");
    publicIndex.requests().clear();

    Python.Result result = python.pipDownload(out, podEnvironment(spec, mode, out), PUBLIC_ONLY);

    assertThat(result.status()).as(result.output()).isNotZero();
    assertThat(result.output()).contains("No matching distribution found");
    assertThat(publicIndex.requests()).isEmpty();
  }

  /**
   * Legacy setup_requires: setuptools reads ~/.pydistutils.cfg, accepts it (no allow_hosts error)
   * and fetches the build dependency from its index_url, the last mirror.
   */
  @Test
  void setuptoolsFetchesSetupRequiresFromThePydistutilsIndex(@TempDir Path project)
      throws Exception {
    String dead = "http://127.0.0.1:" + IndexServer.closedPort() + "/simple/";
    PypiMirrorSpec spec = withCache(spec(trustedHttp(dead)), mirrorTree.toString());
    spec.getIndexes().add(new dev.pypimirror.operator.api.IndexSpec("file://" + mirrorTree, false));
    spec.setOffline(true);
    RenderedConfig rendered = MirrorConfigRenderer.render("m", spec);
    Files.writeString(
        python.home().resolve(".pydistutils.cfg"), rendered.data().get("pydistutils.cfg"));
    Files.writeString(
        project.resolve("setup.py"),
        "from setuptools import setup\n"
            + "setup(name='legacy-build', version='0.1', setup_requires=['"
            + MIRRORED
            + "'])\n");

    Python.Result result =
        python.run(project, Map.of("PIP_CONFIG_FILE", "/dev/null"), "setup.py", "--version");

    try {
      result.assertOk();
      assertThat(result.output()).doesNotContain("allow_hosts").contains("0.1");
      try (var eggs = Files.list(project.resolve(".eggs"))) {
        assertThat(eggs.map(p -> p.getFileName().toString()))
            .anyMatch(n -> n.startsWith("pmo_probe"));
      }
    } finally {
      Files.delete(python.home().resolve(".pydistutils.cfg"));
    }
  }
}
