package dev.pypimirror.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pypimirror.operator.serving.LogThrottle;
import dev.pypimirror.operator.simple.FileHash;
import dev.pypimirror.operator.simple.FileLink;
import dev.pypimirror.operator.simple.ProjectPage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The proxy's small pieces as tables: routes, upstream credentials and origins, single flight. */
class ProxyPiecesTest {
  @Test
  void permitsGoToWaitersInTurnSkipThoseThatGaveUpAndAreFreedOncePerRelease() throws Exception {
    Permits permits = new Permits(1);
    Runnable held = permits.acquire(java.time.Duration.ofSeconds(30)).get();
    CompletableFuture<Runnable> impatient = permits.acquire(java.time.Duration.ofMillis(1));
    CompletableFuture<Runnable> patient = permits.acquire(java.time.Duration.ofSeconds(30));
    assertThatThrownBy(impatient::join)
        .hasCauseInstanceOf(java.util.concurrent.TimeoutException.class);
    assertThat(patient).isNotDone();

    held.run();
    held.run(); // a second run frees nothing more

    assertThat(patient).isDone();
    assertThat(permits.inUse()).isEqualTo(1);
    CompletableFuture<Runnable> third = permits.acquire(java.time.Duration.ofSeconds(30));
    assertThat(third).isNotDone();
    patient.join().run();
    assertThat(third).isDone();
    third.join().run();
    assertThat(permits.inUse()).isZero();
  }

  @Test
  void aClientGetsItsLimitAndNoMoreAndIsForgottenWhenItHasNothingInFlight() {
    ClientLimit limit = new ClientLimit(2);
    Runnable first = limit.acquire("10.0.0.7").orElseThrow();
    Runnable second = limit.acquire("10.0.0.7").orElseThrow();

    assertThat(limit.acquire("10.0.0.7")).isEmpty(); // refused: nothing counted
    assertThat(limit.inFlight("10.0.0.7")).isEqualTo(2);
    Runnable other = limit.acquire("10.0.0.8").orElseThrow(); // another client is not held up
    assertThat(limit.clients()).isEqualTo(2);

    first.run();
    first.run(); // a second run frees nothing more
    assertThat(limit.inFlight("10.0.0.7")).isEqualTo(1);
    Runnable third = limit.acquire("10.0.0.7").orElseThrow();
    assertThat(limit.acquire("10.0.0.7")).isEmpty();
    second.run();
    third.run();
    other.run();

    assertThat(limit.clients()).isZero(); // no entry left behind
    assertThat(limit.inFlight("10.0.0.7")).isZero();
    assertThat(limit.acquire("10.0.0.7")).isPresent();
    assertThat(limit.acquire("10.0.0.7")).isPresent(); // all of its limit again
  }

  @Test
  void aThrottledLineIsLoggedOncePerKeyPerIntervalAndRemembersBoundedKeys() {
    AtomicLong now = new AtomicLong();
    LogThrottle throttle = new LogThrottle(Duration.ofSeconds(60), 2, now::get);

    assertThat(throttle.mayLog("a")).isTrue();
    assertThat(throttle.mayLog("a")).isFalse();
    assertThat(throttle.mayLog("b")).isTrue();
    assertThat(throttle.mayLog("c")).isFalse(); // two remembered: a third waits its turn
    now.addAndGet(Duration.ofSeconds(59).toNanos());
    assertThat(throttle.mayLog("a")).isFalse();

    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(throttle.mayLog("c")).isTrue(); // a and b aged out
    assertThat(throttle.mayLog("a")).isTrue();
    assertThat(throttle.remembered()).isEqualTo(2);
    for (int i = 0; i < 10_000; i++) {
      throttle.mayLog("flood-" + i);
    }
    assertThat(throttle.remembered()).isEqualTo(2);
  }

