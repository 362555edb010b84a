package dev.pypimirror.operator.webhook;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Pods.directory;
import static dev.pypimirror.operator.testing.Pods.readyMirror;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.UnixOperatingSystemMXBean;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.LoopbackWebhook;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.TestTls;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook keeps answering a well-behaved API server, within the admission timeout, while others
 * hold thousands of idle connections, stall TLS handshakes mid-way and trickle request bytes; and
 * it closes the connections that never complete a handshake once the handshake timeout passes.
 */
class WebhookAbuseTest {
  @TempDir Path dir;

  /**
   * 2,000, or fewer where the process may not open that many files: each connection costs this
   * process two descriptors (both ends are here).
   */
  static int idleConnections() {
    long limit =
        ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
            ? unix.getMaxFileDescriptorCount()
            : 4096;
    return (int) Math.max(100, Math.min(2000, (limit - 1000) / 2 - 250));
  }

  @Test
  void wellBehavedClientsAreAnsweredDuringAbuse() throws Exception {
    var admission =
        new PodAdmission(
            directory(
                readyMirror("builds", "corp", spec(https("https://devpi.corp.example/simple/")))),
            PolicyDirectory.NONE,
            "pypi-mirror-system",
            PodAdmission.Listener.NONE);
    List<Socket> abusers = new ArrayList<>();
    try (LoopbackWebhook webhook =
        LoopbackWebhook.serve(dir, Map.of(WebhookServer.MUTATE_PODS, admission::review))) {
      WebhookServer server = webhook.server;
      var ca = webhook.ca;
      var address = new InetSocketAddress("127.0.0.1", server.port());
      List<Socket> neverHandshaken = new ArrayList<>();
      for (int i = 0; i < idleConnections(); i++) {
        Socket idle = new Socket();
        idle.connect(address, 2000); // TCP open, no TLS handshake at all
        neverHandshaken.add(idle);
      }
      for (int i = 0; i < 200; i++) {
        Socket stalled = new Socket();
        stalled.connect(address, 2000);
        // a TLS record header announcing a 255-byte ClientHello that never comes
        stalled.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xff, 0x01});
        neverHandshaken.add(stalled);
      }
      abusers.addAll(neverHandshaken);
      var trust = TestTls.trusting(ca.certificate());
      List<OutputStream> tricklers = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        SSLSocket slow =
            (SSLSocket) trust.getSocketFactory().createSocket("127.0.0.1", server.port());
        slow.startHandshake();
        OutputStream out = slow.getOutputStream();
        out.write(
            "POST /mutate-pods HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{".getBytes());
        out.flush();
        abusers.add(slow);
        tricklers.add(out);
      }

      HttpClient client =
          HttpClient.newBuilder().sslContext(trust).connectTimeout(Duration.ofSeconds(5)).build();
      byte[] review = Pods.recordedAdmissionReview().getBytes();
      long slowestNanos = 0;
      for (int round = 0; round < 20; round++) {
        long start = System.nanoTime();
        for (OutputStream out : tricklers) {
          out.write(' '); // a byte at a time, never finishing
          out.flush();
        }
        // the API server gives up after the webhook's timeoutSeconds (5); so does this client
        HttpResponse<String> response =
            client.send(
                HttpRequest.newBuilder(
                        URI.create(
                            "https://127.0.0.1:" + server.port() + WebhookServer.MUTATE_PODS))
                    .timeout(Duration.ofSeconds(5))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(review))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        slowestNanos = Math.max(slowestNanos, System.nanoTime() - start);
      }
      System.out.printf(
          "abuse: %d connections without a handshake, 50 trickling; slowest of 20 admissions %d ms%n",
          neverHandshaken.size(), slowestNanos / 1_000_000);

      // the handshake timeout (5 s) frees every connection that never completed one
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      for (Socket socket : neverHandshaken) {
        socket.setSoTimeout(
            (int) Math.max(1, Duration.ofNanos(deadline - System.nanoTime()).toMillis()));
        assertThat(socket.getInputStream().read()).as("closed by the server").isEqualTo(-1);
      }
    } finally {
      for (Socket s : abusers) {
        s.close();
      }
    }
  }
}
