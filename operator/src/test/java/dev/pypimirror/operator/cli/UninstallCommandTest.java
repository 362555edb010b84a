package dev.pypimirror.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.Leftovers;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.webhook.WebhookConfigurations;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * What the chart's pre-delete hook runs, against the test API server: nothing the operator made at
 * run time is left, and the operator is stopped first so its leader cannot put it back.
 */
class UninstallCommandTest {
  static final String NS = ApiServer.WEBHOOK_NAMESPACE;

  static String uninstall(KubernetesClient client, String... args) throws Exception {
    UninstallCommand command = new UninstallCommand();
    new CommandLine(command).parseArgs(args);
    StringWriter out = new StringWriter();
    command.run(client, new PrintWriter(out));
    return out.toString();
  }

  @Test
  void uninstallLeavesNoWebhookConfigurationSecretOrLease() throws Exception {
    try (ApiServer api = ApiServer.start().installCrds()) {
      KubernetesClient client = api.client();
      MockCluster.namespace(client, NS, Map.of());
      client.resource(Policies.enforcedCorpBuilds()).create();
      // what a running operator leaves: its configurations with a fail-closed entry, its
      // certificate Secret, its Lease; and its Deployment with a pod that stops when scaled down
      new WebhookConfigurations(
              client,
              NS,
              () ->
                  Optional.of(
                      client
                          .resources(dev.pypimirror.operator.api.PypiMirrorPolicy.class)
                          .list()
                          .getItems()))
          .sync();
      client
          .resource(
              new SecretBuilder()
                  .withNewMetadata()
                  .withNamespace(NS)
                  .withName(OperatorSettings.Routing.DEFAULTS.certificateSecret())
                  .endMetadata()
                  .build())
          .create();
      client
          .resource(
              new LeaseBuilder()
                  .withNewMetadata()
                  .withNamespace(NS)
                  .withName(OperatorSettings.Routing.DEFAULTS.leaderLease())
                  .endMetadata()
                  .build())
          .create();
      client
          .resource(
              new DeploymentBuilder()
                  .withNewMetadata()
                  .withNamespace(NS)
                  .withName("pypi-mirror-operator")
                  .endMetadata()
                  .withNewSpec()
                  .withReplicas(2)
                  .withNewSelector()
                  .addToMatchLabels("app.kubernetes.io/name", "pypi-mirror-operator")
                  .endSelector()
                  .endSpec()
                  .build())
          .create();
      assertThat(
              client
                  .admissionRegistration()
                  .v1()
                  .mutatingWebhookConfigurations()
                  .withName("pypi-mirror-operator")
                  .get()
                  .getWebhooks())
          .anySatisfy(w -> assertThat(w.getFailurePolicy()).isEqualTo("Fail"));

      String said = uninstall(client, "--operator-namespace", NS, "--wait", "0");

      assertThat(Leftovers.webhookConfigurations(client)).isEmpty();
      assertThat(
              client
                  .secrets()
                  .inNamespace(NS)
                  .withName(OperatorSettings.Routing.DEFAULTS.certificateSecret())
                  .get())
          .isNull();
      assertThat(
              client
                  .leases()
                  .inNamespace(NS)
                  .withName(OperatorSettings.Routing.DEFAULTS.leaderLease())
                  .get())
          .isNull();
      assertThat(
              client
                  .apps()
                  .deployments()
                  .inNamespace(NS)
                  .withName("pypi-mirror-operator")
                  .get()
                  .getSpec()
                  .getReplicas())
          .as("stopped first, so no leader writes them again")
          .isZero();
      assertThat(said)
          .contains("scaled to 0")
          .contains("MutatingWebhookConfiguration pypi-mirror-operator: deleted")
          .contains("ValidatingWebhookConfiguration pypi-mirror-operator: deleted");

      assertThat(uninstall(client, "--operator-namespace", NS, "--wait", "0"))
          .as("a second run finds nothing and does not fail")
          .contains("MutatingWebhookConfiguration pypi-mirror-operator: not found");
    }
  }

  /** It waits for the operator's pods to stop, and says when they did not in time. */
  @Test
  void itSaysWhenTheOperatorsPodsDidNotStopInTime() throws Exception {
    try (ApiServer api = ApiServer.start()) {
      KubernetesClient client = api.client();
      MockCluster.namespace(client, NS, Map.of());
      client
          .resource(
              new DeploymentBuilder()
                  .withNewMetadata()
                  .withNamespace(NS)
                  .withName("mirrors")
                  .endMetadata()
                  .withNewSpec()
                  .withReplicas(1)
                  .withNewSelector()
                  .addToMatchLabels("app.kubernetes.io/name", "mirrors")
                  .endSelector()
                  .endSpec()
                  .build())
          .create();
      client
          .resource(
              new PodBuilder()
                  .withNewMetadata()
                  .withNamespace(NS)
                  .withName("mirrors-abc")
                  .addToLabels("app.kubernetes.io/name", "mirrors")
                  .endMetadata()
                  .build())
          .create();

      assertThat(
              uninstall(
                  client,
                  "--operator-namespace",
                  NS,
                  "--deployment",
                  "mirrors",
                  "--webhook-configuration",
                  "mirrors",
                  "--wait",
                  "0"))
          .contains("Deployment " + NS + "/mirrors scaled to 0, 1 pod(s) still stopping")
          .contains("MutatingWebhookConfiguration mirrors: not found");
    }
  }
}
