package dev.pypimirror.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.testing.LoopbackWebhook;
import dev.pypimirror.operator.testing.Pods;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stopping webhook drains: readiness fails at once, admissions are still answered for the drain
 * delay (each closing its connection, so the API server reconnects elsewhere), the admissions under
 * way are answered, and only then does it close; closing twice is harmless.
 */
class WebhookDrainTest {
  @TempDir Path dir;
  LoopbackWebhook webhook;
  WebhookServer server;

  @BeforeEach
  void start() throws Exception {
    var admission =
        new PodAdmission(
            Pods.directory(),
            dev.pypimirror.operator.policy.PolicyDirectory.NONE,
            "pypi-mirror-system",
            PodAdmission.Listener.NONE);
    webhook = LoopbackWebhook.serve(dir, Map.of(WebhookServer.MUTATE_PODS, admission::review));
    server = webhook.server;
  }

  @AfterEach
  void stop() {
    webhook.close();
  }

  SSLSocket connect() throws Exception {
    return webhook.connect();
  }

  static byte[] review() {
    return Pods.recordedAdmissionReview().getBytes(StandardCharsets.UTF_8);
  }

  static String head(String method, String path, int contentLength) {
    return method
        + " "
        + path
        + " HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\nContent-Length: "
        + contentLength
        + "\r\n\r\n";
  }

  /** Reads one HTTP/1.1 answer: status line and headers, then the body by Content-Length. */
  static String answer(InputStream in) throws IOException {
    StringBuilder headers = new StringBuilder();
    while (!headers.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed after: " + headers);
      }
      headers.append((char) b);
    }
    String text = headers.toString();
    int length =
        text.lines()
            .filter(l -> l.toLowerCase().startsWith("content-length:"))
            .map(l -> Integer.parseInt(l.substring(15).trim()))
            .findFirst()
            .orElse(0);
    return text + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  static String exchange(SSLSocket socket, String method, String path, byte[] body)
      throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(head(method, path, body.length).getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    out.flush();
    return answer(socket.getInputStream());
  }

  @Test
  void duringTheDelayReadinessFailsAndAdmissionsAreStillAnsweredOnFreshConnections()
      throws Exception {
    try (var before = connect()) {
      assertThat(exchange(before, "GET", "/readyz", new byte[0])).startsWith("HTTP/1.1 200");
    }
    long start = System.nanoTime();
    var stopping =
        CompletableFuture.runAsync(
            () -> server.shutdown(Duration.ofSeconds(2), Duration.ofSeconds(5)));

    await()
        .atMost(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              try (var socket = connect()) {
                assertThat(exchange(socket, "GET", "/readyz", new byte[0]))
                    .startsWith("HTTP/1.1 503");
              }
            });
    try (var socket = connect()) {
      String answered = exchange(socket, "POST", WebhookServer.MUTATE_PODS, review());
      assertThat(answered).startsWith("HTTP/1.1 200").contains("\"allowed\":true");
      assertThat(answered.toLowerCase())
          .as("the API server's next request opens a new connection, to another replica")
          .contains("connection: close");
      assertThat(socket.getInputStream().read()).as("closed after the answer").isEqualTo(-1);
    }
    assertThat(stopping).isNotDone();

    stopping.get(10, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    assertThatThrownBy(() -> new Socket("127.0.0.1", server.port()).close())
        .isInstanceOf(ConnectException.class);
    server.close(); // once is enough: a second close does nothing
    server.shutdown(Duration.ofSeconds(1), Duration.ofSeconds(1));
  }

  @Test
  void anAdmissionUnderWayIsAnsweredBeforeTheServerCloses() throws Exception {
    byte[] body = review();
    try (var socket = connect()) {
      OutputStream out = socket.getOutputStream();
      out.write(
          head("POST", WebhookServer.MUTATE_PODS, body.length).getBytes(StandardCharsets.US_ASCII));
      out.write(body, 0, body.length / 2);
      out.flush();
      await().atMost(Duration.ofSeconds(5)).until(() -> server.inFlight() == 1);

      var stopping =
          CompletableFuture.runAsync(() -> server.shutdown(Duration.ZERO, Duration.ofSeconds(10)));
      Thread.sleep(300);
      assertThat(stopping).as("waits for the admission under way").isNotDone();

      out.write(body, body.length / 2, body.length - body.length / 2);
      out.flush();
      assertThat(answer(socket.getInputStream()))
          .startsWith("HTTP/1.1 200")
          .contains("\"allowed\":true");
      stopping.get(10, TimeUnit.SECONDS);
      assertThat(server.inFlight()).isZero();
    }
  }
}
