package dev.pypimirror.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.apiserver.AdmissionChain;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.webhook.WebhookServer;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * How a pod travels: a client creates it in the API server; the API server picks the webhooks of
 * the MutatingWebhookConfiguration that deploy/default installs (rules, namespaceSelector,
 * objectSelector, matchConditions in CEL), calls the operator's webhook over HTTPS trusting the
 * caBundle the operator's leader patched in, applies the JSON Patch it answers, and stores the
 * result. Nothing here calls the webhook itself: what the test reads back is what the API server
 * stored. The same API server validates PypiMirrors against their CRD (schema and CEL rules).
 */
class ThroughTheApiServerTest {
  private static ApiServer api;
  private static KubernetesClient client;
  private static OperatorApp app;

  @BeforeAll
  static void startClusterAndOperator() throws Exception {
    api = ApiServer.start().installCrds().installWebhookConfigurations();
    client = api.client();
    app =
        OperatorApp.start(
            client,
            new OperatorApp.Settings(
                java.util.Set.of(),
                ApiServer.WEBHOOK_NAMESPACE,
                new WebhookServer.Settings(
                    "127.0.0.1",
                    0,
                    Path.of("unused.crt"),
                    Path.of("unused.key"),
                    Duration.ofSeconds(1)),
                "pypi-mirror-operator:test",
                false,
                true),
            Clock.systemUTC());
    api.routeWebhookService(app.webhookPort()).awaitCaBundles();
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
    if (api != null) {
      api.close();
    }
  }