  @Test
  void aCachedFileAnswersOnlyForThePageHeldNowWhenThatPageListsItsBytes() {
    List<Upstream> upstreams =
        List.of(
            new Upstream(0, URI.create("https://private.example/simple/"), null),
            new Upstream(1, URI.create("https://pypi.example/simple/"), null));
    String sha = "a".repeat(64);
    String other = "b".repeat(64);
    String name = "demo-1.0.tar.gz";
    Route.File file = new Route.File("demo", name, false);
    Route.File metadata = new Route.File("demo", name, true);
    java.util.function.BiFunction<String, Map<String, String>, FileLink> link =
        (hash, core) ->
            new FileLink(
                name,
                "https://files.example/" + name,
                hash == null ? Map.of() : Map.of("sha256", hash),
                null,
                null,
                core);
    java.util.function.Function<FileLink, Optional<ServedPage>> page =
        l ->
            Optional.of(
                ServedPage.project(
                    new ProjectPage("demo", List.of(l)), Map.of(name, 0), java.time.Instant.EPOCH));
    FileStore.CachedFile fromPrivate =
        new FileStore.CachedFile(
            name, Path.of(name), 1, sha, "https://private.example/simple/", null);
    FileStore.CachedFile fromPublic =
        new FileStore.CachedFile(
            name, Path.of(name), 1, other, "https://pypi.example/simple/", null);
    FileStore.CachedFile synced =
        new FileStore.CachedFile(name, Path.of(name), 1, null, null, null);

    assertThat(ProxyServer.listed(Optional.empty(), file, fromPublic, upstreams))
        .as("no page in memory: served")
        .isEqualTo(ProxyServer.Listed.YES);
    assertThat(
            ProxyServer.listed(
                page.apply(
                    new FileLink(
                        "demo-2.0.tar.gz",
                        "https://x/demo-2.0.tar.gz",
                        Map.of(),
                        null,
                        null,
                        null)),
                file,
                fromPrivate,
                upstreams))
        .isEqualTo(ProxyServer.Listed.NOT_LISTED);
    assertThat(ProxyServer.listed(page.apply(link.apply(sha, null)), file, fromPrivate, upstreams))
        .isEqualTo(ProxyServer.Listed.YES);
    assertThat(ProxyServer.listed(page.apply(link.apply(sha, null)), file, fromPublic, upstreams))
        .as("another sha256")
        .isEqualTo(ProxyServer.Listed.ANOTHER_FILE);
    assertThat(ProxyServer.listed(page.apply(link.apply(null, null)), file, fromPublic, upstreams))
        .as("no hash on the page, fetched from another upstream")
        .isEqualTo(ProxyServer.Listed.ANOTHER_FILE);
    assertThat(ProxyServer.listed(page.apply(link.apply(null, null)), file, fromPrivate, upstreams))
        .isEqualTo(ProxyServer.Listed.YES);
    assertThat(ProxyServer.listed(page.apply(link.apply(sha, null)), file, synced, upstreams))
        .as("a sync's file: nothing says it is another")
        .isEqualTo(ProxyServer.Listed.YES);
    assertThat(
            ProxyServer.listed(
                page.apply(link.apply(sha, Map.of("sha256", other))),
                metadata,
                fromPublic,
                upstreams))
        .as("core metadata is checked against its own hash")
        .isEqualTo(ProxyServer.Listed.YES);
    assertThat(
            ProxyServer.listed(
                page.apply(link.apply(other, Map.of("sha256", sha))),
                metadata,
                fromPublic,
                upstreams))
        .isEqualTo(ProxyServer.Listed.ANOTHER_FILE);

    // a page that gives md5 only: compared with the md5 the file was checked against when fetched
    String md5 = "c".repeat(32);
    FileStore.CachedFile checkedMd5 =
        new FileStore.CachedFile(
            name,
            Path.of(name),
            1,
            sha,
            "https://private.example/simple/",
            new FileHash("md5", md5));
    java.util.function.Function<Map<String, String>, Optional<ServedPage>> hashed =
        hashes ->
            page.apply(
                new FileLink(name, "https://files.example/" + name, hashes, null, null, null));
    assertThat(ProxyServer.listed(hashed.apply(Map.of("md5", md5)), file, checkedMd5, upstreams))
        .isEqualTo(ProxyServer.Listed.YES);
    assertThat(
            ProxyServer.listed(
                hashed.apply(Map.of("md5", "d".repeat(32))), file, checkedMd5, upstreams))
        .as("the page's md5 changed: another file, from the same upstream")
        .isEqualTo(ProxyServer.Listed.ANOTHER_FILE);
    assertThat(
            ProxyServer.listed(
                hashed.apply(Map.of("sha512", "e".repeat(128))), file, checkedMd5, upstreams))
        .as("a hash of an algorithm the file was not checked with: the same upstream's")
        .isEqualTo(ProxyServer.Listed.YES);
    assertThat(
            ProxyServer.listed(
                hashed.apply(Map.of("sha512", "e".repeat(128))), file, fromPublic, upstreams))
        .isEqualTo(ProxyServer.Listed.ANOTHER_FILE);
    assertThat(
            ProxyServer.listed(
                hashed.apply(Map.of("md5", md5, "sha256", other)), file, checkedMd5, upstreams))
        .as("the page's sha256 is compared first")
        .isEqualTo(ProxyServer.Listed.ANOTHER_FILE);
    assertThat(
            ProxyServer.listed(
                hashed.apply(Map.of("blake2b", "f".repeat(128))), file, fromPublic, upstreams))
        .as("blake2b is no hash the proxy checks: the upstream decides")
        .isEqualTo(ProxyServer.Listed.ANOTHER_FILE);
  }

