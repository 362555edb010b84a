package dev.pypimirror.operator.proxy;

import static dev.pypimirror.operator.proxy.FakeUpstream.randomSdist;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.gauge;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.get;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.limited;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.limits;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pypimirror.operator.proxy.ProxyEndToEndTest.Proxy;
import dev.pypimirror.operator.testing.Python;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The bound on one client address, through real HTTP on loopback (127.0.0.1 is one client,
 * 127.0.0.2 another): over it a client gets 429 with Retry-After while other clients, the probes
 * and the status are served, one log line says so however many are refused, and every way a request
 * ends (answered, failed, client gone, transfer cut) gives its place back, so the same client has
 * all of its bound again and no entry is left behind.
 */
class ProxyClientLimitTest {
  static final int PER_CLIENT = 2;

  @Test
  void aClientOverItsBoundGets429UntilItsRequestsEndHoweverTheyEnd(@TempDir Path scratch)
      throws Exception {
    Path dep = new Python(scratch).buildWheel(scratch, "Proxy_Dep", "1.0");
    Path stuck = randomSdist(scratch, "stuck-thing", 1);
    FakeUpstream upstream = new FakeUpstream();
    upstream.add("proxy-dep", dep);
    upstream.add("stuck-thing", stuck);
    upstream.stalled.add(stuck.getFileName().toString());
    upstream.trickledPages.add("slow-page");
    upstream.trickledPages.add("slow-page-again");
    String file = "/files/proxy-dep/" + dep.getFileName();
    Logger log = (Logger) LoggerFactory.getLogger(ProxyServer.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    log.addAppender(lines);
    List<RawConnection> held = new ArrayList<>();
    try (upstream;
        Proxy proxy =
            limited(
                Files.createDirectories(scratch.resolve("cache")),
                limits(1024, PER_CLIENT, 64, Duration.ofSeconds(1)),
                upstream)) {
      int port = proxy.port();
      assertThat(get(port, "/simple/proxy-dep/").statusCode()).isEqualTo(200);
      assertThat(get(port, "/simple/stuck-thing/").statusCode()).isEqualTo(200);

      // the client's bound taken by pages whose upstream trickles (30 s before they fail)
      for (int i = 0; i < PER_CLIENT; i++) {
        held.add(RawConnection.open("127.0.0.1", port).send("GET", "/simple/slow-page/"));
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gauge(port, "pypimirror_proxy_clients") == PER_CLIENT);

      for (int i = 0; i < 20; i++) {
        HttpResponse<byte[]> refused = get(port, "/simple/proxy-dep/");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
      }
      assertThat(get(port, file).statusCode()).isEqualTo(429);
      // probes, metrics and the operator's status ask are not the client's requests
      assertThat(get(port, "/-/healthz").statusCode()).isEqualTo(200);
      assertThat(get(port, "/-/readyz").statusCode()).isEqualTo(200);
      assertThat(get(port, "/-/status").statusCode()).isEqualTo(200);
      // another client is served
      try (RawConnection other = RawConnection.open("127.0.0.2", port)) {
        assertThat(other.send("GET", "/simple/proxy-dep/").head().status()).isEqualTo(200);
      }
      String metrics = text(get(port, "/-/metrics"));
      assertThat(metrics)
          .contains("pypimirror_proxy_requests_total{kind=\"page\",outcome=\"client_limit\"} 20.0")
          .contains("pypimirror_proxy_requests_total{kind=\"file\",outcome=\"client_limit\"} 1.0")
          .contains("pypimirror_proxy_client_addresses 1.0");
      assertThat(lines.list)
          .filteredOn(e -> e.getLevel() == Level.WARN)
          .extracting(ILoggingEvent::getFormattedMessage)
          .singleElement()
          .asString()
          .contains("client 127.0.0.1 has 2 requests under way (--max-per-client)");

      // the client goes: its places come back
      for (RawConnection connection : held) {
        connection.close();
      }
      held.clear();
      awaitNothingInFlight(port);

      // transfers the proxy cuts (the upstream stalls mid-file); one that comes while the cut
      // fetch is still failing shares its failure, a 502 (the connection then closes as asked)
      for (int i = 0; i < PER_CLIENT; i++) {
        try (RawConnection cut = RawConnection.open("127.0.0.1", port)) {
          cut.send("GET", "/files/stuck-thing/" + stuck.getFileName(), "Connection", "close");
          assertThat(cut.drain()).isLessThan(Files.size(stuck));
        }
      }
      awaitNothingInFlight(port);

      // answered, and failed
      assertThat(get(port, file).statusCode()).isEqualTo(200);
      assertThat(get(port, file).statusCode()).isEqualTo(200);
      assertThat(get(port, "/files/proxy-dep/proxy_dep-9.9.tar.gz").statusCode()).isEqualTo(404);
      assertThat(get(port, "/simple/nowhere/").statusCode()).isEqualTo(404);
      assertThat(get(port, "/elsewhere").statusCode()).isEqualTo(404);
      awaitNothingInFlight(port);

      // the same client has all of its bound again, and no more
      for (int i = 0; i < PER_CLIENT; i++) {
        held.add(RawConnection.open("127.0.0.1", port).send("GET", "/simple/slow-page-again/"));
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gauge(port, "pypimirror_proxy_clients") == PER_CLIENT);
      assertThat(get(port, "/simple/proxy-dep/").statusCode()).isEqualTo(429);
    } finally {
      log.detachAppender(lines);
      for (RawConnection connection : held) {
        connection.close();
      }
    }
  }

  /**
   * A client that leaves in the middle of a cached file (sent by the kernel) gives its place back:
   * Vert.x does not call a response's end handler when its connection goes during a sendFile. Its
   * leaving is no error of the proxy's: no ERROR line (Vert.x logs one, with a stack trace, for a
   * connection without an exception handler).
   */
  @Test
  void aClientThatLeavesDuringACachedFileGivesItsPlaceBack(@TempDir Path scratch) throws Exception {
    Path big = randomSdist(scratch, "big-thing", 32);
    FakeUpstream upstream = new FakeUpstream();
    upstream.add("big-thing", big);
    String file = "/files/big-thing/" + big.getFileName();
    Logger vertx = (Logger) LoggerFactory.getLogger("io.vertx");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    vertx.addAppender(lines);
    try (upstream;
        Proxy proxy =
            limited(
                Files.createDirectories(scratch.resolve("cache")),
                limits(1024, PER_CLIENT, 64, Duration.ofSeconds(30)),
                upstream)) {
      int port = proxy.port();
      assertThat(get(port, "/simple/big-thing/").statusCode()).isEqualTo(200);
      assertThat(get(port, file).body()).hasSize(Math.toIntExact(Files.size(big))); // cached now

      for (int i = 0; i < PER_CLIENT * 3; i++) {
        try (RawConnection left = RawConnection.open("127.0.0.1", port)) {
          assertThat(left.send("GET", file).head().status()).isEqualTo(200);
          left.body(1024); // then goes, 32 MiB unread
        }
      }
      awaitNothingInFlight(port);
      assertThat(get(port, file).statusCode()).isEqualTo(200);
      assertThat(text(get(port, "/-/metrics")))
          .doesNotContainPattern("outcome=\"client_limit\"\\} [1-9]");
      assertThat(lines.list)
          .as("what Vert.x logged")
          .noneMatch(line -> line.getLevel().isGreaterOrEqual(Level.WARN));
    } finally {
      vertx.detachAppender(lines);
    }
  }

  /**
   * Real pip, its one client place taken: its page request gets 429, it waits the Retry-After and
   * asks again, and once the place is free its download goes through.
   */
  @Test
  void pipWaitsOutA429AndDownloadsOnceItsClientHasRoomAgain(@TempDir Path scratch)
      throws Exception {
    Python python = new Python(scratch);
    Path dep = python.buildWheel(scratch, "Proxy_Dep", "1.0");
    Path downloads = Files.createDirectories(scratch.resolve("downloads"));
    FakeUpstream upstream = new FakeUpstream();
    upstream.add("proxy-dep", dep);
    upstream.trickledPages.add("slow-page");
    try (upstream;
        Proxy proxy =
            limited(
                Files.createDirectories(scratch.resolve("cache")),
                limits(1024, 1, 64, Duration.ofSeconds(30)),
                upstream);
        RawConnection hold = RawConnection.open("127.0.0.1", proxy.port())) {
      int port = proxy.port();
      hold.send("GET", "/simple/slow-page/");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gauge(port, "pypimirror_proxy_clients") == 1);

      CompletableFuture<Python.Result> pip =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return python.run(
                      downloads,
                      Map.of("PIP_RETRIES", "60"), // 60 answers of 429, 1 s apart, at most
                      "-m",
                      "pip",
                      "download",
                      "--no-deps",
                      "-d",
                      downloads.toString(),
                      "--index-url",
                      proxy.index(),
                      "proxy-dep");
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> refused(port, "page") >= 1 || pip.isDone());
      hold.close(); // the place is free

      pip.get(120, TimeUnit.SECONDS).assertOk();
      assertThat(downloads.resolve(dep.getFileName())).hasSameBinaryContentAs(dep);
      assertThat(refused(port, "page")).isPositive();
    }
  }

  /** How many requests of {@code kind} were answered 429. */
  static double refused(int port, String kind) throws Exception {
    String series =
        "pypimirror_proxy_requests_total{kind=\"" + kind + "\",outcome=\"client_limit\"} ";
    return text(get(port, "/-/metrics"))
        .lines()
        .filter(l -> l.startsWith(series))
        .mapToDouble(l -> Double.parseDouble(l.substring(series.length())))
        .findFirst()
        .orElseThrow();
  }

  /** No request in flight, and no client address remembered. */
  static void awaitNothingInFlight(int port) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                gauge(port, "pypimirror_proxy_clients") == 0
                    && gauge(port, "pypimirror_proxy_client_addresses") == 0);
  }
}
