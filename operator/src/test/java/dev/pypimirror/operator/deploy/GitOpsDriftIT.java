package dev.pypimirror.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Policies;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What a GitOps tool sees: the chart rendered by Helm's engine and applied to the test API server,
 * the operator run as the chart runs it, with policies; then every applied object is read back and
 * compared with what was applied. Only status (and what the API server itself sets) may differ: the
 * operator changes nothing Argo CD or Flux apply, so they show no drift.
 */
class GitOpsDriftIT {
  static final String NAMESPACE = "platform-tools";

  /** Set by the API server on every object, never by the operator. */
  static final List<String> SERVER_SET =
      List.of("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields");

  @Test
  void nothingHelmAppliedIsChangedByTheRunningOperator() throws Exception {
    List<JsonNode> applied =
        HelmChartIT.helmTemplate(HelmChartIT.CHART, "pypi-mirror-operator", NAMESPACE, "{}");
    try (ApiServer api = ApiServer.start()) {
      KubernetesClient client = api.client();
      // helm install --create-namespace: the API server refuses objects in a missing namespace
      MockCluster.namespace(client, NAMESPACE, Map.of());
      for (JsonNode object : applied) {
        client.resource(HelmActions.generic(client, object)).create();
      }
      InstallChecks install = new InstallChecks(applied, NAMESPACE);
      OperatorSettings settings = HelmActions.settingsOf(install);
      MockCluster.namespace(client, "ml", Map.of("team", "ml"));
      client.resource(Policies.enforcedCorpBuilds()).create();

      try (OperatorApp app = new OperatorApp(client, settings, Clock.systemUTC()).start()) {
        api.routeService(
            NAMESPACE, install.arg("webhook-service"), 443, "127.0.0.1:" + app.webhookPort());
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> {
                  var mutating =
                      client
                          .admissionRegistration()
                          .v1()
                          .mutatingWebhookConfigurations()
                          .withName(install.name())
                          .get();
                  return mutating != null
                      && mutating.getWebhooks().stream()
                          .map(MutatingWebhook::getName)
                          .toList()
                          .contains("corp-builds.policy.pypimirror.dev")
                      && mutating.getWebhooks().stream()
                          .allMatch(w -> w.getClientConfig().getCaBundle() != null)
                      && client
                              .resources(PypiMirrorPolicy.class)
                              .withName("corp-builds")
                              .get()
                              .getStatus()
                          != null;
                });

        List<String> drift = new ArrayList<>();
        for (JsonNode object : applied) {
          var resources =
              client.genericKubernetesResources(
                  object.path("apiVersion").asText(), object.path("kind").asText());
          String namespace = object.at("/metadata/namespace").asText("");
          String name = object.at("/metadata/name").asText();
          GenericKubernetesResource stored =
              namespace.isEmpty()
                  ? resources.withName(name).get()
                  : resources.inNamespace(namespace).withName(name).get();
          JsonNode now =
              comparable(client.getKubernetesSerialization().convertValue(stored, JsonNode.class));
          JsonNode then = comparable(object.deepCopy());
          if (!now.equals(then)) {
            drift.add(object.path("kind").asText() + "/" + object.at("/metadata/name").asText());
          }
        }
        assertThat(drift).as("applied objects the running operator changed").isEmpty();
        assertThat(
                client
                    .admissionRegistration()
                    .v1()
                    .mutatingWebhookConfigurations()
                    .withName(install.name())
                    .get()
                    .getMetadata()
                    .getOwnerReferences())
            .as("the webhook configurations are the operator's, owned by its ClusterRole")
            .singleElement()
            .satisfies(o -> assertThat(o.getName()).isEqualTo(install.name()));
      }
    }
  }

  /** Without status and what the API server sets; numbers compared as whole numbers. */
  static JsonNode comparable(JsonNode object) {
    ObjectNode copy = (ObjectNode) HelmChartIT.canonical(object);
    copy.remove("status");
    if (copy.get("metadata") instanceof ObjectNode metadata) {
      metadata.remove(SERVER_SET);
    }
    return copy;
  }
}
