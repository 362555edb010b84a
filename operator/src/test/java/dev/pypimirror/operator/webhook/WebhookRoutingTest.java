package dev.pypimirror.operator.webhook;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec.Enforcement;
import dev.pypimirror.operator.policy.LabelSelectors;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.testing.CelRulesCheck;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Policies;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperations;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Webhook routing derived from the policies: the entries the leader writes into the deployed
 * configurations (rendered by the real kustomize), what they route while the operator is up, down,
 * or has not acted yet, and the one writer that keeps them and the caBundle.
 */
@EnableKubernetesMockClient(crud = true)
class WebhookRoutingTest {
  static final ObjectMapper JSON = new ObjectMapper();
  KubernetesMockServer server;
  KubernetesClient client;
  List<PypiMirrorPolicy> policies = new ArrayList<>();
  WebhookConfigurations configurations;

  @BeforeEach
  void install() {
    // as the leader left them before any policy existed
    new WebhookConfigurations(client, "pypi-mirror-system", () -> Optional.of(List.of())).sync();
    configurations =
        new WebhookConfigurations(
            client, "pypi-mirror-system", () -> Optional.of(List.copyOf(policies)));
  }

  MutatingWebhookConfiguration mutating() {
    return client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName("pypi-mirror-operator")
        .get();
  }

  ValidatingWebhookConfiguration validating() {
    return client
        .admissionRegistration()
        .v1()
        .validatingWebhookConfigurations()
        .withName("pypi-mirror-operator")
        .get();
  }

  static PypiMirrorPolicy enforce(String name, Map<String, String> namespaces) {
    PypiMirrorPolicy policy =
        Policies.policy(name, namespaces, spec(https("https://devpi.corp.example/simple/")), true);
    policy.getSpec().setPodSelector(Policies.selector(Map.of("role", "image-build")));
    return policy;
  }

  static PypiMirrorPolicy advisory(String name, Map<String, String> namespaces) {
    PypiMirrorPolicy policy = enforce(name, namespaces);
    policy.getSpec().setEnforcement(Enforcement.Advisory);
    return policy;
  }

  /**
   * What the API server does with a pod CREATE when the webhook cannot be reached: the entries it
   * would call (namespaceSelector against the namespace's labels, objectSelector against the
   * pod's), and whether one that fails closed refuses the pod. matchConditions are looked at by
   * {@link CelRulesCheck} and asserted absent on the entries that fail closed.
   */
  record Outage(List<String> called, boolean refused) {}

  static Outage webhookDown(
      MutatingWebhookConfiguration configuration,
      String namespace,
      Map<String, String> namespaceLabels,
      Map<String, String> podLabels) {
    Map<String, String> labels = new HashMap<>(namespaceLabels);
    labels.put("kubernetes.io/metadata.name", namespace); // set by the API server
    List<String> called = new ArrayList<>();
    boolean refused = false;
    for (MutatingWebhook w : configuration.getWebhooks()) {
      boolean namespaceMatches =
          w.getNamespaceSelector() == null
              || LabelSelectors.matches(w.getNamespaceSelector(), labels);
      boolean objectMatches =
          w.getObjectSelector() == null || LabelSelectors.matches(w.getObjectSelector(), podLabels);
      boolean conditionsMayMatch =
          w.getMatchConditions() == null
              || w.getMatchConditions().isEmpty()
              || !w.getName()
                  .equals(WebhookRoutes.OPT_IN_ENTRY); // the opt-in entry wants annotations
      if (namespaceMatches && objectMatches && conditionsMayMatch) {
        called.add(w.getName());
        refused |= "Fail".equals(w.getFailurePolicy());
      }
    }
    return new Outage(called, refused);
  }