  @Test
  void aFileComesFromTheFirstUpstreamThatAnsweredWithItThisTimeNeverFromAFailedOnesKeptRecord() {
    FileLink file =
        new FileLink("demo-1.0.tar.gz", "https://x/demo-1.0.tar.gz", Map.of(), null, null, null);
    ProjectPage page = new ProjectPage("demo", List.of(file));
    Map<Integer, PageCache.Record> records =
        Map.of(
            0, new PageCache.Record(true, page, null, null), // kept from before: 0 failed now
            1, new PageCache.Record(true, page, null, null));

    assertThat(
            PageCache.upstreamOf(
                records,
                List.of(
                    new dev.pypimirror.operator.simple.Resolution.Answer.Failed(),
                    new dev.pypimirror.operator.simple.Resolution.Answer.Found(page))))
        .containsExactly(Map.entry("demo-1.0.tar.gz", 1));
    assertThat(
            PageCache.upstreamOf(
                records,
                List.of(
                    new dev.pypimirror.operator.simple.Resolution.Answer.Found(page),
                    new dev.pypimirror.operator.simple.Resolution.Answer.Found(page))))
        .containsExactly(Map.entry("demo-1.0.tar.gz", 0));
  }

  @Test
  void aRangeHeaderGivesTheBytesItNamesTheWholeFileOrA416() {
    assertThat(ProxyServer.span(null, 100)).contains(new ProxyServer.Span(0, 100, false));
    assertThat(ProxyServer.span("bytes=10-19", 100)).contains(new ProxyServer.Span(10, 10, true));
    assertThat(ProxyServer.span("bytes=90-", 100)).contains(new ProxyServer.Span(90, 10, true));
    assertThat(ProxyServer.span("bytes=-5", 100)).contains(new ProxyServer.Span(95, 5, true));
    assertThat(ProxyServer.span("bytes=-500", 100)).contains(new ProxyServer.Span(0, 100, true));
    assertThat(ProxyServer.span("bytes=0-99999999999999999999", 100))
        .contains(new ProxyServer.Span(0, 100, true));
    assertThat(ProxyServer.span("bytes=100-", 100)).as("past the end: 416").isEmpty();
    assertThat(ProxyServer.span("bytes=5-2", 100)).isEmpty();
    assertThat(ProxyServer.span("bytes=1-2,5-6", 100))
        .as("not one plain range: the whole file")
        .contains(new ProxyServer.Span(0, 100, false));
    assertThat(new ProxyServer.Span(10, 10, true).contentRange(100)).isEqualTo("bytes 10-19/100");
  }

