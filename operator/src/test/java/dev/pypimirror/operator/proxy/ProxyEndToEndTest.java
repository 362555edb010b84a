package dev.pypimirror.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pypimirror.operator.cache.SimpleIndexBuilder;
import dev.pypimirror.operator.simple.Resolution;
import dev.pypimirror.operator.testing.Python;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * The proxy as pip meets it: real pip in a clean environment installs through it from a loopback
 * upstream of real wheels, then from its cache with the upstream gone; a file whose bytes do not
 * match its hash fails pip and stores nothing; concurrent misses make one upstream request;
 * FirstMatch and Merge; offline; paths that try to escape; an upstream that demands credentials.
 */
class ProxyEndToEndTest {
  @TempDir static Path wheels;
  static Python python;
  static Path app;
  static Path dep;
  static Path sharedOne;
  static Path sharedTwo;

  @BeforeAll
  static void buildWheels() throws Exception {
    python = new Python(wheels);
    dep = python.buildWheel(wheels, "Proxy_Dep", "1.0");
    app = python.buildWheel(wheels, "proxy-app", "2.0", "install_requires=['proxy-dep>=1.0']");
    sharedOne = python.buildWheel(wheels, "shared-name", "1.0");
    sharedTwo = python.buildWheel(wheels, "shared-name", "9.0");
  }

  record Proxy(ProxyApp app, int port) implements AutoCloseable {
    String index() {
      return "http://127.0.0.1:" + port + "/simple/";
    }

    @Override
    public void close() throws Exception {
      app.close();
    }
  }

  static Proxy proxy(
      Path cache,
      Resolution resolution,
      boolean offline,
      Map<String, String> env,
      String... upstreams)
      throws Exception {
    return proxy(cache, Duration.ofSeconds(600), resolution, offline, env, upstreams);
  }

  static Proxy proxy(
      Path cache,
      Duration ttl,
      Resolution resolution,
      boolean offline,
      Map<String, String> env,
      String... upstreams)
      throws Exception {
    return proxy(cache, ttl, resolution, offline, ProxySettings.Limits.DEFAULTS, env, upstreams);
  }

  static Proxy proxy(
      Path cache,
      Duration ttl,
      Resolution resolution,
      boolean offline,
      ProxySettings.Limits limits,
      Map<String, String> env,
      String... upstreams)
      throws Exception {
    ProxyApp proxy =
        new ProxyApp(
            new ProxySettings(
                cache, List.of(upstreams), "127.0.0.1", 0, offline, ttl, resolution, 0.99, limits),
            env);
    return new Proxy(proxy, proxy.start());
  }

  static Python.Result pipInstall(Path scratch, String index, String target, String requirement)
      throws Exception {
    return python.run(
        scratch,
        Map.of(),
        "-m",
        "pip",
        "install",
        "--no-compile",
        "--target",
        scratch.resolve(target).toString(),
        "--index-url",
        index,
        requirement);
  }

