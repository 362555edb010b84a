package dev.pypimirror.operator.proxy;

import static dev.pypimirror.operator.proxy.FakeUpstream.randomSdist;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.drain;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.gauge;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.get;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.getAsync;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.limited;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.limits;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.rawGet;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.proxy.ProxyEndToEndTest.Proxy;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that ask for a file while another one's request is fetching it (joiners), through real
 * HTTP on loopback: they get the leader's head and stream the file as it is written, whatever the
 * first client does (reads nothing, leaves); the upstream is read once, at its own pace; a hash
 * mismatch resets every one of them and stores nothing.
 */
class ProxyJoinersTest {
  @TempDir Path scratch;

  /**
   * A file of {@code mib} MiB of {@code project} on an upstream that sends its first half and holds
   * the rest until {@link #rest} is counted down, and a proxy (with that stall bound) whose page of
   * the project is fetched.
   */
  private final class HeldFile implements AutoCloseable {
    final byte[] bytes;
    final int half;
    final String name;
    final String file;
    final FakeUpstream upstream = new FakeUpstream();
    final CountDownLatch rest = new CountDownLatch(1);
    final Path cache;
    final Proxy proxy;
    final int port;

    HeldFile(String project, int mib, Duration stall) throws Exception {
      Path path = randomSdist(scratch, project, mib);
      bytes = Files.readAllBytes(path);
      half = bytes.length / 2;
      name = path.getFileName().toString();
      file = "/files/" + project + "/" + name;
      upstream.add(project, path);
      upstream.heldAtHalf.put(name, rest);
      cache = Files.createDirectories(scratch.resolve("cache"));
      proxy = limited(cache, limits(1024, 64, stall), upstream);
      port = proxy.port();
      assertThat(get(port, "/simple/" + project + "/").statusCode()).isEqualTo(200);
    }

    /** Once the proxy asked the upstream for the file: a request now joins that fetch. */
    void awaitFetching() {
      await().atMost(Duration.ofSeconds(30)).until(() -> upstream.count("/files/") == 1);
    }

    void awaitStored() {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> ProxyEndToEndTest.cachedFiles(cache).contains(name));
      assertThat(cache.resolve("_files").resolve(name)).hasBinaryContent(bytes);
    }

