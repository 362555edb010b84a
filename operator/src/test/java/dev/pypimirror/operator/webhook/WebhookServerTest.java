package dev.pypimirror.operator.webhook;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Pods.directory;
import static dev.pypimirror.operator.testing.Pods.json;
import static dev.pypimirror.operator.testing.Pods.readyMirror;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.testing.LoopbackWebhook;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.TestTls;
import dev.pypimirror.operator.tls.CertificateAuthority;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real HTTPS server on loopback, driven as the API server drives it. */
class WebhookServerTest {
  @TempDir Path dir;
  LoopbackWebhook webhook;
  CertificateAuthority ca;
  CertificateAuthority.Issued serving;
  WebhookServer server;
  final AtomicBoolean ready = new AtomicBoolean(true);

  @BeforeEach
  void start() throws Exception {
    var admission =
        new PodAdmission(
            directory(
                readyMirror("builds", "corp", spec(https("https://devpi.corp.example/simple/")))),
            dev.pypimirror.operator.policy.PolicyDirectory.NONE,
            "pypi-mirror-system",
            PodAdmission.Listener.NONE);
    webhook =
        LoopbackWebhook.serve(
            dir,
            java.util.Map.of(WebhookServer.MUTATE_PODS, admission::review),
            ready::get,
            Duration.ofMillis(100));
    ca = webhook.ca;
    serving = webhook.serving;
    server = webhook.server;
  }

  @AfterEach
  void stop() {
    webhook.close();
  }

  HttpResponse<String> post(String path, byte[] body) throws Exception {
    return webhook.post(path, body);
  }

  HttpResponse<String> get(String path) throws Exception {
    return webhook.get(path);
  }