  static List<String> cachedFiles(Path cache) throws IOException {
    try (Stream<Path> files = Files.list(cache.resolve("_files"))) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void pipInstallsThroughTheProxyThenFromItsCacheWithTheUpstreamGone(@TempDir Path scratch)
      throws Exception {
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    FakeUpstream upstream = new FakeUpstream();
    upstream.add("proxy-app", app);
    upstream.add("proxy-dep", dep);
    try (Proxy proxy = proxy(cache, Resolution.FirstMatch, false, Map.of(), upstream.url())) {
      pipInstall(scratch, proxy.index(), "first", "proxy-app").assertOk();
      assertThat(scratch.resolve("first/proxy_app/__init__.py")).exists();
      assertThat(scratch.resolve("first/proxy_dep/__init__.py")).exists();
      assertThat(cachedFiles(cache))
          .containsExactlyInAnyOrder(app.getFileName().toString(), dep.getFileName().toString());

      upstream.close();
      pipInstall(scratch, proxy.index(), "second", "proxy-app").assertOk();
      assertThat(scratch.resolve("second/proxy_dep/__init__.py")).exists();
    }

    // a restarted proxy, offline, serves the same from the cache and asks no upstream
    FakeUpstream watching = new FakeUpstream();
    try (watching;
        Proxy offline = proxy(cache, Resolution.FirstMatch, true, Map.of(), watching.url())) {
      pipInstall(scratch, offline.index(), "third", "proxy-app").assertOk();
      assertThat(scratch.resolve("third/proxy_dep/__init__.py")).exists();
      assertThat(watching.requests).isEmpty();
    }

    // index still works over the cache the proxy filled, and lists what it fetched
    SimpleIndexBuilder.build(cache);
    assertThat(cache.resolve("proxy-app/index.html"))
        .content()
        .contains(app.getFileName().toString());
  }

  /** Also when the page gives md5 only, as older pypiserver does. */
  @ParameterizedTest
  @ValueSource(strings = {"sha256", "md5"})
  void aFileWhoseBytesDoNotMatchItsHashFailsPipAndIsNotStored(
      String algorithm, @TempDir Path scratch) throws Exception {
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    try (FakeUpstream upstream = new FakeUpstream()) {
      upstream.hashAlgorithm = algorithm;
      upstream.add("proxy-dep", dep);
      upstream.corrupt.add(dep.getFileName().toString());
      try (Proxy proxy = proxy(cache, Resolution.FirstMatch, false, Map.of(), upstream.url())) {
        Python.Result result = pipInstall(scratch, proxy.index(), "target", "proxy-dep");
        assertThat(result.status()).as(result.output()).isNotZero();
        assertThat(cachedFiles(cache)).isEmpty();

        // the proxy's own clients see a failed transfer, not a complete file
        HttpResponse<byte[]> direct = null;
        Throwable failure = null;
        try {
          direct = get(proxy.port(), "/files/proxy-dep/" + dep.getFileName());
        } catch (IOException e) {
          failure = e;
        }
        if (failure == null) {
          assertThat(direct.statusCode()).isNotEqualTo(200);
        }
        assertThat(cachedFiles(cache)).isEmpty();
      }
    }
  }

  /**
   * An index whose pages give md5 only: pip installs through the proxy, which checked each file
   * against its md5 (written down beside its sha256) and whose page gives that md5 on until the
   * file is stored; again, from the cache, once the page gives the sha256.
   */
  @Test
  void pipInstallsFromAnIndexThatGivesMd5OnlyAndTheProxyCheckedEachFile(@TempDir Path scratch)
      throws Exception {
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    try (FakeUpstream upstream = new FakeUpstream()) {
      upstream.hashAlgorithm = "md5";
      upstream.add("proxy-app", app);
      upstream.add("proxy-dep", dep);
      try (Proxy proxy = proxy(cache, Resolution.FirstMatch, false, Map.of(), upstream.url())) {
        pipInstall(scratch, proxy.index(), "first", "proxy-app").assertOk();
        assertThat(cachedFiles(cache))
            .containsExactlyInAnyOrder(app.getFileName().toString(), dep.getFileName().toString());
        for (Path wheel : List.of(app, dep)) {
          assertThat(cache.resolve(".proxy/fetched/" + wheel.getFileName()))
              .content()
              .endsWith("\nmd5=" + FakeUpstream.digest("md5", Files.readAllBytes(wheel)) + "\n");
        }
        upstream.close();
        pipInstall(scratch, proxy.index(), "second", "proxy-app").assertOk();
        assertThat(scratch.resolve("second/proxy_dep/__init__.py")).exists();
      }
    }
  }

  @Test
  void twentyConcurrentClientsOfOneUncachedFileMakeOneUpstreamRequest(@TempDir Path scratch)
      throws Exception {
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    try (FakeUpstream upstream = new FakeUpstream()) {
      upstream.add("proxy-dep", dep);
      upstream.fileDelayMillis = 500;
      try (Proxy proxy = proxy(cache, Resolution.FirstMatch, false, Map.of(), upstream.url())) {
        assertThat(get(proxy.port(), "/simple/proxy-dep/").statusCode()).isEqualTo(200);
        String path = "/files/proxy-dep/" + dep.getFileName();
        List<CompletableFuture<HttpResponse<byte[]>>> clients = new ArrayList<>();
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 20; i++) {
          clients.add(
              http.sendAsync(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
                      .build(),
                  HttpResponse.BodyHandlers.ofByteArray()));
        }
        byte[] expected = Files.readAllBytes(dep);
        for (var client : clients) {
          HttpResponse<byte[]> response = client.get();
          assertThat(response.statusCode()).isEqualTo(200);
          assertThat(response.body()).isEqualTo(expected);
        }
        assertThat(upstream.count("/files/")).isEqualTo(1);
      }
    }
  }

  @Test
  void firstMatchListsOnlyTheFirstUpstreamsFilesAndMergeBoth(@TempDir Path scratch)
      throws Exception {
    try (FakeUpstream first = new FakeUpstream();
        FakeUpstream second = new FakeUpstream()) {
      first.add("shared-name", sharedOne);
      second.add("shared-name", sharedTwo);
      second.add("proxy-dep", dep);
      Path firstCache = Files.createDirectories(scratch.resolve("first"));
      try (Proxy proxy =
          proxy(firstCache, Resolution.FirstMatch, false, Map.of(), first.url(), second.url())) {
        String page =
            new String(get(proxy.port(), "/simple/shared-name/").body(), StandardCharsets.UTF_8);
        assertThat(page)
            .contains(sharedOne.getFileName().toString())
            .doesNotContain(sharedTwo.getFileName().toString());
        // a project only the second has is found there
        assertThat(get(proxy.port(), "/simple/proxy-dep/").statusCode()).isEqualTo(200);
        // and pip, which takes the highest version anywhere, gets the first's
        pipInstall(scratch, proxy.index(), "fm", "shared-name").assertOk();
        assertThat(scratch.resolve("fm/shared_name/__init__.py")).content().contains("1.0");
      }
      Path mergeCache = Files.createDirectories(scratch.resolve("merge"));
      try (Proxy proxy =
          proxy(mergeCache, Resolution.Merge, false, Map.of(), first.url(), second.url())) {
        String page =
            new String(get(proxy.port(), "/simple/shared-name/").body(), StandardCharsets.UTF_8);
        assertThat(page)
            .contains(sharedOne.getFileName().toString())
            .contains(sharedTwo.getFileName().toString());
      }
    }
  }

