package dev.pypimirror.operator.webhook;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec.Enforcement;
import dev.pypimirror.operator.cluster.AdmissionPolicyWriter;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.settings.OperatorSettings.Injection;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Policies;
import io.fabric8.kubernetes.api.model.APIResourceBuilder;
import io.fabric8.kubernetes.api.model.APIResourceListBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the leader writes in each injection mode: the webhook's entries (the opt-in one and one per
 * policy) in webhook mode; in admission-policy mode the admission policies, and of the webhook only
 * what they cannot do (each Enforce policy's entry for containers added to a running pod); and
 * {@code auto} choosing by discovery.
 */
@EnableKubernetesMockClient(crud = true)
class InjectionModeTest {
  KubernetesMockServer server;
  KubernetesClient client;

  @BeforeEach
  void policies() throws Exception {
    MockCluster.installCrds(client);
    PypiMirrorPolicy enforce =
        Policies.policy(
            "corp-builds",
            Map.of("team", "ml"),
            spec(https("https://devpi.corp.example/simple/")),
            true);
    enforce.getSpec().setPodSelector(Policies.selector(Map.of()));
    PypiMirrorPolicy advisory =
        Policies.policy(
            "web", Map.of("team", "web"), spec(https("https://devpi.corp.example/simple/")), false);
    advisory.getSpec().setEnforcement(Enforcement.Advisory);
    advisory.getSpec().setPodSelector(Policies.selector(Map.of("role", "image-build")));
    client.resource(enforce).create();
    client.resource(advisory).create();
  }

  /** Discovery of admissionregistration.k8s.io/v1, with or without MutatingAdmissionPolicy. */
  void discovery(boolean servesMutatingAdmissionPolicies) {
    var resources =
        new APIResourceListBuilder().withGroupVersion("admissionregistration.k8s.io/v1");
    resources.addToResources(
        new APIResourceBuilder()
            .withName("mutatingwebhookconfigurations")
            .withKind("MutatingWebhookConfiguration")
            .withNamespaced(false)
            .withVerbs("get", "list")
            .build());
    if (servesMutatingAdmissionPolicies) {
      resources.addToResources(
          new APIResourceBuilder()
              .withName("mutatingadmissionpolicies")
              .withKind("MutatingAdmissionPolicy")
              .withNamespaced(false)
              .withVerbs("get", "list")
              .build());
    }
    server
        .expect()
        .get()
        .withPath("/apis/admissionregistration.k8s.io/v1")
        .andReturn(200, resources.build())
        .always();
  }

  OperatorApp operator(Injection injection) {
    return new OperatorApp(
        client,
        OperatorSettings.defaults()
            .withOperatorNamespace("pypi-mirror-system")
            .withWebhook(OperatorSettings.Webhook::disabled)
            .withInjection(injection),
        Clock.systemUTC());
  }

  List<String> entries() {
    MutatingWebhookConfiguration mutating =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName("pypi-mirror-operator")
            .get();
    return mutating == null
        ? List.of()
        : mutating.getWebhooks().stream().map(MutatingWebhook::getName).toList();
  }

  List<String> written(String kind) {
    return client
        .genericKubernetesResources(AdmissionPolicyWriter.resource(kind))
        .list()
        .getItems()
        .stream()
        .map(GenericKubernetesResource::getMetadata)
        .map(m -> m.getName())
        .toList();
  }

  @Test
  void webhookModeWritesTheWebhooksEntriesAndNoAdmissionPolicy() throws Exception {
    try (OperatorApp app = operator(Injection.WEBHOOK).start()) {
      awaitWebhookMode();
    }
  }

  @Test
  void admissionPolicyModeLeavesTheWebhookOnlyWhatPoliciesCannotDo() throws Exception {
    try (OperatorApp app = operator(Injection.ADMISSION_POLICY).start()) {
      awaitAdmissionPolicyMode();
    }
  }

  @Test
  void autoPicksAdmissionPoliciesWhenTheApiServerServesThem() throws Exception {
    discovery(true);
    try (OperatorApp app = operator(Injection.AUTO).start()) {
      awaitAdmissionPolicyMode();
    }
  }

  @Test
  void autoPicksTheWebhookWhenTheApiServerDoesNotServeThem() throws Exception {
    discovery(false);
    try (OperatorApp app = operator(Injection.AUTO).start()) {
      awaitWebhookMode();
    }
  }

  /** The opt-in entry and one per policy; no admission policy. */
  void awaitWebhookMode() {
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(entries())
                    .containsExactly(
                        "pods.pypimirror.dev",
                        "corp-builds.policy.pypimirror.dev",
                        "web.policy.pypimirror.dev"));
    assertThat(written("ValidatingAdmissionPolicy")).isEmpty();
    assertThat(written("MutatingAdmissionPolicy")).isEmpty();
  }

  void awaitAdmissionPolicyMode() {
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(written("ValidatingAdmissionPolicy"))
                  .containsExactly("pypi-mirror-policy.corp-builds");
              assertThat(written("ValidatingAdmissionPolicyBinding"))
                  .containsExactly("pypi-mirror-policy.corp-builds");
              assertThat(entries()).containsExactly("corp-builds.policy.pypimirror.dev");
            });
    MutatingWebhook enforce =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName("pypi-mirror-operator")
            .get()
            .getWebhooks()
            .get(0);
    assertThat(enforce.getRules())
        .singleElement()
        .satisfies(
            rule -> {
              assertThat(rule.getOperations()).containsExactly("UPDATE");
              assertThat(rule.getResources()).containsExactly("pods/ephemeralcontainers");
            });
    assertThat(enforce.getFailurePolicy()).isEqualTo("Fail");
  }
}
