package dev.pypimirror.operator.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.tls.ReloadingKeyManager;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The Secret round trip and caBundle patching against the mock API server. */
@EnableKubernetesMockClient(crud = true)
class WebhookCertificateManagerTest {
  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void theLeaderWritesTheSecretPatchesBothCaBundlesAndReplicasServeIt() throws Exception {
    client
        .resource(
            new MutatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName("pypi-mirror-operator")
                .endMetadata()
                .addNewWebhook()
                .withName("pods.pypimirror.dev")
                .withNewClientConfig()
                .endClientConfig()
                .endWebhook()
                .addNewWebhook()
                .withName("enforced.pods.pypimirror.dev")
                .withNewClientConfig()
                .endClientConfig()
                .endWebhook()
                .build())
        .create();
    client
        .resource(
            new ValidatingWebhookConfigurationBuilder()
                .withNewMetadata()
                .withName("pypi-mirror-operator")
                .endMetadata()
                .addNewWebhook()
                .withName("pypimirrors.pypimirror.dev")
                .withNewClientConfig()
                .endClientConfig()
                .endWebhook()
                .build())
        .create();

    var configurations =
        new WebhookConfigurations(client, "pypi-mirror-system", () -> Optional.of(List.of()));
    try (var leader =
            new WebhookCertificateManager(
                client, "pypi-mirror-system", Clock.systemUTC(), configurations);
        var replica =
            new WebhookCertificateManager(
                    client, "pypi-mirror-system", Clock.systemUTC(), configurations)
                .start()) {
      assertThat(replica.servingSource().read())
          .as("nothing to serve before the leader writes")
          .isEmpty();

      leader.manageOnce();

      var secret =
          client
              .secrets()
              .inNamespace("pypi-mirror-system")
              .withName(OperatorSettings.Routing.DEFAULTS.certificateSecret())
              .get();
      assertThat(secret.getData()).containsKeys("tls.crt", "tls.key", "ca.crt");
      String bundle = secret.getData().get("ca.crt");
      MutatingWebhookConfiguration mutating =
          client
              .admissionRegistration()
              .v1()
              .mutatingWebhookConfigurations()
              .withName("pypi-mirror-operator")
              .get();
      assertThat(mutating.getWebhooks())
          .allSatisfy(w -> assertThat(w.getClientConfig().getCaBundle()).isEqualTo(bundle));
      assertThat(
              client
                  .admissionRegistration()
                  .v1()
                  .validatingWebhookConfigurations()
                  .withName("pypi-mirror-operator")
                  .get()
                  .getWebhooks())
          .allSatisfy(w -> assertThat(w.getClientConfig().getCaBundle()).isEqualTo(bundle));

      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                var served = replica.servingSource().read().orElseThrow();
                assertThat(new String(served[0], StandardCharsets.US_ASCII))
                    .isEqualTo(
                        new String(
                            Base64.getDecoder().decode(secret.getData().get("tls.crt")),
                            StandardCharsets.US_ASCII));
              });
      var keyManager = new ReloadingKeyManager(replica.servingSource());
      assertThat(keyManager.isLoaded()).isTrue();

      String version = secret.getMetadata().getResourceVersion();
      leader.manageOnce();
      assertThat(
              client
                  .secrets()
                  .inNamespace("pypi-mirror-system")
                  .withName(OperatorSettings.Routing.DEFAULTS.certificateSecret())
                  .get()
                  .getMetadata()
                  .getResourceVersion())
          .as("nothing due: the Secret is not rewritten")
          .isEqualTo(version);
    }
  }
}