  @Test
  void pathsThatEscapeOrNameOtherHostsAre404AndReachNoUpstream(@TempDir Path scratch)
      throws Exception {
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    Files.writeString(
        Files.createDirectories(scratch.resolve("outside")).resolve("secret.whl"), "secret");
    try (FakeUpstream upstream = new FakeUpstream()) {
      upstream.add("proxy-dep", dep);
      try (Proxy proxy = proxy(cache, Resolution.FirstMatch, false, Map.of(), upstream.url())) {
        for (String path :
            List.of(
                "/simple/../../etc/passwd",
                "/simple/..%2f..%2fetc/",
                "/files/proxy-dep/..%2f..%2foutside%2fsecret.whl",
                "/files/proxy-dep/../../outside/secret.whl",
                "/files/proxy-dep/%2e%2e/secret.whl",
                "/files/..%5c..%5coutside/secret.whl",
                "/http://evil.example/simple/proxy-dep/",
                "/https:%2F%2Fevil.example%2Fproxy_dep-1.0-py3-none-any.whl",
                "/files/evil.example/proxy_dep-1.0-py3-none-any.whl",
                "/files/proxy-dep/proxy_dep-6.6-py3-none-any.whl",
                "/_files/",
                "/.proxy/pages/proxy-dep.json",
                "/simple//proxy-dep/",
                "/simple/proxy-dep/../../_files/")) {
          assertThat(rawStatus(proxy.port(), path)).as(path).isEqualTo(404);
        }
        assertThat(upstream.requests).allMatch(r -> r.equals("/simple/proxy-dep/"));
        // a different spelling of a project redirects to its normalized name
        assertThat(rawStatus(proxy.port(), "/simple/Proxy_Dep/")).isEqualTo(301);
      }
    }
  }

  @Test
  void anUpstreamThatDemandsCredentialsGetsThemFromTheEnvironmentAndNothingElseShowsThem(
      @TempDir Path scratch) throws Exception {
    String password = "s3cret-Pa55-in-env";
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    root.addAppender(logs);
    try (FakeUpstream upstream = new FakeUpstream()) {
      upstream.add("proxy-app", app);
      upstream.add("proxy-dep", dep);
      upstream.requireBasic("builder", password);
      Map<String, String> env =
          Map.of(
              "PYPI_PROXY_UPSTREAM_0_USERNAME",
              "builder",
              "PYPI_PROXY_UPSTREAM_0_PASSWORD",
              password);
      try (Proxy proxy = proxy(cache, Resolution.FirstMatch, false, env, upstream.url())) {
        pipInstall(scratch, proxy.index(), "target", "proxy-app").assertOk();
        List<String> seen = new ArrayList<>();
        for (String path :
            List.of(
                "/simple/proxy-app/",
                "/simple/proxy-app/?format=application/vnd.pypi.simple.v1+json",
                "/simple/",
                "/-/metrics")) {
          seen.add(new String(get(proxy.port(), path).body(), StandardCharsets.UTF_8));
        }
        try (Stream<Path> stored = Files.walk(cache)) {
          for (Path file :
              stored
                  .filter(Files::isRegularFile)
                  .filter(f -> f.toString().contains(".proxy"))
                  .toList()) {
            seen.add(Files.readString(file));
          }
        }
        logs.list.forEach(e -> seen.add(e.getFormattedMessage()));
        String encoded =
            java.util.Base64.getEncoder()
                .encodeToString(("builder:" + password).getBytes(StandardCharsets.UTF_8));
        assertThat(seen).isNotEmpty().noneMatch(s -> s.contains(password) || s.contains(encoded));
      }
      // and without them the upstream refuses the proxy, which says so
      Path other = Files.createDirectories(scratch.resolve("other"));
      try (Proxy proxy = proxy(other, Resolution.FirstMatch, false, Map.of(), upstream.url())) {
        assertThat(get(proxy.port(), "/simple/proxy-app/").statusCode()).isEqualTo(502);
      }
    } finally {
      root.detachAppender(logs);
    }
  }

  static HttpResponse<byte[]> get(int port, String path) throws IOException, InterruptedException {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofByteArray());
  }

  /** The status of a request sent byte for byte, so no client library normalizes the path. */
  static int rawStatus(int port, String path) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      String head = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
      return Integer.parseInt(head.substring(9, 12));
    }
  }
}
