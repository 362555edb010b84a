package dev.pypimirror.operator.proxy;

import static dev.pypimirror.operator.proxy.FakeUpstream.randomSdist;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.simple.Resolution;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients speaking HTTP/1.0 (nginx speaks it to what it proxies unless told otherwise) of a file
 * whose upstream sends no length: HTTP/1.0 has no chunked coding, so a body without a length ends
 * where the connection closes, and a client takes a clean close for the end of the file. Such a
 * client is sent the file only once it is whole and checked, with its length; when it cannot be
 * stored and passes through, a failed transfer resets the connection (RST), never a clean close.
 */
class ProxyHttp10Test {
  @TempDir Path scratch;

  /** An upstream serving one file of {@code project} chunked, and a proxy that read its page. */
  private final class Chunked implements AutoCloseable {
    final FakeUpstream upstream = new FakeUpstream();
    final byte[] bytes;
    final String name;
    final String file;
    final Path cache;
    final ProxyApp app;
    final int port;

    Chunked(String project, double highWater) throws Exception {
      Path path = randomSdist(scratch, project, 2);
      bytes = Files.readAllBytes(path);
      name = path.getFileName().toString();
      file = "/files/" + project + "/" + name;
      upstream.add(project, path);
      upstream.filesWithoutLength = true;
      cache = Files.createDirectories(scratch.resolve("cache"));
      app =
          new ProxyApp(
              new ProxySettings(
                  cache,
                  List.of(upstream.url()),
                  "127.0.0.1",
                  0,
                  false,
                  Duration.ofSeconds(600),
                  Resolution.FirstMatch,
                  highWater,
                  ProxySettings.Limits.DEFAULTS),
              Map.of());
      port = app.start();
      assertThat(get(port, "/simple/" + project + "/").statusCode()).isEqualTo(200);
    }

    boolean stored() {
      return cache.resolve("_files").resolve(name).toFile().exists();
    }

    @Override
    public void close() throws Exception {
      try (upstream) {
        app.close();
      }
    }
  }

  @Test
  void isSentTheCheckedFileWithItsLength() throws Exception {
    try (Chunked chunked = new Chunked("plain-ten", 0.99);
        RawConnection client = RawConnection.open("127.0.0.1", chunked.port)) {
      RawConnection.Head head = client.sendAs("HTTP/1.0", "GET", chunked.file).head();

      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(chunked.bytes.length));
      assertThat(client.body(chunked.bytes.length)).isEqualTo(chunked.bytes);
      assertThat(chunked.stored()).isTrue();
      assertThat(chunked.upstream.count("/files/")).isEqualTo(1);
    }
  }

  /** Before, the client got 200 and every byte but the last chunk, then a clean close. */
  @Test
  void isAnswered502ForBytesThatAreNotThePagesHash() throws Exception {
    try (Chunked chunked = new Chunked("bad-ten", 0.99);
        RawConnection client = RawConnection.open("127.0.0.1", chunked.port)) {
      chunked.upstream.corrupt.add(chunked.name);

      RawConnection.Head head = client.sendAs("HTTP/1.0", "GET", chunked.file).head();

      assertThat(head.status()).isEqualTo(502);
      assertThat(client.end().bytes()).isLessThan(1024);
      assertThat(chunked.stored()).isFalse();
    }
  }

  /**
   * An HTTP/1.0 client joining an HTTP/1.1 client's fetch waits for its end and gets the length;
   * before, it streamed the file as it was written, without one.
   */
  @Test
  void joiningAFetchWaitsForItsEndAndGetsTheLength() throws Exception {
    try (Chunked chunked = new Chunked("join-ten", 0.99);
        RawConnection leader = RawConnection.open("127.0.0.1", chunked.port);
        RawConnection joiner = RawConnection.open("127.0.0.1", chunked.port)) {
      CountDownLatch rest = new CountDownLatch(1);
      chunked.upstream.heldAtHalf.put(chunked.name, rest);
      RawConnection.Head first = leader.send("GET", chunked.file).head();
      assertThat(first.header("Transfer-Encoding")).isEqualTo("chunked");
      await().atMost(Duration.ofSeconds(30)).until(() -> chunked.upstream.count("/files/") == 1);
      joiner.sendAs("HTTP/1.0", "GET", chunked.file);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> ProxyHttpTest.gauge(chunked.port, "pypimirror_proxy_clients") == 2);

      rest.countDown();

      RawConnection.Head head = joiner.head();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(chunked.bytes.length));
      assertThat(joiner.body(chunked.bytes.length)).isEqualTo(chunked.bytes);
      assertThat(chunked.upstream.count("/files/")).isEqualTo(1);
    }
  }

  /**
   * With no room to store it, the file passes through as it comes, its end the connection's close:
   * bytes that are not the page's hash end in a reset, which the client cannot take for the end.
   * Before, the reset was a clean close after every byte but the last chunk.
   */
  @Test
  void passingThroughUnstoredAMismatchResetsTheConnection() throws Exception {
    try (Chunked chunked = new Chunked("full-ten", 0.0); // any use of the volume is above the mark
        RawConnection client = RawConnection.open("127.0.0.1", chunked.port)) {
      chunked.upstream.corrupt.add(chunked.name);

      RawConnection.Head head = client.sendAs("HTTP/1.0", "GET", chunked.file).head();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("Content-Length")).isNull();

      RawConnection.Ending ending = client.end();
      assertThat(ending.reset()).isTrue();
      assertThat(ending.bytes()).isLessThan(chunked.bytes.length);
      assertThat(chunked.stored()).isFalse();
    }
  }
}
