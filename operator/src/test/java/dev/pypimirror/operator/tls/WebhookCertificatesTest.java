package dev.pypimirror.operator.tls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.testing.LoopbackWebhook;
import dev.pypimirror.operator.testing.TestTls;
import dev.pypimirror.operator.webhook.WebhookServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Certificate issue and rotation, and what clients trusting the old or the new CA see. */
class WebhookCertificatesTest {
  static final List<String> NAMES =
      WebhookCertificates.dnsNames("pypi-mirror-operator-webhook", "pypi-mirror-system");
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  static X509Certificate first(String pem) {
    return WebhookCertificates.first(pem);
  }

  @Test
  void aFreshSecretGetsACaAndAServingCertificateForTheService() throws Exception {
    Map<String, String> data = WebhookCertificates.next(Map.of(), NAMES, T0).orElseThrow();

    X509Certificate ca = first(data.get(WebhookCertificates.CA_CRT));
    X509Certificate serving = first(data.get(WebhookCertificates.TLS_CRT));
    serving.verify(ca.getPublicKey());
    assertThat(
            serving.getSubjectAlternativeNames().stream()
                .map(n -> String.valueOf(n.get(1)))
                .toList())
        .containsAll(NAMES);
    assertThat(data.get(WebhookCertificates.CA_BUNDLE))
        .isEqualTo(data.get(WebhookCertificates.CA_CRT));
    assertThat(WebhookCertificates.next(data, NAMES, T0.plus(Duration.ofDays(10))))
        .as("nothing due")
        .isEmpty();
  }

  @Test
  void theServingCertificateIsReissuedBeforeItExpiresByTheSameCa() {
    Map<String, String> data = WebhookCertificates.next(Map.of(), NAMES, T0).orElseThrow();

    Map<String, String> renewed =
        WebhookCertificates.next(data, NAMES, T0.plus(Duration.ofDays(61))).orElseThrow();

    assertThat(renewed.get(WebhookCertificates.CA_CRT))
        .isEqualTo(data.get(WebhookCertificates.CA_CRT));
    assertThat(first(renewed.get(WebhookCertificates.TLS_CRT)).getSerialNumber())
        .isNotEqualTo(first(data.get(WebhookCertificates.TLS_CRT)).getSerialNumber());
  }

  @Test
  void duringACaRotationClientsTrustingTheOldOrTheNewCaBothSucceed(@TempDir Path dir)
      throws Exception {
    Map<String, String> before = WebhookCertificates.next(Map.of(), NAMES, T0).orElseThrow();
    Instant rotation = T0.plus(Duration.ofDays(280)); // within 90 days of the CA's end
    Map<String, String> during = WebhookCertificates.next(before, NAMES, rotation).orElseThrow();

    X509Certificate oldCa = first(before.get(WebhookCertificates.CA_CRT));
    X509Certificate newCa = first(during.get(WebhookCertificates.CA_CRT));
    assertThat(newCa.getSerialNumber()).isNotEqualTo(oldCa.getSerialNumber());
    assertThat(during.get(WebhookCertificates.CA_BUNDLE))
        .contains(before.get(WebhookCertificates.CA_CRT));

    // serve the rotated pair for the loopback address and ask with each trust
    var localNames = List.of("localhost");
    Map<String, String> forLoopback = during;
    CertificateAuthority newAuthority =
        CertificateAuthority.load(
            during.get(WebhookCertificates.CA_CRT), during.get(WebhookCertificates.CA_KEY));
    var serving =
        newAuthority.issue(localNames, List.of("127.0.0.1"), Instant.now(), Duration.ofDays(1));
    Files.writeString(
        dir.resolve("tls.crt"),
        serving.certificatePem() + forLoopback.get(WebhookCertificates.CA_CROSS));
    Files.writeString(dir.resolve("tls.key"), serving.keyPem());
    try (WebhookServer server =
        LoopbackWebhook.server(
                ReloadingKeyManager.Source.files(dir.resolve("tls.crt"), dir.resolve("tls.key")),
                Map.of(),
                () -> true,
                Duration.ofSeconds(10))
            .start()) {
      for (X509Certificate trusted : List.of(oldCa, newCa)) {
        HttpClient client = HttpClient.newBuilder().sslContext(TestTls.trusting(trusted)).build();
        HttpResponse<String> response =
            client.send(
                HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1:" + server.port() + "/healthz"))
                    .build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(response.statusCode())
            .as("trusting %s", trusted.getSubjectX500Principal())
            .isEqualTo(200);
      }
    }

    // once the old CA has expired, it leaves the bundle and the chain
    Map<String, String> after =
        WebhookCertificates.next(during, NAMES, oldCa.getNotAfter().toInstant().plusSeconds(1))
            .orElseThrow();
    assertThat(after.get(WebhookCertificates.CA_BUNDLE))
        .isEqualTo(after.get(WebhookCertificates.CA_CRT));
    assertThat(after)
        .doesNotContainKeys(WebhookCertificates.CA_PREVIOUS, WebhookCertificates.CA_CROSS);
  }
}
