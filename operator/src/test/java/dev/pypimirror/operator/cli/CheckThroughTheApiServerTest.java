package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static dev.pypimirror.operator.testing.OperatorInCluster.buildPod;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.inspect.PodCheck;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.OperatorInCluster;
import dev.pypimirror.operator.testing.SharedOperator;
import dev.pypimirror.operator.testing.SharedOperator.Running;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code check} against the test API server that calls the operator's webhook: the pods it checks
 * were created through the API server and stored as the webhook patched them (or, with the webhook
 * down, as the fail-open entry let them through); the mirrors are the operator's own work. The
 * operator's namespace comes from the webhook configuration, as in a cluster.
 */
@ExtendWith(SharedOperator.class)
class CheckThroughTheApiServerTest {
  @Running private static OperatorInCluster cluster;
  @Running private static ApiServer api;
  @Running private static KubernetesClient client;
  @Running private static OperatorApp app;

  @BeforeAll
  static void pointTheCommandsAtIt() {
    System.setProperty(Config.KUBERNETES_MASTER_SYSTEM_PROPERTY, client.getMasterUrl().toString());
    System.setProperty(Config.KUBERNETES_TRUST_CERT_SYSTEM_PROPERTY, "true");
    System.setProperty(Config.KUBERNETES_AUTH_TRYKUBECONFIG_SYSTEM_PROPERTY, "false");
    System.setProperty(Config.KUBERNETES_AUTH_TRYSERVICEACCOUNT_SYSTEM_PROPERTY, "false");
  }

  @AfterAll
  static void forgetIt() {
    CheckCommandTest.CLIENT_PROPERTIES.forEach(System::clearProperty);
  }

  @Test
  void anInjectedPodCarriesWhatTheWebhookDecidesAndOneCreatedDuringAnOutageDoesNot() {
    MockCluster.namespace(client, "builds", Map.of());
    cluster.readyMirror("builds", "corp");
    client.resource(buildPod("builds", "kaniko", Map.of("pypimirror.dev/mirror", "corp"))).create();
    client.resource(buildPod("builds", "web", Map.of())).create();
    api.unrouteWebhookService();
    try {
      client
          .resource(buildPod("builds", "during-outage", Map.of("pypimirror.dev/mirror", "corp")))
          .create();
    } finally {
      api.routeWebhookService(app.webhookPort());
    }

    var injected = run("", "check", "-n", "builds", "kaniko");
    var untouched = run("", "check", "-n", "builds", "web");
    var missed = run("", "check", "-n", "builds", "during-outage");
    if (client.namespaces().withName(ApiServer.WEBHOOK_NAMESPACE).get() == null) {
      MockCluster.namespace(client, ApiServer.WEBHOOK_NAMESPACE, Map.of());
    }
    var operatorsOwn =
        run(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {pypimirror.dev/inject: \"true\"}}\nspec: {containers: [{name: c}]}\n",
            "check",
            "-n",
            ApiServer.WEBHOOK_NAMESPACE,
            "-f",
            "-");

    assertThat(injected.status()).as(injected.out() + injected.err()).isEqualTo(PodCheck.OK);
    assertThat(injected.out())
        .contains("3. pypimirror.dev/mirror: corp")
        .contains("corp: Ready for generation 1")
        .containsPattern("Pod carries: +pypimirror.dev/injected: corp@[0-9a-f]{12}, the mirror's");
    assertThat(untouched.status()).isEqualTo(PodCheck.NOT_A_TARGET);
    assertThat(untouched.out()).contains("6. no pypimirror.dev/mirror").contains("To inject it:");
    assertThat(missed.status()).isEqualTo(PodCheck.DIFFERS);
    assertThat(missed.out())
        .contains("no pypimirror.dev/injected: created while the webhook was unavailable");
    assertThat(operatorsOwn.status()).as(operatorsOwn.err()).isEqualTo(PodCheck.NOT_A_TARGET);
    assertThat(operatorsOwn.out())
        .as("the operator's namespace, read from the webhook configuration")
        .contains("1. never injected: namespace " + ApiServer.WEBHOOK_NAMESPACE);
  }

  @Test
  void anEnforcedNamespaceInjectsAnOptedOutPodAndSaysWhy() {
    cluster.enforcedNamespace("secure");
    client
        .resource(buildPod("secure", "opted-out", Map.of("pypimirror.dev/inject", "false")))
        .create();

    var pod = run("", "check", "-n", "secure", "opted-out");
    var namespace = run("", "check", "-n", "secure");

    assertThat(pod.status()).as(pod.out() + pod.err()).isEqualTo(PodCheck.OK);
    assertThat(pod.out())
        .contains("secure-builds (Enforce, priority 0) governs namespace secure")
        .contains(
            "2. pypimirror.dev/inject: \"false\", ignored: PypiMirrorPolicy secure-builds enforces the mirror")
        .contains("secure-builds: Ready for generation 1 [made by PypiMirrorPolicy secure-builds]")
        .contains("pypimirror.dev/injected: secure-builds@");
    assertThat(namespace.status()).isEqualTo(PodCheck.OK);
    assertThat(namespace.out())
        .contains("Fail-closed:")
        .contains("yes: webhook entry secure-builds.policy.pypimirror.dev fails closed");
  }

  /**
   * Admission-policy mode: the decision is the same, and check names the admission policy that
   * carries it, as the leader wrote it.
   */
  @Test
  void inAdmissionPolicyModeCheckNamesThePolicyThatInjects() {
    MockCluster.namespace(client, "policies", Map.of());
    cluster.readyMirror("policies", "corp");
    var mirror = app.mirrors().get("policies", "corp").orElseThrow();
    new dev.pypimirror.operator.cluster.AdmissionPolicyWriter(
            client,
            ApiServer.WEBHOOK_NAMESPACE,
            app.mirrors(),
            () -> java.util.List.of(mirror),
            dev.pypimirror.operator.policy.PolicyDirectory.NONE,
            () -> java.util.Optional.of(java.util.List.of()))
        .sync();
    client
        .resource(buildPod("policies", "kaniko", Map.of("pypimirror.dev/mirror", "corp")))
        .create();
    client
        .resource(buildPod("policies", "asks-for-nothing", Map.of("pypimirror.dev/mirror", "nope")))
        .create();

    var injected = run("", "check", "-n", "policies", "kaniko");
    var skipped = run("", "check", "-n", "policies", "asks-for-nothing");

    assertThat(injected.status()).as(injected.out() + injected.err()).isEqualTo(PodCheck.OK);
    assertThat(injected.out())
        .contains("Admission would: leave the pod untouched: it is already injected (corp)")
        .contains("By:")
        .contains("MutatingAdmissionPolicy pypi-mirror.policies.corp\n")
        .contains("pypimirror.dev/injected: corp@");
    assertThat(skipped.out())
        .contains("admit the pod without a mirror")
        .contains("MutatingAdmissionPolicy pypi-mirror-skipped.policies\n");
  }
}