  private static Pod buildPod(String namespace, String name, Map<String, String> annotations) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("build")
        .withImage("gcr.io/kaniko-project/executor:v1.23.2")
        .endContainer()
        .endSpec()
        .build();
  }

  private static void readyMirror(String namespace, String name) {
    client
        .resource(
            Mirrors.mirror(
                namespace, name, Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/"))))
        .create();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                app.mirrors()
                    .get(namespace, name)
                    .map(m -> m.getStatus() != null && m.getStatus().isReady())
                    .orElse(false));
  }

  private static Pod stored(String namespace, String name) {
    return client.pods().inNamespace(namespace).withName(name).get();
  }

  @Test
  void aPodThatAsksForAMirrorIsStoredInjectedBecauseTheApiServerCalledTheWebhook() {
    MockCluster.namespace(client, "builds", Map.of());
    readyMirror("builds", "corp");

    client.resource(buildPod("builds", "kaniko", Map.of("pypimirror.dev/mirror", "corp"))).create();

    Pod pod = stored("builds", "kaniko");
    assertThat(pod.getMetadata().getAnnotations()).containsKey("pypimirror.dev/injected");
    assertThat(pod.getSpec().getVolumes()).extracting("name").contains("pypi-mirror-config");
    assertThat(pod.getSpec().getContainers().get(0).getEnv())
        .anySatisfy(e -> assertThat(e.getName()).isEqualTo("PIP_CONFIG_FILE"));
    assertThat(api.calls())
        .filteredOn(c -> c.name().equals("kaniko"))
        .extracting(AdmissionChain.Call::webhook)
        .containsExactly("pods.pypimirror.dev");
  }

  @Test
  void aPodThatAsksForNothingIsNotSentToTheWebhook() {
    MockCluster.namespace(client, "plain", Map.of());

    client.resource(buildPod("plain", "app", Map.of())).create();

    assertThat(stored("plain", "app").getSpec().getVolumes()).isNullOrEmpty();
    assertThat(api.calls()).noneMatch(c -> c.name().equals("app"));
  }

  /** A namespace an Enforce policy governs, once the operator has labelled it so. */
  private static void enforcedNamespace(String namespace) {
    MockCluster.namespace(client, namespace, Map.of("team", namespace));
    client
        .resource(
            Policies.policy(
                namespace + "-builds",
                Map.of("team", namespace),
                Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/")),
                true))
        .create();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                client
                        .namespaces()
                        .withName(namespace)
                        .get()
                        .getMetadata()
                        .getLabels()
                        .containsKey("pypimirror.dev/enforced")
                    && app.mirrors()
                        .get(namespace, namespace + "-builds")
                        .map(m -> m.getStatus() != null && m.getStatus().isReady())
                        .orElse(false));
  }

  @Test
  void enforcedNamespacesOverrideOptOutsAndDenyWhatCannotBeInjected() {
    enforcedNamespace("secure");

    client
        .resource(buildPod("secure", "opted-out", Map.of("pypimirror.dev/inject", "false")))
        .create();
    assertThat(stored("secure", "opted-out").getMetadata().getAnnotations())
        .containsEntry("pypimirror.dev/inject", "false")
        .containsKey("pypimirror.dev/injected");

    assertThatThrownBy(
            () ->
                client
                    .resource(
                        buildPod("secure", "elsewhere", Map.of("pypimirror.dev/mirror", "nope")))
                    .create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining(
            "admission webhook \"enforced.pods.pypimirror.dev\" denied the request")
        .hasMessageContaining("PypiMirrorPolicy secure-builds enforces a PyPI mirror here");
    assertThat(stored("secure", "elsewhere")).isNull();
  }

  @Test
  void aForgedInjectedMarkerInAnEnforcedNamespaceIsInjectedAnyway() {
    enforcedNamespace("forged");
    Pod forged =
        buildPod(
            "forged",
            "bypass",
            Map.of(
                "pypimirror.dev/inject", "false",
                "pypimirror.dev/injected", "forged-builds@000000000000"));
    forged
        .getSpec()
        .getContainers()
        .get(0)
        .setEnv(
            List.of(
                new EnvVar("PIP_INDEX_URL", "https://evil.example/simple/", null),
                new EnvVar("PIP_extra-index-url", "https://evil.example/simple/", null)));

    client.resource(forged).create();

    Pod pod = stored("forged", "bypass");
    assertThat(pod.getMetadata().getAnnotations().get("pypimirror.dev/injected"))
        .startsWith("forged-builds@")
        .isNotEqualTo("forged-builds@000000000000");
    assertThat(pod.getSpec().getContainers().get(0).getEnv())
        .extracting(EnvVar::getName, EnvVar::getValue)
        .contains(tuple("PIP_INDEX_URL", "https://devpi.corp.example/simple/"))
        .noneMatch(e -> String.valueOf(e.toList().get(1)).contains("evil"));
  }

  @Test
  void withTheWebhookDownOptInNamespacesFailOpenAndEnforcedOnesFailClosed() {
    MockCluster.namespace(client, "outage-open", Map.of());
    enforcedNamespace("outage-closed");
    api.unrouteWebhookService();
    try {
      client
          .resource(buildPod("outage-open", "build", Map.of("pypimirror.dev/inject", "true")))
          .create();
      assertThat(stored("outage-open", "build").getMetadata().getAnnotations())
          .doesNotContainKey("pypimirror.dev/injected");

      assertThatThrownBy(
              () ->
                  client
                      .resource(
                          buildPod(
                              "outage-closed", "build", Map.of("pypimirror.dev/inject", "true")))
                      .create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining("failed calling webhook \"enforced.pods.pypimirror.dev\"")
          .hasMessageContaining("no endpoints");
      assertThat(stored("outage-closed", "build")).isNull();
    } finally {
      api.routeWebhookService(app.webhookPort());
    }
  }

  @Test
  void aMirrorItsCrdRefusesGetsTheRulesMessageAndIsNotStored() {
    MockCluster.namespace(client, "crd-rules", Map.of());
    PypiMirror untrusted =
        Mirrors.mirror(
            "crd-rules",
            "untrusted",
            Mirrors.spec(
                new dev.pypimirror.operator.api.IndexSpec("http://10.0.0.5/simple/", false)));
    untrusted.getSpec().getIndexes().get(0).setTrustedHost(false);

    assertThatThrownBy(() -> client.resource(withoutTrustedHost(untrusted)).create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining(
            "PypiMirror.pypimirror.dev \"untrusted\" is invalid: spec.indexes[0]: Invalid value: \"object\": plain http index needs trustedHost: true");
    assertThat(
            client.resources(PypiMirror.class).inNamespace("crd-rules").withName("untrusted").get())
        .isNull();

    PypiMirror fileWithoutCache =
        Mirrors.mirror(
            "crd-rules",
            "file",
            Mirrors.spec(new dev.pypimirror.operator.api.IndexSpec("file:///tmp/pypi", false)));
    assertThatThrownBy(() -> client.resource(fileWithoutCache).create())
        .hasMessageContaining("a file:// index must be the enabled cache's own mount path");
  }

  @Test
  void aMirrorWithNeitherIndexesNorCacheIsStoredAndItsStatusSaysWhy() {
    MockCluster.namespace(client, "empty", Map.of());
    PypiMirror empty = Mirrors.mirror("empty", "nothing", new PypiMirrorSpec());
    empty.getSpec().setIndexes(null);

    client.resource(empty).create();

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .resources(PypiMirror.class)
                            .inNamespace("empty")
                            .withName("nothing")
                            .get()
                            .getStatus())
                    .isNotNull()
                    .satisfies(
                        s ->
                            assertThat(s.condition("Ready").orElseThrow().getMessage())
                                .contains("no index")));
  }

  @Test
  @Disabled(
      "Advisory podSelector routing (per-policy webhook entries kept by the leader) has not landed"
          + " yet; enable with it")
  void anUnannotatedPodAnAdvisoryPolicysPodSelectorSelectsIsInjected() {
    MockCluster.namespace(client, "advisory", Map.of("team", "advisory"));
    var policy =
        Policies.policy(
            "advisory-builds",
            Map.of("team", "advisory"),
            Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/")),
            false);
    policy.getSpec().setPodSelector(Policies.selector(Map.of("build", "true")));
    client.resource(policy).create();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> app.mirrors().get("advisory", "advisory-builds").isPresent());

    Pod pod = buildPod("advisory", "selected", Map.of());
    pod.getMetadata().setLabels(Map.of("build", "true"));
    client.resource(pod).create();

    assertThat(stored("advisory", "selected").getMetadata().getAnnotations())
        .containsKey("pypimirror.dev/injected");
  }

  /** The mirror as a user writes it when they leave trustedHost out. */
  private static io.fabric8.kubernetes.api.model.GenericKubernetesResource withoutTrustedHost(
      PypiMirror mirror) {
    var generic =
        client
            .getKubernetesSerialization()
            .convertValue(mirror, io.fabric8.kubernetes.api.model.GenericKubernetesResource.class);
    @SuppressWarnings("unchecked")
    var spec = (Map<String, Object>) generic.getAdditionalProperties().get("spec");
    @SuppressWarnings("unchecked")
    var indexes = (java.util.List<Map<String, Object>>) spec.get("indexes");
    indexes.forEach(i -> i.remove("trustedHost"));
    return generic;
  }
}
