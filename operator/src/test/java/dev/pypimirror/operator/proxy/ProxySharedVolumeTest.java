package dev.pypimirror.operator.proxy;

import static dev.pypimirror.operator.proxy.FakeUpstream.randomSdist;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.firstMatch;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.get;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.rawGet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.proxy.ProxyEndToEndTest.Proxy;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas on one cache volume: while the proxy sends a cached file (to a client that reads
 * slowly), another replica's eviction, in its own JVM, takes every other fetched file and leaves
 * that one; once its client is gone, the other replica evicts it too. The web server opens and
 * closes the file it sends itself, which would release a lock taken on the file itself: the hold
 * must survive that for the whole send.
 */
class ProxySharedVolumeTest {
  @Test
  void anotherReplicaDoesNotEvictAFileWhileThisOneSendsIt(@TempDir Path scratch) throws Exception {
    Path sending = randomSdist(scratch, "sent-thing", 8);
    Path idle = randomSdist(scratch, "idle-thing", 1);
    FakeUpstream upstream = new FakeUpstream();
    upstream.add("sent-thing", sending);
    upstream.add("idle-thing", idle);
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    String sent = "/files/sent-thing/" + sending.getFileName();
    try (upstream;
        Proxy proxy = firstMatch(cache, upstream)) {
      for (String project : new String[] {"sent-thing", "idle-thing"}) {
        assertThat(get(proxy.port(), "/simple/" + project + "/").statusCode()).isEqualTo(200);
      }
      assertThat(get(proxy.port(), sent).statusCode()).isEqualTo(200); // fetched
      assertThat(get(proxy.port(), "/files/idle-thing/" + idle.getFileName()).statusCode())
          .isEqualTo(200);
      // a second ask of the same file, one that will not read it: sent from the cache
      Socket slow = rawGet(proxy.port(), sent);
      try {
        readHead(slow.getInputStream());
        // the response has begun, and 8 MiB cannot fit in the sockets' buffers: still sending
        assertThat(OtherReplica.evict(cache)).isEqualTo(sending.getFileName().toString());
      } finally {
        slow.close();
      }
      // its client gone, the send ends and lets the file go
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> OtherReplica.evict(cache).isEmpty());
    }
  }

  private static void readHead(InputStream in) throws Exception {
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      assertThat(b).isNotNegative();
      matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
    }
  }
}