  @Test
  void eachPolicyGetsEntriesWithItsOwnNamespaceSelectorAndTheFailClosedOnesHaveNoEscape()
      throws Exception {
    policies.add(enforce("corp-builds", Map.of("team", "ml")));
    policies.add(advisory("suggest", Map.of("team", "web")));
    PypiMirrorPolicy rulesOnly = advisory("rules-only", Map.of("team", "data"));
    rulesOnly.getSpec().setPodSelector(null);
    policies.add(rulesOnly);
    PypiMirrorPolicy broken = enforce("broken", Map.of());
    broken
        .getSpec()
        .setNamespaceSelector(
            new LabelSelectorBuilder()
                .addNewMatchExpression()
                .withKey("team")
                .endMatchExpression()
                .build());
    policies.add(broken);

    assertThat(configurations.sync()).isTrue();

    var webhooks = mutating().getWebhooks();
    assertThat(webhooks)
        .extracting(MutatingWebhook::getName)
        .containsExactly(
            "pods.pypimirror.dev",
            "corp-builds.policy.pypimirror.dev",
            "suggest.policy.pypimirror.dev");
    MutatingWebhook optIn = webhooks.get(0);
    MutatingWebhook enforced = webhooks.get(1);
    MutatingWebhook advisory = webhooks.get(2);
    assertThat(enforced.getFailurePolicy()).isEqualTo("Fail");
    assertThat(enforced.getObjectSelector()).isNull();
    assertThat(enforced.getMatchConditions()).isNullOrEmpty();
    assertThat(enforced.getNamespaceSelector().getMatchLabels())
        .containsExactly(Map.entry("team", "ml"));
    assertThat(enforced.getNamespaceSelector().getMatchExpressions())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getKey()).isEqualTo("kubernetes.io/metadata.name");
              assertThat(e.getOperator()).isEqualTo("NotIn");
              assertThat(e.getValues())
                  .containsExactlyInAnyOrder(
                      "kube-system", "kube-public", "kube-node-lease", "pypi-mirror-system");
            });
    // the entry names its policy in its path, so the webhook knows the API server chose it
    assertThat(enforced.getClientConfig().getService().getPath())
        .isEqualTo("/mutate-pods/enforce/corp-builds");
    assertThat(advisory.getClientConfig().getService().getPath())
        .isEqualTo("/mutate-pods/advisory/suggest");
    assertThat(enforced.getClientConfig().getService().getName())
        .isEqualTo(optIn.getClientConfig().getService().getName());
    assertThat(enforced.getClientConfig().getCaBundle())
        .isEqualTo(optIn.getClientConfig().getCaBundle());
    // and it sees the containers kubectl debug adds
    assertThat(enforced.getRules()).startsWith(optIn.getRules().toArray(new RuleWithOperations[0]));
    assertThat(enforced.getRules().get(enforced.getRules().size() - 1))
        .satisfies(
            r -> {
              assertThat(r.getResources()).containsExactly("pods/ephemeralcontainers");
              assertThat(r.getOperations()).containsExactly("UPDATE");
            });
    assertThat(advisory.getRules()).isEqualTo(optIn.getRules());
    assertThat(enforced.getReinvocationPolicy()).isEqualTo("IfNeeded");
    assertThat(advisory.getFailurePolicy()).isEqualTo("Ignore");
    assertThat(advisory.getObjectSelector().getMatchLabels())
        .containsExactly(Map.entry("role", "image-build"));
    for (MutatingWebhook w : webhooks) {
      assertThat(w.getObjectSelector() == null ? "" : w.getObjectSelector().toString())
          .as("no entry is skipped by the operator's managed-by label, which anyone can set")
          .doesNotContain("managed-by");
    }

    assertThat(validating().getWebhooks())
        .extracting(
            w ->
                w.getName()
                    + " "
                    + w.getFailurePolicy()
                    + " "
                    + w.getClientConfig().getService().getPath())
        .containsExactly(
            "policies.pypimirror.dev Ignore /validate-pypimirrorpolicies",
            "corp-builds.policy.pypimirror.dev Fail /validate-pypimirrors",
            "rules-only.policy.pypimirror.dev Fail /validate-pypimirrors",
            "suggest.policy.pypimirror.dev Fail /validate-pypimirrors");
    assertThat(validating().getWebhooks().get(1).getObjectSelector()).isNull();

    List<JsonNode> written = List.of(JSON.valueToTree(mutating()), JSON.valueToTree(validating()));
    assertThat(CelRulesCheck.checkWebhooks(written))
        .as(
            "the matchConditions written compile as kube-apiserver compiles them, no namespaceObject")
        .isNotEmpty()
        .allSatisfy(r -> assertThat(r.problems()).as(r.where()).isEmpty());
  }

  /**
   * The operator owns both configurations: it makes them when they are missing (after an install,
   * or when someone deleted them), writes the opt-in entry from its settings with its own namespace
   * excluded, and makes the ClusterRole of their name their owner, so deleting the install
   * garbage-collects them.
   */
  @Test
  void theOperatorCreatesItsConfigurationsOwnedByItsClusterRole() {
    client.admissionRegistration().v1().mutatingWebhookConfigurations().delete();
    client.admissionRegistration().v1().validatingWebhookConfigurations().delete();
    var role =
        client
            .rbac()
            .clusterRoles()
            .resource(
                new io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder()
                    .withNewMetadata()
                    .withName("build-mirrors")
                    .endMetadata()
                    .build())
            .create();
    var routing =
        new dev.pypimirror.operator.settings.OperatorSettings.Routing(
            "build-mirrors", "build-mirrors-webhook", "Fail", 3, "build-mirrors-webhook");
    policies.add(enforce("corp-builds", Map.of("team", "ml")));

    new WebhookConfigurations(
            client, "platform-tools", routing, () -> Optional.of(List.copyOf(policies)))
        .sync();

    var mutating =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName("build-mirrors")
            .get();
    var validating =
        client
            .admissionRegistration()
            .v1()
            .validatingWebhookConfigurations()
            .withName("build-mirrors")
            .get();
    for (var metadata : List.of(mutating.getMetadata(), validating.getMetadata())) {
      assertThat(metadata.getOwnerReferences())
          .singleElement()
          .satisfies(
              o -> {
                assertThat(o.getKind()).isEqualTo("ClusterRole");
                assertThat(o.getUid()).isEqualTo(role.getMetadata().getUid());
                assertThat(o.getBlockOwnerDeletion()).as("needs no right to delete it").isNull();
              });
      assertThat(metadata.getAnnotations())
          .containsEntry("cert-manager.io/inject-ca-from", "platform-tools/build-mirrors-webhook");
      assertThat(metadata.getLabels())
          .containsEntry("app.kubernetes.io/part-of", "pypi-mirror-operator");
    }
    MutatingWebhook optIn = mutating.getWebhooks().get(0);
    assertThat(optIn.getName()).isEqualTo("pods.pypimirror.dev");
    assertThat(optIn.getFailurePolicy()).isEqualTo("Fail");
    assertThat(optIn.getTimeoutSeconds()).isEqualTo(3);
    assertThat(optIn.getClientConfig().getService().getName()).isEqualTo("build-mirrors-webhook");
    assertThat(mutating.getWebhooks())
        .allSatisfy(
            w -> {
              assertThat(w.getClientConfig().getService().getNamespace())
                  .isEqualTo("platform-tools");
              assertThat(w.getNamespaceSelector().getMatchExpressions())
                  .anySatisfy(
                      e ->
                          assertThat(e.getValues())
                              .as("its own namespace, whatever the install named")
                              .contains("platform-tools")
                              .doesNotContain("pypi-mirror-system"));
            });
    assertThat(validating.getWebhooks())
        .extracting(ValidatingWebhook::getName)
        .containsExactly("policies.pypimirror.dev", "corp-builds.policy.pypimirror.dev");
  }

  @Test
  void anAdvisoryPodSelectorPodIsRoutedWithoutAnyAnnotation() {
    policies.add(advisory("suggest", Map.of("team", "web")));
    assertThat(
            webhookDown(mutating(), "web-1", Map.of("team", "web"), Map.of("role", "image-build"))
                .called())
        .as("before: the opt-in entry wants an annotation, so nothing calls the webhook")
        .isEmpty();

    configurations.sync();

    Outage routed =
        webhookDown(mutating(), "web-1", Map.of("team", "web"), Map.of("role", "image-build"));
    assertThat(routed.called()).containsExactly("suggest.policy.pypimirror.dev");
    assertThat(routed.refused()).as("Advisory fails open").isFalse();
    assertThat(
            webhookDown(mutating(), "web-1", Map.of("team", "web"), Map.of("role", "web")).called())
        .isEmpty();
  }

  @Test
  void theRoutingWindow() {
    policies.add(enforce("corp-builds", Map.of("team", "ml")));

    // Before the leader has seen the new policy: only the opt-in entry exists (the window).
    Outage before = webhookDown(mutating(), "ml-1", Map.of("team", "ml"), Map.of());
    assertThat(before.refused()).isFalse();

    configurations.sync();
    // The operator is down from here on: nothing syncs again.
    Outage governed = webhookDown(mutating(), "ml-1", Map.of("team", "ml"), Map.of());
    assertThat(governed.called()).containsExactly("corp-builds.policy.pypimirror.dev");
    assertThat(governed.refused()).as("enforced namespace, webhook down: refused").isTrue();
    Outage anyLabel =
        webhookDown(
            mutating(),
            "ml-1",
            Map.of("team", "ml"),
            Map.of("app.kubernetes.io/managed-by", "pypi-mirror-operator", "role", "other"));
    assertThat(anyLabel.refused()).as("no label of the pod's exempts it").isTrue();
    Outage newlyLabelled = webhookDown(mutating(), "ml-new", Map.of("team", "ml"), Map.of());
    assertThat(newlyLabelled.refused())
        .as("a namespace labelled after the operator went down is routed at once")
        .isTrue();
    assertThat(webhookDown(mutating(), "web", Map.of("team", "web"), Map.of()).refused()).isFalse();
    assertThat(
            webhookDown(mutating(), "pypi-mirror-system", Map.of("team", "ml"), Map.of()).called())
        .as("the operator's own namespace stays out, so it can always come back")
        .isEmpty();

    // A policy switched to Enforce while the operator is down is the other window: Ignore until
    // the leader rewrites the entry.
    policies.add(advisory("later", Map.of("team", "data")));
    configurations.sync();
    policies.set(1, enforce("later", Map.of("team", "data")));
    assertThat(
            webhookDown(mutating(), "data", Map.of("team", "data"), Map.of("role", "image-build"))
                .refused())
        .isFalse();
    configurations.sync();
    assertThat(webhookDown(mutating(), "data", Map.of("team", "data"), Map.of()).refused())
        .isTrue();
  }

  @Test
  void oneWriterKeepsTheEntriesAndTheCaBundleAndWritesOnlyWhatChanged() {
    policies.add(enforce("corp-builds", Map.of("team", "ml")));
    configurations.caBundle("Q0EtMQ==");
    assertThat(mutating().getWebhooks())
        .hasSize(2)
        .allSatisfy(w -> assertThat(w.getClientConfig().getCaBundle()).isEqualTo("Q0EtMQ=="));
    assertThat(validating().getWebhooks())
        .hasSize(2)
        .allSatisfy(w -> assertThat(w.getClientConfig().getCaBundle()).isEqualTo("Q0EtMQ=="));

    String version = mutating().getMetadata().getResourceVersion();
    configurations.sync();
    assertThat(mutating().getMetadata().getResourceVersion())
        .as("nothing changed: no write")
        .isEqualTo(version);

    // someone re-applies the deployed configuration: the next sync puts the entry back
    client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName("pypi-mirror-operator")
        .edit(
            c -> {
              c.getWebhooks().removeIf(w -> WebhookRoutes.isPolicyEntry(w.getName()));
              return c;
            });
    configurations.sync();
    assertThat(mutating().getWebhooks())
        .extracting(MutatingWebhook::getName)
        .contains("corp-builds.policy.pypimirror.dev");

    policies.clear();
    configurations.sync();
    assertThat(mutating().getWebhooks())
        .extracting(MutatingWebhook::getName)
        .containsExactly("pods.pypimirror.dev");
    assertThat(validating().getWebhooks())
        .extracting(ValidatingWebhook::getName)
        .as("the policy check stays: the next policy is checked as it is written")
        .containsExactly("policies.pypimirror.dev");

    // cert-manager mode (no bundle of ours): a new entry copies the deployed entry's bundle
    var certManaged =
        new WebhookConfigurations(
            client, "pypi-mirror-system", () -> Optional.of(List.copyOf(policies)));
    policies.add(enforce("corp-builds", Map.of("team", "ml")));
    certManaged.sync();
    assertThat(mutating().getWebhooks())
        .allSatisfy(w -> assertThat(w.getClientConfig().getCaBundle()).isEqualTo("Q0EtMQ=="));

    // policies not known yet (informer not synced): nothing is removed
    new WebhookConfigurations(client, "pypi-mirror-system", Optional::empty).sync();
    assertThat(mutating().getWebhooks()).hasSize(2);
  }

  @Test
  void webhookNamesAreValidAndUniqueForEveryPolicyName() {
    String longA = "a".repeat(240) + "-x";
    String longB = "a".repeat(240) + "-y";
    for (String name : List.of("corp-builds", "a.b", longA, longB, "z".repeat(253))) {
      String entry = WebhookRoutes.entryName(name);
      assertThat(entry.length()).isLessThanOrEqualTo(253);
      assertThat(entry)
          .matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?){2,}")
          .endsWith(".policy.pypimirror.dev");
    }
    assertThat(WebhookRoutes.entryName(longA)).isNotEqualTo(WebhookRoutes.entryName(longB));
    assertThat(WebhookRoutes.entryName("a.b")).isNotEqualTo(WebhookRoutes.entryName("a"));
  }

  @Test
  void policiesUnknownAtTheLeadersFirstSyncAreWrittenOnceKnownNotAPeriodLater() {
    client.admissionRegistration().v1().mutatingWebhookConfigurations().delete();
    client.admissionRegistration().v1().validatingWebhookConfigurations().delete();
    AtomicBoolean synced = new AtomicBoolean();
    policies.add(enforce("corp-builds", Map.of("team", "ml")));
    try (var leader =
        new WebhookConfigurations(
            client,
            "pypi-mirror-system",
            () -> synced.get() ? Optional.of(List.copyOf(policies)) : Optional.empty())) {
      leader.startManaging();
      await()
          .during(Duration.ofMillis(300))
          .atMost(Duration.ofSeconds(5))
          .until(() -> mutating() == null);

      synced.set(true); // the policy informer has synced; no policy event follows

      // the period is a minute: only the retry can write them this soon
      await()
          .atMost(Duration.ofSeconds(WebhookConfigurations.PERIOD_SECONDS / 2))
          .ignoreExceptions()
          .untilAsserted(
              () ->
                  assertThat(mutating().getWebhooks())
                      .extracting(MutatingWebhook::getName)
                      .contains("corp-builds.policy.pypimirror.dev"));
    }
  }

  @Test
  void theLeaderRoutesANewPolicyAndDropsADeletedOne() throws Exception {
    MockCluster.installCrds(client);
    try (OperatorApp app =
        new OperatorApp(
                client,
                OperatorSettings.defaults()
                    .withOperatorNamespace("pypi-mirror-system")
                    .withWebhook(OperatorSettings.Webhook::disabled),
                Clock.systemUTC())
            .start()) {
      client.resource(enforce("corp-builds", Map.of("team", "ml"))).create();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(mutating().getWebhooks())
                      .extracting(MutatingWebhook::getName)
                      .contains("corp-builds.policy.pypimirror.dev"));
      client.resources(PypiMirrorPolicy.class).withName("corp-builds").delete();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(mutating().getWebhooks())
                      .extracting(MutatingWebhook::getName)
                      .containsExactly("pods.pypimirror.dev"));
    }
  }
}