  @Test
  void aServerStartsOnceAndClosesOnce() {
    assertThatThrownBy(server::start).isInstanceOf(IllegalStateException.class);
    server.close();
    server.close();
    assertThatThrownBy(server::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anAdmissionReviewOverHttpsGetsItsPatch() throws Exception {
    HttpResponse<String> response =
        post(WebhookServer.MUTATE_PODS, Pods.recordedAdmissionReview().getBytes());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode review = json(response.body());
    assertThat(review.at("/response/uid").asText())
        .isEqualTo("0f4c3d2a-7c43-4d7e-9d6b-4f1f0e6b2c11");
    assertThat(review.at("/response/patchType").asText()).isEqualTo("JSONPatch");
    String patch = new String(Base64.getDecoder().decode(review.at("/response/patch").asText()));
    assertThat(json(patch).findValuesAsText("path"))
        .contains("/spec/volumes/-", "/metadata/annotations/pypimirror.dev~1injected");
  }

  @Test
  void healthAndReadiness() throws Exception {
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
    ready.set(false);
    assertThat(get("/readyz").statusCode()).isEqualTo(503);
    ready.set(true);
    server.drain();
    assertThat(get("/readyz").statusCode()).isEqualTo(503);
    assertThat(get("/nope").statusCode()).isEqualTo(404);
    assertThat(get(WebhookServer.MUTATE_PODS).statusCode()).isEqualTo(405);
  }

  @Test
  void malformedEmptyAndOversizedBodiesAre400AndTheServerGoesOn() throws Exception {
    assertThat(post(WebhookServer.MUTATE_PODS, "{not json".getBytes()).statusCode()).isEqualTo(400);
    assertThat(post(WebhookServer.MUTATE_PODS, new byte[0]).statusCode()).isEqualTo(400);

    byte[] huge = new byte[WebhookServer.MAX_BODY_BYTES + 1];
    java.util.Arrays.fill(huge, (byte) ' ');
    HttpResponse<String> oversized = post(WebhookServer.MUTATE_PODS, huge);
    assertThat(oversized.statusCode()).isEqualTo(400);
    assertThat(oversized.body()).contains("exceeds");

    assertThat(
            post(WebhookServer.MUTATE_PODS, Pods.recordedAdmissionReview().getBytes()).statusCode())
        .isEqualTo(200);
  }

  @Test
  void aBodyFarOverTheCapIsCutOffAndTheServerGoesOn() throws Exception {
    byte[] enormous = new byte[(int) WebhookServer.DRAIN_LIMIT_BYTES + 1];
    try {
      HttpResponse<String> response = post(WebhookServer.MUTATE_PODS, enormous);
      assertThat(response.statusCode()).isEqualTo(400);
    } catch (java.io.IOException cutOff) {
      // the server answered and closed while the client was still sending: also a refusal
    }

    HttpClient fresh =
        HttpClient.newBuilder().sslContext(TestTls.trusting(ca.certificate())).build();
    var response =
        fresh.send(
            HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + server.port() + WebhookServer.MUTATE_PODS))
                .POST(HttpRequest.BodyPublishers.ofString(Pods.recordedAdmissionReview()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
  }

  @Test
  void aRotatedCertificateIsServedWithoutRestart() throws Exception {
    assertThat(TestTls.servedCertificate(server.port()).getSerialNumber())
        .isEqualTo(serving.certificate().getSerialNumber());
    int port = server.port();

    CertificateAuthority rotatedCa = TestTls.newCa();
    var rotated = TestTls.writeServing(rotatedCa, dir.resolve("tls.crt"), dir.resolve("tls.key"));

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(TestTls.servedCertificate(port).getSerialNumber())
                    .isEqualTo(rotated.certificate().getSerialNumber()));
    HttpClient rotatedClient =
        HttpClient.newBuilder().sslContext(TestTls.trusting(rotatedCa.certificate())).build();
    var response =
        rotatedClient.send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/healthz")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(server.port()).isEqualTo(port);
  }

  @Test
  void brokenOrMismatchedTlsFilesKeepThePreviousCertificate() throws Exception {
    java.nio.file.Files.writeString(dir.resolve("tls.key"), "garbage");
    server.reloadTlsIfChanged();
    assertThat(TestTls.servedCertificate(server.port()).getSerialNumber())
        .isEqualTo(serving.certificate().getSerialNumber());

    var other =
        TestTls.newCa()
            .issue(
                java.util.List.of("localhost"),
                java.util.List.of(),
                java.time.Instant.now(),
                Duration.ofDays(1));
    java.nio.file.Files.writeString(dir.resolve("tls.key"), other.keyPem());
    server.reloadTlsIfChanged();

    assertThat(TestTls.servedCertificate(server.port()).getSerialNumber())
        .isEqualTo(serving.certificate().getSerialNumber());
  }

  @Test
  void aClientThatDoesNotTrustTheCaIsRefused() throws Exception {
    HttpClient stranger =
        HttpClient.newBuilder().sslContext(TestTls.trusting(TestTls.newCa().certificate())).build();

    assertThatThrownBy(
            () ->
                stranger.send(
                    HttpRequest.newBuilder(
                            URI.create("https://127.0.0.1:" + server.port() + "/healthz"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(SSLHandshakeException.class);
  }

  @Test
  void anAnswerThatComesLaterDoesNotHoldTheEventLoop(@TempDir Path other) throws Exception {
    var later = new java.util.concurrent.CompletableFuture<AdmissionResponse>();
    try (LoopbackWebhook oneLoop =
        LoopbackWebhook.serve(
            other,
            java.util.Map.of(),
            java.util.Map.of(WebhookServer.MUTATE_PODS + "/", (rest, body) -> later),
            1)) {
      var pending =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                try {
                  return oneLoop.post(WebhookServer.MUTATE_PODS + "/enforce/p", "{}".getBytes());
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      await().atMost(Duration.ofSeconds(10)).until(() -> oneLoop.server.inFlight() == 1);

      // the only event loop still serves while the first answer is outstanding
      assertThat(oneLoop.get("/healthz").statusCode()).isEqualTo(200);
      assertThat(pending).isNotDone();

      later.complete(AdmissionResponse.badRequest("answered later"));
      assertThat(pending.get(10, java.util.concurrent.TimeUnit.SECONDS).body())
          .isEqualTo("answered later\n");
    }
  }
}
