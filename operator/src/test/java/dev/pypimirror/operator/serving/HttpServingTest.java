package dev.pypimirror.operator.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The probes every server of the operator answers, plain HTTP on loopback. */
class HttpServingTest {
  private static HttpServing serving(String metricsText, RuntimeException metricsFailure)
      throws Exception {
    return new HttpServing(
            new HttpServing.Options(
                "test",
                "127.0.0.1",
                0,
                0,
                HttpServing.Transport.DEFAULT,
                Optional.empty(),
                Duration.ofSeconds(30),
                16),
            new HttpServing.Probes(
                "/-/",
                true,
                () -> true,
                () -> {
                  if (metricsFailure != null) {
                    throw metricsFailure;
                  }
                  return metricsText;
                }))
        .start(request -> request.response().setStatusCode(204).end());
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_2) // over http:// that is an h2c upgrade request
        .build()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Connections that send no request hold no request place: they are bounded by themselves, per
   * address (256 at least) and in all, and closed at once past it.
   */
  @Test
  void connectionsWithoutRequestsAreBoundedPerAddressAndTheirPlacesComeBack() throws Exception {
    HttpServing serving = serving("up 1.0\n", null);
    List<Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < 256; i++) {
        idle.add(connect("127.0.0.1", serving.port()));
      }
      awaitConnections(serving, 256);

      try (Socket over = connect("127.0.0.1", serving.port())) {
        assertThat(over.getInputStream().read()).as("closed at once").isEqualTo(-1);
      }
      try (Socket other = connect("127.0.0.2", serving.port())) {
        assertThat(answer(other)).as("another address is served").startsWith("HTTP/1.1 204");
      }

      for (Socket socket : idle) {
        socket.close();
      }
      idle.clear();
      awaitConnections(serving, 0);
      try (Socket again = connect("127.0.0.1", serving.port())) {
        assertThat(answer(again)).startsWith("HTTP/1.1 204");
      }
    } finally {
      for (Socket socket : idle) {
        socket.close();
      }
      serving.close();
    }
  }

  private static Socket connect(String from, int port) throws Exception {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(from, 0));
    socket.connect(new InetSocketAddress("127.0.0.1", port));
    socket.setSoTimeout(20_000);
    return socket;
  }

  private static String answer(Socket socket) throws Exception {
    socket
        .getOutputStream()
        .write(
            "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
    return new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
  }

  private static void awaitConnections(HttpServing serving, int open) {
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> serving.connections() == open);
  }

  @Test
  void metricsThatCannotBeMadeAreA500NotAHangingScrape() throws Exception {
    HttpServing serving = serving(null, new IllegalStateException("registry closed"));
    try {
      HttpResponse<String> onMain = get(serving.port(), "/-/metrics");
      HttpResponse<String> onManagement = get(serving.managementPort(), "/metrics");
      assertThat(onMain.statusCode()).isEqualTo(500);
      assertThat(onManagement.statusCode()).isEqualTo(500);
      assertThat(onMain.body()).isEqualTo("metrics unavailable\n");
      assertThat(get(serving.port(), "/-/healthz").statusCode()).isEqualTo(200);
    } finally {
      serving.close();
    }
  }

  @Test
  void metricsAreServedAsPrometheusText() throws Exception {
    HttpServing serving = serving("up 1.0\n", null);
    try {
      HttpResponse<String> scrape = get(serving.managementPort(), "/metrics");
      assertThat(scrape.statusCode()).isEqualTo(200);
      assertThat(scrape.headers().firstValue("Content-Type"))
          .contains("text/plain; version=0.0.4; charset=utf-8");
      assertThat(scrape.body()).isEqualTo("up 1.0\n");
      assertThat(scrape.version())
          .as("the management port answers HTTP/1.1 even to a client that asks for h2c")
          .isEqualTo(HttpClient.Version.HTTP_1_1);
      assertThat(get(serving.port(), "/anything").statusCode()).isEqualTo(204);
    } finally {
      serving.close();
    }
  }
}