  @Test
  void routes() {
    assertThat(Route.of("/simple/")).isEqualTo(new Route.Root());
    assertThat(Route.of("/simple/foo-bar/")).isEqualTo(new Route.Project("foo-bar"));
    assertThat(Route.of("/simple/Foo_Bar/")).isEqualTo(new Route.Redirect("../foo-bar/"));
    assertThat(Route.of("/simple/Foo_Bar")).isEqualTo(new Route.Redirect("foo-bar/"));
    assertThat(Route.of("/files/foo-bar/foo_bar-1.0-py3-none-any.whl"))
        .isEqualTo(new Route.File("foo-bar", "foo_bar-1.0-py3-none-any.whl", false));
    assertThat(Route.of("/files/foo-bar/foo_bar-1.0-py3-none-any.whl.metadata"))
        .isEqualTo(new Route.File("foo-bar", "foo_bar-1.0-py3-none-any.whl", true));
    assertThat(Route.of("/-/status")).isEqualTo(new Route.Status());
    assertThat(Route.of("/-/healthz")).isEqualTo(new Route.NotFound()); // HttpServing answers it
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/",
        "/simple",
        "/simple//",
        "/simple/../",
        "/simple/./foo/",
        "/simple/foo%2fbar/",
        "/simple/foo%2Fbar/",
        "/simple/%2e%2e/",
        "/simple/foo%00/",
        "/simple/foo\\bar/",
        "/simple/foo%25/",
        "/simple/foo%zz/",
        "/simple/a/b/",
        "/files/foo/../x.whl",
        "/files/Foo/foo-1.0.tar.gz",
        "/files/foo/.hidden.whl",
        "/files/foo/foo-1.0.tar.gz/",
        "/files/foo/foo%c3%28.whl",
        "/_files/foo-1.0.tar.gz",
        "http://evil.example/simple/foo/",
        "/http://evil.example/",
      })
  void anythingElseIsNotFound(String path) {
    assertThat(Route.of(path)).isEqualTo(new Route.NotFound());
  }

  static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void credentialsComeFromTheEnvironmentOrFilesPerUpstreamNumber() {
    var upstreams =
        Upstream.of(
            List.of(
                "https://a.example/simple",
                "https://b.example/simple/",
                "https://c.example/simple/"),
            Map.of(
                "PYPI_PROXY_UPSTREAM_0_USERNAME", "u",
                "PYPI_PROXY_UPSTREAM_0_PASSWORD", "p",
                "PYPI_PROXY_UPSTREAM_2_TOKEN_FILE", "/secret/token"),
            path -> path.equals("/secret/token") ? "tok\n" : null);
    assertThat(upstreams.get(0).authorization()).isEqualTo(basic("u", "p"));
    assertThat(upstreams.get(0).url()).isEqualTo(URI.create("https://a.example/simple/"));
    assertThat(upstreams.get(1).authorization()).isNull();
    assertThat(upstreams.get(2).authorization()).isEqualTo(basic("__token__", "tok"));
    assertThat(upstreams.get(0).toString())
        .doesNotContain(basic("u", "p"))
        .contains("with credentials");
  }

  @Test
  void credentialsOnTheCommandLineOrGivenInHalfAreRefusedWithoutShowingThem() {
    assertThatThrownBy(
            () -> Upstream.of(List.of("https://u:hunter2@a.example/simple/"), Map.of(), p -> ""))
        .hasMessageContaining("environment")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(
            () ->
                Upstream.of(
                    List.of("https://a.example/simple/"),
                    Map.of("PYPI_PROXY_UPSTREAM_0_USERNAME", "u"),
                    p -> ""))
        .hasMessageContaining("password");
    assertThatThrownBy(() -> Upstream.of(List.of("file:///etc/"), Map.of(), p -> ""))
        .hasMessageContaining("http");
  }

  @Test
  void credentialsGoOnlyToTheUpstreamsOriginAndFilesOnlyFromHttpsOrThere() {
    Upstream upstream =
        Upstream.of(
                List.of("http://index.corp:8080/simple/"),
                Map.of("PYPI_PROXY_UPSTREAM_0_TOKEN", "t"),
                p -> "")
            .get(0);
    assertThat(upstream.authorizationFor(URI.create("http://index.corp:8080/files/x.whl")))
        .isNotNull();
    assertThat(upstream.authorizationFor(URI.create("https://index.corp/files/x.whl"))).isNull();
    assertThat(upstream.authorizationFor(URI.create("http://other.corp:8080/x.whl"))).isNull();
    assertThat(upstream.mayFetch(URI.create("http://index.corp:8080/files/x.whl"))).isTrue();
    assertThat(upstream.mayFetch(URI.create("https://files.example/x.whl"))).isTrue();
    assertThat(upstream.mayFetch(URI.create("http://169.254.169.254/latest/meta-data"))).isFalse();
    assertThat(upstream.mayFetch(URI.create("https://u:p@files.example/x.whl"))).isFalse();
    assertThat(upstream.mayFetch(URI.create("file:///etc/passwd"))).isFalse();
  }

  @Test
  void aPageCannotListAnotherProjectsFileOrAUrlTheProxyMayNotFetch() {
    Upstream upstream = Upstream.of(List.of("http://index.corp/simple/"), Map.of(), p -> "").get(0);
    ProjectPage page =
        new ProjectPage(
            "foo",
            List.of(
                link("foo-1.0-py3-none-any.whl", "http://index.corp/f/foo-1.0-py3-none-any.whl"),
                link("bar-1.0-py3-none-any.whl", "http://index.corp/f/bar-1.0-py3-none-any.whl"),
                link("foo-2.0-py3-none-any.whl", "http://elsewhere/foo-2.0-py3-none-any.whl"),
                link("foo-3.0-py3-none-any.whl", "https://cdn.example/foo-3.0-py3-none-any.whl"),
                link("../foo-4.0-py3-none-any.whl", "https://cdn.example/x.whl")));
    assertThat(PageCache.allowed(upstream, page).files())
        .extracting(FileLink::filename)
        .containsExactly("foo-1.0-py3-none-any.whl", "foo-3.0-py3-none-any.whl");
  }

  static FileLink link(String name, String url) {
    return new FileLink(name, url, Map.of(), "", null, null);
  }

  @Test
  void singleFlightRunsTheWorkOncePerKeyAtATime() {
    SingleFlight<String, String> flight = new SingleFlight<>();
    AtomicInteger runs = new AtomicInteger();
    CompletableFuture<String> gate = new CompletableFuture<>();
    var first =
        flight.run(
            "k",
            () -> {
              runs.incrementAndGet();
              return gate;
            });
    var second =
        flight.run(
            "k",
            () -> {
              runs.incrementAndGet();
              return CompletableFuture.completedFuture("other");
            });
    var third =
        flight.run(
            "j",
            () -> {
              runs.incrementAndGet();
              return CompletableFuture.completedFuture("j");
            });
    assertThat(second).isSameAs(first);
    gate.complete("done");
    assertThat(first.join()).isEqualTo("done");
    assertThat(third.join()).isEqualTo("j");
    assertThat(runs).hasValue(2);
    // once done, the key is free again
    flight.run(
        "k",
        () -> {
          runs.incrementAndGet();
          return CompletableFuture.completedFuture("again");
        });
    assertThat(runs).hasValue(3);
    assertThat(flight.size()).isZero();
  }

  @Test
  void gzipOnlyWhenAskedForWithAPositiveQuality() {
    assertThat(ProxyServer.acceptsGzip("gzip, deflate")).isTrue();
    assertThat(ProxyServer.acceptsGzip("br;q=1, gzip;q=0.5")).isTrue();
    assertThat(ProxyServer.acceptsGzip("gzip;q=0")).isFalse();
    assertThat(ProxyServer.acceptsGzip(null)).isFalse();
    assertThat(ProxyServer.acceptsGzip("identity")).isFalse();
  }
}
