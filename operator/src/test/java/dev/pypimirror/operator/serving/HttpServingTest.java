package dev.pypimirror.operator.serving;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
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