    @Override
    public void close() throws Exception {
      try (upstream) {
        proxy.close();
      }
    }
  }

  /** Before the change, the second client got its first byte only once the stuck one was cut. */
  @Test
  void aFirstClientThatReadsNothingHoldsNobodyElseAndIsCutOffAlone() throws Exception {
    try (HeldFile held = new HeldFile("big-thing", 24, Duration.ofSeconds(10));
        java.net.Socket stuck = rawGet(held.port, held.file)) { // reads nothing from here on
      held.awaitFetching();
      CompletableFuture<HttpResponse<byte[]>> second = getAsync(held.port, held.file);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gauge(held.port, "pypimirror_proxy_clients") == 2);
      held.rest.countDown();

      HttpResponse<byte[]> got = second.get(60, TimeUnit.SECONDS);
      assertThat(got.statusCode()).isEqualTo(200);
      assertThat(FakeUpstream.sha256(got.body())).isEqualTo(FakeUpstream.sha256(held.bytes));
      // the stuck client is still being served (its stall bound is not reached): the second one
      // did not wait for it to be cut off
      assertThat(gauge(held.port, "pypimirror_proxy_clients")).isEqualTo(1);
      assertThat(held.upstream.count("/files/")).isEqualTo(1);
      held.awaitStored();

      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> gauge(held.port, "pypimirror_proxy_clients") == 0); // cut at its stall
      assertThat(drain(stuck)).isLessThan(held.bytes.length);
    }
  }

  @Test
  void aJoinerReceivesTheBytesAsTheyArriveAndBothGetTheWholeStoredFile() throws Exception {
    try (HeldFile held = new HeldFile("half-thing", 4, Duration.ofSeconds(30));
        RawConnection joiner = RawConnection.open("127.0.0.1", held.port)) {
      byte[] bytes = held.bytes;
      CompletableFuture<HttpResponse<byte[]>> leader = getAsync(held.port, held.file);
      held.awaitFetching();

      RawConnection.Head head = joiner.send("GET", held.file).head();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(bytes.length));
      assertThat(head.header("ETag")).isEqualTo("\"" + FakeUpstream.sha256(bytes) + "\"");
      // the first half, while the upstream still holds the second
      assertThat(joiner.body(held.half)).isEqualTo(Arrays.copyOf(bytes, held.half));
      assertThat(held.rest.getCount()).isEqualTo(1);

      held.rest.countDown();

      assertThat(joiner.body(bytes.length - held.half))
          .isEqualTo(Arrays.copyOfRange(bytes, held.half, bytes.length));
      assertThat(leader.get(60, TimeUnit.SECONDS).body()).isEqualTo(bytes);
      assertThat(held.upstream.count("/files/")).isEqualTo(1);
      held.awaitStored();
      // the joiner counted as a miss, as the first client is
      awaitFileRequests(held.port, "miss", 2);
    }
  }

  @Test
  void aMismatchResetsEveryAttachedClientAndStoresNothing() throws Exception {
    try (HeldFile held = new HeldFile("bad-thing", 2, Duration.ofSeconds(30));
        RawConnection leader = RawConnection.open("127.0.0.1", held.port);
        RawConnection joiner = RawConnection.open("127.0.0.1", held.port)) {
      held.upstream.corrupt.add(held.name); // a byte of the second half is not the page's hash's
      assertThat(leader.send("GET", held.file).head().status()).isEqualTo(200);
      held.awaitFetching();
      assertThat(joiner.send("GET", held.file).head().status()).isEqualTo(200);
      assertThat(joiner.body(held.half)).hasSize(held.half); // attached, streaming

      held.rest.countDown();

      assertThat(held.half + joiner.drain()).isLessThan(held.bytes.length);
      assertThat(leader.drain()).isLessThan(held.bytes.length);
      assertThat(held.upstream.count("/files/")).isEqualTo(1);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> held.cache.resolve("_files").toFile().list().length == 0);
      // both counted as what they were: a miss served while fetching fails as an error
      awaitFileRequests(held.port, "error", 2);
    }
  }

  @Test
  void whenTheFirstClientLeavesMidWayAJoinerCompletesAndTheFileIsStored() throws Exception {
    try (HeldFile held = new HeldFile("left-thing", 4, Duration.ofSeconds(30));
        RawConnection joiner = RawConnection.open("127.0.0.1", held.port)) {
      byte[] bytes = held.bytes;
      try (RawConnection leader = RawConnection.open("127.0.0.1", held.port)) {
        assertThat(leader.send("GET", held.file).head().status()).isEqualTo(200);
        leader.body(1024);
        held.awaitFetching();
        assertThat(joiner.send("GET", held.file).head().status()).isEqualTo(200);
        assertThat(joiner.body(held.half)).isEqualTo(Arrays.copyOf(bytes, held.half));
      } // the first client leaves
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gauge(held.port, "pypimirror_proxy_clients") == 1);

      held.rest.countDown();

      assertThat(joiner.body(bytes.length - held.half))
          .isEqualTo(Arrays.copyOfRange(bytes, held.half, bytes.length));
      held.awaitStored();
      assertThat(held.upstream.count("/files/")).isEqualTo(1);
    }
  }

  /**
   * A joiner still far behind once the file is whole and checked gets the rest by the kernel, in
   * one piece: every byte once and in order, and the response ends where its length says (the same
   * connection then serves the next request).
   */
  @Test
  void aJoinerStillBehindOnceTheFileIsCheckedGetsTheRestWhole() throws Exception {
    try (HeldFile held = new HeldFile("behind-thing", 8, Duration.ofSeconds(30));
        RawConnection joiner = RawConnection.open("127.0.0.1", held.port)) {
      byte[] bytes = held.bytes;
      CompletableFuture<HttpResponse<byte[]>> leader = getAsync(held.port, held.file);
      held.awaitFetching();
      assertThat(joiner.send("GET", held.file).head().status()).isEqualTo(200);
      assertThat(joiner.body(1024)).isEqualTo(Arrays.copyOf(bytes, 1024));

      held.rest.countDown();
      assertThat(leader.get(60, TimeUnit.SECONDS).body()).isEqualTo(bytes);
      held.awaitStored(); // whole and checked while the joiner has read 1 KiB

      assertThat(joiner.body(bytes.length - 1024))
          .isEqualTo(Arrays.copyOfRange(bytes, 1024, bytes.length));
      RawConnection.Head again = joiner.send("GET", held.file).head();
      assertThat(again.status()).isEqualTo(200);
      assertThat(joiner.body(bytes.length)).isEqualTo(bytes);
      assertThat(held.upstream.count("/files/")).isEqualTo(1);
    }
  }

  /**
   * A request whose page was refreshed while another request fetches that file name under the page
   * before (other bytes, another hash) does not join that fetch: its head would give its page's
   * hash on the other bytes. It waits for the fetch's end, and the file stored then is not the one
   * its page lists: 502, as for any cached file the page held now does not list. Before, it
   * streamed the first request's bytes with its own page's sha256 as their ETag.
   */
  @Test
  void aRequestWhosePageListsOtherBytesUnderTheNameDoesNotTakeTheFetchUnderWay() throws Exception {
    Path sdist = randomSdist(Files.createDirectories(scratch.resolve("up")), "moved-thing", 2);
    byte[] first = Files.readAllBytes(sdist);
    String name = sdist.getFileName().toString();
    String file = "/files/moved-thing/" + name;
    CountDownLatch rest = new CountDownLatch(1);
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    try (FakeUpstream upstream = new FakeUpstream();
        Proxy proxy =
            ProxyEndToEndTest.proxy(
                cache,
                Duration.ofSeconds(1),
                dev.pypimirror.operator.simple.Resolution.FirstMatch,
                false,
                limits(1024, 64, Duration.ofSeconds(30)),
                java.util.Map.of(),
                upstream.url());
        RawConnection leader = RawConnection.open("127.0.0.1", proxy.port());
        RawConnection later = RawConnection.open("127.0.0.1", proxy.port())) {
      upstream.add("moved-thing", sdist);
      upstream.heldAtHalf.put(name, rest);
      assertThat(get(proxy.port(), "/simple/moved-thing/").statusCode()).isEqualTo(200);
      RawConnection.Head firstHead = leader.send("GET", file).head();
      assertThat(firstHead.header("ETag")).isEqualTo("\"" + FakeUpstream.sha256(first) + "\"");
      await().atMost(Duration.ofSeconds(30)).until(() -> upstream.count("/files/") == 1);

      ProxyHttpTest.republish(sdist, proxy.port(), "moved-thing", "sha256");
      later.send("GET", file);
      await() // and a moment more for its page and cache look-ups, all in memory or a worker
          .pollDelay(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(30))
          .until(() -> gauge(proxy.port(), "pypimirror_proxy_clients") == 2);

      rest.countDown();

      assertThat(leader.body(first.length)).isEqualTo(first);
      RawConnection.Head head = later.head();
      assertThat(head.status()).isEqualTo(502);
      assertThat(head.header("ETag")).isNull();
      assertThat(upstream.count("/files/")).isEqualTo(1);
    }
  }

  /** Until the metrics count {@code n} file requests answered with {@code outcome}. */
  private static void awaitFileRequests(int port, String outcome, int n) {
    String series =
        "pypimirror_proxy_requests_total{kind=\"file\",outcome=\"" + outcome + "\"} " + n + ".0";
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> text(get(port, "/-/metrics")).lines().anyMatch(series::equals));
  }
}
