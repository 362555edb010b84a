package dev.pypimirror.operator.proxy;

import static dev.pypimirror.operator.proxy.FakeUpstream.randomSdist;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.gauge;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.get;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.limited;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pypimirror.operator.proxy.ProxyEndToEndTest.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Each client address's share of the upstream connections, through real HTTP on loopback (127.0.0.1
 * is one client, 127.0.0.2 another) in front of an upstream that holds its file answers until the
 * test lets them go: one client's cold downloads beyond its share wait in its own line while
 * another client's go upstream at once, and a place not had within the wait is a 503 with
 * Retry-After.
 */
class ProxyUpstreamShareTest {
  static final List<String> PROJECTS =
      List.of("share-a", "share-b", "share-c", "share-d", "share-e");

  FakeUpstream upstream;
  List<Path> files = new ArrayList<>();

  Proxy proxy(Path scratch, int upstreamConnections, int perClient, Duration wait)
      throws Exception {
    upstream = new FakeUpstream();
    for (String project : PROJECTS) {
      Path file = randomSdist(scratch, project, 1);
      upstream.add(project, file);
      files.add(file);
    }
    Proxy proxy =
        limited(
            Files.createDirectories(scratch.resolve("cache")),
            new ProxySettings.Limits(
                1024,
                64,
                upstreamConnections,
                perClient,
                wait,
                ProxySettings.Limits.DEFAULTS.transferStall()),
            upstream);
    for (String project : PROJECTS) { // the pages first, as pip and uv ask: only files are held
      assertThat(get(proxy.port(), "/simple/" + project + "/").statusCode()).isEqualTo(200);
    }
    upstream.filesHeld = new CountDownLatch(1);
    return proxy;
  }

  String path(int i) {
    return "/files/" + PROJECTS.get(i) + "/" + files.get(i).getFileName();
  }

  @Test
  void aClientBeyondItsShareWaitsInItsOwnLineWhileAnotherClientGoesUpstreamAtOnce(
      @TempDir Path scratch) throws Exception {
    List<RawConnection> first = new ArrayList<>();
    try (Proxy proxy = proxy(scratch, 4, 2, Duration.ofSeconds(30));
        FakeUpstream upstream = this.upstream) {
      int port = proxy.port();
      for (int i = 0; i < 4; i++) {
        first.add(RawConnection.open("127.0.0.1", port).send("GET", path(i)));
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> gauge(port, "pypimirror_proxy_clients") == 4 && upstream.filesInFlight() == 2);
      assertThat(gauge(port, "pypimirror_proxy_upstream_connections")).isEqualTo(2);

      // two of the four connections are free, but not to the first client: the second one's file
      // goes upstream while the first client's other two still wait
      try (RawConnection second = RawConnection.open("127.0.0.2", port).send("GET", path(4))) {
        await().atMost(Duration.ofSeconds(30)).until(() -> upstream.filesInFlight() == 3);
        assertThat(upstream.count("/files/" + files.get(4).getFileName())).isEqualTo(1);
        assertThat(upstream.count("/files/")).isEqualTo(3);

        upstream.filesHeld.countDown();
        assertThat(second.head().status()).isEqualTo(200);
      }
      for (RawConnection connection : first) {
        assertThat(connection.head().status()).isEqualTo(200);
      }
      assertThat(upstream.count("/files/")).isEqualTo(5);
      assertThat(upstream.mostFilesAtOnce).hasValue(3); // the first client never had more than 2
    } finally {
      for (RawConnection connection : first) {
        connection.close();
      }
    }
  }

  /**
   * A client that joins the fetch of a file another client leads, that client's share taken for the
   * whole wait: its own share is free, so it fetches the file itself when that fetch ends busy.
   * Before, it waited in the other client's line and got that client's 503.
   */
  @Test
  void aJoinerIsNotAnsweredAnotherClientsShareBusy(@TempDir Path scratch) throws Exception {
    try (Proxy proxy = proxy(scratch, 4, 1, Duration.ofSeconds(2));
        FakeUpstream upstream = this.upstream;
        RawConnection holding =
            RawConnection.open("127.0.0.1", proxy.port()).send("GET", path(0))) {
      int port = proxy.port();
      await().atMost(Duration.ofSeconds(30)).until(() -> upstream.filesInFlight() == 1);
      try (RawConnection busy = RawConnection.open("127.0.0.1", port).send("GET", path(1));
          RawConnection joiner = RawConnection.open("127.0.0.2", port)) {
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> gauge(port, "pypimirror_proxy_clients") == 2);
        joiner.send("GET", path(1)); // joins the fetch waiting in the first client's line

        assertThat(busy.head().status()).isEqualTo(503);
        await().atMost(Duration.ofSeconds(30)).until(() -> upstream.filesInFlight() == 2);
        upstream.filesHeld.countDown();

        RawConnection.Head head = joiner.head();
        assertThat(head.status()).isEqualTo(200);
        assertThat(joiner.body(Files.size(files.get(1))))
            .isEqualTo(Files.readAllBytes(files.get(1)));
        assertThat(upstream.count("/files/" + files.get(1).getFileName())).isEqualTo(1);
      }
      assertThat(holding.head().status()).isEqualTo(200);
    }
  }

  @Test
  void aClientWhoseShareStaysTakenForTheWholeWaitGets503WithRetryAfter(@TempDir Path scratch)
      throws Exception {
    Logger log = (Logger) LoggerFactory.getLogger(ProxyServer.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    log.addAppender(lines);
    try (Proxy proxy = proxy(scratch, 4, 1, Duration.ofMillis(300));
        FakeUpstream upstream = this.upstream;
        RawConnection holding =
            RawConnection.open("127.0.0.1", proxy.port()).send("GET", path(0))) {
      int port = proxy.port();
      await().atMost(Duration.ofSeconds(30)).until(() -> upstream.filesInFlight() == 1);

      var busy = get(port, path(1)); // the same client, its one place taken
      assertThat(busy.statusCode()).isEqualTo(503);
      assertThat(busy.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(text(get(port, "/-/metrics")))
          .contains("pypimirror_proxy_requests_total{kind=\"file\",outcome=\"busy\"} 1.0");
      assertThat(upstream.count("/files/")).isEqualTo(1);
      // the log says which bound it was: the client's share, not every connection
      assertThat(lines.list)
          .extracting(ILoggingEvent::getFormattedMessage)
          .anyMatch(line -> line.contains(UpstreamClient.UpstreamBusy.CLIENT_SHARE));

      try (RawConnection other = RawConnection.open("127.0.0.2", port).send("GET", path(2))) {
        await().atMost(Duration.ofSeconds(30)).until(() -> upstream.filesInFlight() == 2);
        upstream.filesHeld.countDown();
        assertThat(other.head().status()).isEqualTo(200);
      }
      assertThat(holding.head().status()).isEqualTo(200);
    } finally {
      log.detachAppender(lines);
    }
  }
}
