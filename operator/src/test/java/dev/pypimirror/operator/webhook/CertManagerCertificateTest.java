package dev.pypimirror.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.settings.OperatorSettings;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * cert-manager mode: the leader keeps the webhook's Certificate for the DNS names of its own
 * namespace (so no install has to write them), and every replica serves the Secret cert-manager
 * writes.
 */
@EnableKubernetesMockClient(crud = true)
class CertManagerCertificateTest {
  KubernetesMockServer server;
  KubernetesClient client;

  static final OperatorSettings.Routing ROUTING =
      new OperatorSettings.Routing(
          "build-mirrors",
          "build-mirrors-webhook",
          "Ignore",
          5,
          "build-mirrors-webhook",
          new OperatorSettings.Issuer("ClusterIssuer", "corp-ca", "cert-manager.io"));

  GenericKubernetesResource certificate() {
    return client
        .genericKubernetesResources(CertManagerCertificate.CERTIFICATES)
        .inNamespace("platform-tools")
        .withName("build-mirrors-webhook")
        .get();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> spec(GenericKubernetesResource certificate) {
    return (Map<String, Object>) certificate.getAdditionalProperties().get("spec");
  }

  @Test
  void theLeaderKeepsTheCertificateForItsOwnNamespace() {
    var keeper = new CertManagerCertificate(client, "platform-tools", ROUTING);

    keeper.ensure();

    Map<String, Object> spec = spec(certificate());
    assertThat(spec)
        .containsEntry("secretName", "build-mirrors-webhook-cert-manager")
        .containsEntry(
            "issuerRef",
            Map.of("kind", "ClusterIssuer", "name", "corp-ca", "group", "cert-manager.io"));
    assertThat((List<String>) spec.get("dnsNames"))
        .contains(
            "build-mirrors-webhook.platform-tools.svc",
            "build-mirrors-webhook.platform-tools.svc.cluster.local");
    assertThat(certificate().getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "pypi-mirror-operator");

    GenericKubernetesResource changed = certificate();
    spec(changed).put("dnsNames", List.of("elsewhere.example"));
    client
        .genericKubernetesResources(CertManagerCertificate.CERTIFICATES)
        .inNamespace("platform-tools")
        .resource(changed)
        .update();
    keeper.ensure();
    assertThat((List<String>) spec(certificate()).get("dnsNames"))
        .as("a changed spec is put back")
        .contains("build-mirrors-webhook.platform-tools.svc");
  }

  static String base64(String text) {
    return java.util.Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void everyReplicaServesTheSecretCertManagerWrites() throws Exception {
    var configurations =
        new WebhookConfigurations(client, "platform-tools", ROUTING, () -> Optional.of(List.of()));
    try (var replica =
        WebhookCertificateManager.certManager(
                client, "platform-tools", Clock.systemUTC(), configurations)
            .start()) {
      assertThat(replica.servingSource().describe())
          .isEqualTo("Secret platform-tools/build-mirrors-webhook-cert-manager");
      client
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withNamespace("platform-tools")
                  .withName("build-mirrors-webhook-cert-manager")
                  .endMetadata()
                  .withType("kubernetes.io/tls")
                  .withData(Map.of("tls.crt", base64("CERT"), "tls.key", base64("KEY")))
                  .build())
          .create();

      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> replica.servingSource().read().isPresent());
      byte[][] pair = replica.servingSource().read().orElseThrow();
      assertThat(new String(pair[0], StandardCharsets.US_ASCII)).isEqualTo("CERT");
      assertThat(new String(pair[1], StandardCharsets.US_ASCII)).isEqualTo("KEY");
    }
  }
}
