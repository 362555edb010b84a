package dev.pypimirror.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.MockCluster;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Two releases of the chart in one namespace (the second with its own nameOverride, as
 * docs/operations.md says), each installed as Helm does and each operator run as its chart runs it,
 * with leader election, against the test API server: each leads through its own Lease, serves its
 * own certificate Secret and owns its own webhook configurations, every entry of which calls its
 * own release's webhook Service with the CA that Service serves.
 */
class TwoReleasesIT {
  static final String NAMESPACE = "platform-tools";

  record Release(String name, String values) {}

  @Test
  void twoOperatorsInOneNamespaceShareNothing() throws Exception {
    List<Release> releases =
        List.of(
            new Release("pypi-mirror-operator", "{}"),
            new Release("ci", "nameOverride: ci-mirrors"));
    try (ApiServer api = ApiServer.start()) {
      KubernetesClient client = api.client();
      MockCluster.namespace(client, NAMESPACE, Map.of());
      // java-operator-sdk checks its lease rights first; the test API server has no authorizer
      api.server()
          .expect()
          .post()
          .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
          .andReturn(
              201,
              "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectRulesReview\","
                  + "\"metadata\":{},\"status\":{\"resourceRules\":[{\"verbs\":[\"get\",\"create\","
                  + "\"update\"],\"apiGroups\":[\"coordination.k8s.io\"],\"resources\":[\"leases\"]}],"
                  + "\"nonResourceRules\":[],\"incomplete\":false}}")
          .always();
      List<InstallChecks> installs =
          releases.stream()
              .map(
                  r -> {
                    try {
                      List<JsonNode> objects =
                          HelmChartIT.helmTemplate(
                              HelmChartIT.CHART, r.name(), NAMESPACE, r.values());
                      HelmActions.install(client, r.name(), NAMESPACE, objects);
                      String fullname =
                          objects.stream()
                              .filter(o -> o.path("kind").asText().equals("Deployment"))
                              .findFirst()
                              .orElseThrow()
                              .at("/metadata/name")
                              .asText();
                      return new InstallChecks(objects, NAMESPACE, fullname);
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  })
              .toList();
      assertThat(installs).extracting(InstallChecks::name).doesNotHaveDuplicates();

      try (OperatorApp first = start(client, api, installs.get(0));
          OperatorApp second = start(client, api, installs.get(1))) {
        api.awaitCaBundles(); // every entry answers, over TLS, with the CA it carries

        for (InstallChecks install : installs) {
          OperatorSettings.Routing names =
              OperatorSettings.Routing.DEFAULTS.withName(install.arg("webhook-configuration"));
          Awaitility.await()
              .atMost(Duration.ofSeconds(30))
              .until(
                  () -> {
                    var lease =
                        client.leases().inNamespace(NAMESPACE).withName(names.leaderLease()).get();
                    return lease != null && lease.getSpec().getHolderIdentity() != null;
                  });
          assertThat(
                  client.secrets().inNamespace(NAMESPACE).withName(names.certificateSecret()).get())
              .isNotNull();
          MutatingWebhookConfiguration mutating =
              client
                  .admissionRegistration()
                  .v1()
                  .mutatingWebhookConfigurations()
                  .withName(names.name())
                  .get();
          assertThat(mutating.getMetadata().getOwnerReferences())
              .singleElement()
              .satisfies(o -> assertThat(o.getName()).isEqualTo(install.name()));
          assertThat(mutating.getWebhooks())
              .allSatisfy(
                  w ->
                      assertThat(w.getClientConfig().getService().getName())
                          .isEqualTo(install.arg("webhook-service")));
        }
        assertThat(client.leases().inNamespace(NAMESPACE).list().getItems()).hasSize(2);
        assertThat(
                client
                    .admissionRegistration()
                    .v1()
                    .mutatingWebhookConfigurations()
                    .list()
                    .getItems())
            .hasSize(2);
      }
    }
  }

  static OperatorApp start(KubernetesClient client, ApiServer api, InstallChecks install)
      throws java.io.IOException {
    OperatorSettings settings =
        HelmActions.settingsOf(install).withReconcile(r -> r.withLeaderElection(true));
    OperatorApp app = new OperatorApp(client, settings, Clock.systemUTC()).start();
    api.routeService(
        NAMESPACE, install.arg("webhook-service"), 443, "127.0.0.1:" + app.webhookPort());
    return app;
  }
}
