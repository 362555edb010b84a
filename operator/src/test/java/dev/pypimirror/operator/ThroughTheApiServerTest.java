package dev.pypimirror.operator;

import static dev.pypimirror.operator.testing.OperatorInCluster.buildPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.apiserver.AdmissionChain;
import dev.pypimirror.operator.policy.PolicyStatuses;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.OperatorInCluster;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.testing.SharedOperator;
import dev.pypimirror.operator.testing.SharedOperator.Running;
import dev.pypimirror.operator.webhook.WebhookConfigurations;
import dev.pypimirror.operator.webhook.WebhookRoutes;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How a pod travels: a client creates it in the API server; the API server picks the webhooks of
 * the MutatingWebhookConfiguration that deploy/default installs (rules, namespaceSelector,
 * objectSelector, matchConditions in CEL), calls the operator's webhook over HTTPS trusting the
 * caBundle the operator's leader patched in, applies the JSON Patch it answers, and stores the
 * result. Nothing here calls the webhook itself: what the test reads back is what the API server
 * stored. The same API server validates PypiMirrors against their CRD (schema and CEL rules).
 */
@ExtendWith(SharedOperator.class)
class ThroughTheApiServerTest {
  @Running private static OperatorInCluster cluster;
  @Running private static ApiServer api;
  @Running private static KubernetesClient client;
  @Running private static OperatorApp app;

  @Test
  void aPodThatAsksForAMirrorIsStoredInjectedBecauseTheApiServerCalledTheWebhook() {
    MockCluster.namespace(client, "builds", Map.of());
    cluster.readyMirror("builds", "corp");

    client.resource(buildPod("builds", "kaniko", Map.of("pypimirror.dev/mirror", "corp"))).create();

    Pod pod = cluster.stored("builds", "kaniko");
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

    assertThat(cluster.stored("plain", "app").getSpec().getVolumes()).isNullOrEmpty();
    assertThat(api.calls()).noneMatch(c -> c.name().equals("app"));
  }

  private static List<String> podEntries() {
    return cluster.podEntries();
  }

  /** A namespace an Enforce policy governs (no label of the operator's is needed). */
  private static void enforcedNamespace(String namespace) {
    cluster.enforcedNamespace(namespace);
    assertThat(client.namespaces().withName(namespace).get().getMetadata().getLabels())
        .doesNotContainKeys("pypimirror.dev/enforced", "pypimirror.dev/policy");
  }

  @Test
  void enforcedNamespacesOverrideOptOutsAndDenyWhatCannotBeInjected() {
    enforcedNamespace("secure");

    client
        .resource(buildPod("secure", "opted-out", Map.of("pypimirror.dev/inject", "false")))
        .create();
    assertThat(cluster.stored("secure", "opted-out").getMetadata().getAnnotations())
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
            // it asks by annotation: the opt-in entry, called first, already refuses it
            "admission webhook \"pods.pypimirror.dev\" denied the request")
        .hasMessageContaining("PypiMirrorPolicy secure-builds enforces a PyPI mirror here");
    assertThat(cluster.stored("secure", "elsewhere")).isNull();
  }

  @Test
  void containersKubectlDebugAddsAreHeldByTheAllowListThroughTheApiServer() {
    enforcedNamespace("debugged");
    client
        .resource(buildPod("debugged", "build", Map.of("pypimirror.dev/inject", "true")))
        .create();
    var pod = client.pods().inNamespace("debugged").withName("build");

    // kubectl debug: an update of the pod's ephemeralcontainers subresource
    pod.ephemeralContainers()
        .edit(
            p ->
                new io.fabric8.kubernetes.api.model.PodBuilder(p)
                    .editSpec()
                    .addNewEphemeralContainer()
                    .withName("debugger")
                    .withImage("python:3.12")
                    .addNewEnv()
                    .withName("PIP_INDEX_URL")
                    .withValue("https://evil.example/simple/")
                    .endEnv()
                    .addNewEnv()
                    .withName("PIP_PROXY")
                    .withValue("http://evil.example:3128")
                    .endEnv()
                    .endEphemeralContainer()
                    .endSpec()
                    .build());

    var debugger = cluster.stored("debugged", "build").getSpec().getEphemeralContainers();
    assertThat(debugger).singleElement();
    assertThat(debugger.get(0).getEnv())
        .extracting(EnvVar::getName, EnvVar::getValue)
        .contains(
            tuple("PIP_INDEX_URL", "https://devpi.corp.example/simple/"),
            tuple("PIP_CONFIG_FILE", "/etc/pypi-mirror/pip.conf"))
        .noneMatch(e -> e.toList().get(0).equals("PIP_PROXY"));
    assertThat(debugger.get(0).getVolumeMounts())
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.getMountPath()).isEqualTo("/etc/pypi-mirror");
              assertThat(m.getSubPath()).isNull();
              assertThat(m.getReadOnly()).isTrue();
            });
    assertThat(api.calls())
        .filteredOn(c -> c.name().equals("build"))
        .extracting(AdmissionChain.Call::webhook)
        .contains("debugged-builds.policy.pypimirror.dev");

    assertThatThrownBy(
            () ->
                pod.ephemeralContainers()
                    .edit(
                        p ->
                            new io.fabric8.kubernetes.api.model.PodBuilder(p)
                                .editSpec()
                                .addNewEphemeralContainer()
                                .withName("shell")
                                .withImage("python:3.12")
                                .addNewEnv()
                                .withName("PYTHONPATH")
                                .withValue("/tmp/mine")
                                .endEnv()
                                .endEphemeralContainer()
                                .endSpec()
                                .build()))
        .hasMessageContaining("container shell sets PYTHONPATH");
    assertThat(cluster.stored("debugged", "build").getSpec().getEphemeralContainers())
        .singleElement();
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

    Pod pod = cluster.stored("forged", "bypass");
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
      assertThat(cluster.stored("outage-open", "build").getMetadata().getAnnotations())
          .doesNotContainKey("pypimirror.dev/injected");

      assertThatThrownBy(
              () ->
                  once(client)
                      .resource(
                          buildPod(
                              "outage-closed", "build", Map.of("pypimirror.dev/inject", "true")))
                      .create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining(
              "failed calling webhook \"outage-closed-builds.policy.pypimirror.dev\"")
          .hasMessageContaining("no endpoints");
      assertThat(cluster.stored("outage-closed", "build")).isNull();
    } finally {
      api.routeWebhookService(app.webhookPort());
    }
  }

  /**
   * A namespace a policy governs, once the leader has written the policy's PypiMirror validation
   * entry and the webhook's caches have the mirror the policy makes there.
   */
  private static void governedNamespace(String namespace, PypiMirrorPolicy policy) {
    MockCluster.namespace(client, namespace, Map.of("team", namespace));
    client.resource(policy).create();
    String entry = WebhookRoutes.entryName(policy.getMetadata().getName());
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                validates(entry)
                    && app.mirrors().get(namespace, policy.getMetadata().getName()).isPresent());
  }

  /** Whether the validating configuration the leader writes has the entry. */
  private static boolean validates(String entry) {
    return client
        .admissionRegistration()
        .v1()
        .validatingWebhookConfigurations()
        .withName(WebhookRoutes.CONFIGURATION)
        .get()
        .getWebhooks()
        .stream()
        .anyMatch(w -> w.getName().equals(entry));
  }

  @Test
  void theWebhooksWarningsReachTheClient() {
    governedNamespace(
        "advised",
        Policies.policy(
            "advised-builds",
            Map.of("team", "advised"),
            Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/")),
            false));

    client
        .resource(buildPod("advised", "opted-out", Map.of("pypimirror.dev/inject", "false")))
        .create();

    assertThat(cluster.stored("advised", "opted-out").getMetadata().getAnnotations())
        .doesNotContainKey("pypimirror.dev/injected");
    assertThat(api.warnings())
        .anySatisfy(
            w ->
                assertThat(w).contains("is honoured; PypiMirrorPolicy advised-builds is Advisory"));
  }

  @Test
  void aPolicyWhoseSettingsDoNothingIsAdmittedWithWarningsAndSaysSoInItsStatus() {
    await().atMost(Duration.ofSeconds(20)).until(() -> validates(WebhookRoutes.POLICY_CHECK_ENTRY));
    PypiMirrorPolicy policy =
        Policies.policy(
            "silent-builds",
            Map.of("team", "nobody-yet"),
            Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/")),
            true);
    policy.getSpec().setRestrictEgress(true); // the mirror is not served by a proxy
    policy.getSpec().setAllowedEnv(List.of("PIP_INDEX_URL"));

    client.resource(policy).create();

    String egress =
        "pypi-mirror: PypiMirrorPolicy silent-builds: restrictEgress has no effect: the policy's"
            + " mirror is not served by its caching proxy";
    String env = "pypi-mirror: PypiMirrorPolicy silent-builds: allowedEnv names PIP_INDEX_URL";
    assertThat(api.warnings())
        .anySatisfy(w -> assertThat(w).startsWith(egress))
        .anySatisfy(w -> assertThat(w).startsWith(env));
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(
                        java.util.Optional.ofNullable(
                                client
                                    .resources(PypiMirrorPolicy.class)
                                    .withName("silent-builds")
                                    .get()
                                    .getStatus())
                            .flatMap(s -> s.condition(PolicyStatuses.INEFFECTIVE_SETTINGS)))
                    .hasValueSatisfying(
                        c -> {
                          assertThat(c.getStatus()).isEqualTo("True");
                          assertThat(c.getMessage())
                              .contains("restrictEgress has no effect")
                              .contains("allowedEnv names PIP_INDEX_URL");
                        }));
    client.resource(policy).delete();
  }

  @Test
  void theValidatingWebhookRefusesAMirrorThePolicyForbids() {
    PypiMirrorPolicy policy =
        Policies.policy(
            "closed-builds",
            Map.of("team", "closed"),
            Mirrors.withPublic(
                Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/")), false, null),
            false);
    policy.getSpec().setAllowPublicIndex(false);
    governedNamespace("closed", policy);

    PypiMirror own =
        Mirrors.mirror(
            "closed", "own", Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/")));

    assertThatThrownBy(() -> client.resource(own).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining(
            "admission webhook \"closed-builds.policy.pypimirror.dev\" denied the request")
        .hasMessageContaining("allowPublicIndex is false");
    assertThat(client.resources(PypiMirror.class).inNamespace("closed").withName("own").get())
        .isNull();
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
        .until(
            () ->
                podEntries().contains("advisory-builds.policy.pypimirror.dev Ignore")
                    && app.mirrors()
                        .get("advisory", "advisory-builds")
                        .map(m -> m.getStatus() != null && m.getStatus().isReady())
                        .orElse(false));

    Pod pod = buildPod("advisory", "selected", Map.of());
    pod.getMetadata().setLabels(Map.of("build", "true"));
    client.resource(pod).create();
    client.resource(buildPod("advisory", "other", Map.of())).create();

    assertThat(cluster.stored("advisory", "selected").getMetadata().getAnnotations())
        .containsKey("pypimirror.dev/injected");
    assertThat(api.calls())
        .filteredOn(c -> c.name().equals("selected"))
        .extracting(AdmissionChain.Call::webhook)
        .containsExactly("advisory-builds.policy.pypimirror.dev");
    assertThat(cluster.stored("advisory", "other").getMetadata().getAnnotations())
        .doesNotContainKey("pypimirror.dev/injected");
    assertThat(api.calls()).noneMatch(c -> c.name().equals("other"));
  }

  @Test
  void aNamespaceLabelledWhileTheOperatorIsDownIsEnforcedAtOnce() {
    enforcedNamespace("late");
    api.unrouteWebhookService();
    try {
      // labelled after the operator went down: no operator acts, the API server routes it
      MockCluster.namespace(client, "late-2", Map.of("team", "late"));
      assertThatThrownBy(
              () -> once(client).resource(buildPod("late-2", "build", Map.of())).create())
          .isInstanceOf(KubernetesClientException.class)
          .hasMessageContaining("failed calling webhook \"late-builds.policy.pypimirror.dev\"");
      assertThat(cluster.stored("late-2", "build")).isNull();
    } finally {
      api.routeWebhookService(app.webhookPort());
    }
  }

  @Test
  void theWindowANewEnforcePolicyHasUntilTheLeaderWritesItsEntry() throws Exception {
    // another cluster, where no operator runs and the webhook Service has no endpoints
    try (ApiServer down = ApiServer.start().installCrds().installWebhookConfigurations()) {
      KubernetesClient other = down.client();
      MockCluster.namespace(other, "ml", Map.of("team", "ml"));
      other.resource(Policies.enforcedCorpBuilds()).create();

      other.resource(buildPod("ml", "before", Map.of())).create();
      assertThat(other.pods().inNamespace("ml").withName("before").get())
          .as("the window: the policy exists, its fail-closed entry does not yet")
          .isNotNull();

      // what the leader does when it sees the policy
      new WebhookConfigurations(
              other,
              ApiServer.WEBHOOK_NAMESPACE,
              () ->
                  java.util.Optional.of(
                      other
                          .resources(dev.pypimirror.operator.api.PypiMirrorPolicy.class)
                          .list()
                          .getItems()))
          .sync();

      assertThatThrownBy(() -> once(other).resource(buildPod("ml", "after", Map.of())).create())
          .hasMessageContaining("failed calling webhook \"corp-builds.policy.pypimirror.dev\"");
      assertThat(other.pods().inNamespace("ml").withName("after").get()).isNull();
    }
  }

  /**
   * A client that does not retry: a refused admission is final here, where fabric8's client would
   * retry the API server's 500 for about 20 s.
   */
  private static KubernetesClient once(KubernetesClient client) {
    return new io.fabric8.kubernetes.client.KubernetesClientBuilder()
        .withConfig(
            new io.fabric8.kubernetes.client.ConfigBuilder(client.getConfiguration())
                .withRequestRetryBackoffLimit(0)
                .build())
        .build();
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
