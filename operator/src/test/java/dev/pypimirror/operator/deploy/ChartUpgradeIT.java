package dev.pypimirror.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.cli.PreUpgradeCommand;
import dev.pypimirror.operator.cli.UninstallCommand;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.Leftovers;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Policies;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code helm upgrade} from the previous chart, the last one that rendered the webhook
 * configurations (charts/pypi-mirror-operator at commit f9612ce, rendered by Helm's engine and kept
 * as src/test/resources/upgrade/chart-f9612ce.yaml), to this one, on the test API server: Helm's
 * install and upgrade actions as {@link HelmActions} does them, the hooks' commands run as their
 * Jobs would, the operator run as the new chart runs it.
 */
class ChartUpgradeIT {
  static final String NAMESPACE = "platform-tools";
  static final String RELEASE = "pypi-mirror-operator";
  static final String POLICY_ENTRY = "corp-builds.policy.pypimirror.dev";

  static List<JsonNode> previousChart() throws IOException {
    return HelmChartIT.parse(resource("/upgrade/chart-f9612ce.yaml"));
  }

  static String resource(String path) throws IOException {
    try (InputStream in = ChartUpgradeIT.class.getResourceAsStream(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The hooks' Jobs: the image's command with the Job's args, against the test API server. */
  static HelmActions.HookRunner hooks(KubernetesClient client, StringWriter said) {
    return args -> {
      PrintWriter out = new PrintWriter(said, true);
      switch (args.get(0)) {
        case "pre-upgrade" -> {
          PreUpgradeCommand command = new PreUpgradeCommand();
          new CommandLine(command).parseArgs(args.subList(1, args.size()).toArray(String[]::new));
          command.run(client, out);
        }
        case "uninstall" -> {
          UninstallCommand command = new UninstallCommand();
          List<String> withNamespace = new ArrayList<>(args.subList(1, args.size()));
          withNamespace.add("--operator-namespace=" + NAMESPACE); // the Job's POD_NAMESPACE
          withNamespace.add("--wait=0");
          new CommandLine(command).parseArgs(withNamespace.toArray(String[]::new));
          try {
            command.run(client, out);
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        }
        default -> throw new AssertionError("a hook runs " + args);
      }
    };
  }

  /**
   * What the previous operator made at run time: an Enforce policy's fail-closed entry in the
   * configuration the chart applied (its leader patched them; the new leader writes the same).
   */
  static void previousOperatorRan(KubernetesClient client) {
    var mutating =
        client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(RELEASE);
    mutating.edit(
        c -> {
          MutatingWebhook optIn = c.getWebhooks().get(0);
          c.getWebhooks()
              .add(
                  new MutatingWebhookBuilder(optIn)
                      .withName(POLICY_ENTRY)
                      .withFailurePolicy("Fail")
                      .withMatchConditions(List.of())
                      .withNewNamespaceSelector()
                      .withMatchLabels(Map.of("team", "ml"))
                      .endNamespaceSelector()
                      .build());
          return c;
        });
  }

  static MutatingWebhookConfiguration mutating(KubernetesClient client) {
    return client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(RELEASE)
        .get();
  }

  static io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration
      validating(KubernetesClient client) {
    return client
        .admissionRegistration()
        .v1()
        .validatingWebhookConfigurations()
        .withName(RELEASE)
        .get();
  }

  @Test
  void upgradingFromTheChartThatAppliedTheWebhookConfigurationsHandsThemToTheOperator()
      throws Exception {
    List<JsonNode> previous = previousChart();
    List<JsonNode> next = HelmChartIT.withHooksShown(RELEASE, NAMESPACE, "{}");
    try (ApiServer api = ApiServer.start()) {
      KubernetesClient client = api.client();
      MockCluster.namespace(client, NAMESPACE, Map.of());
      MockCluster.namespace(client, "ml", Map.of("team", "ml"));
      MockCluster.namespace(client, "builds", Map.of());
      HelmActions.install(client, RELEASE, NAMESPACE, previous);
      client.resource(Policies.enforcedCorpBuilds()).create();
      previousOperatorRan(client);
      assertThat(mutating(client).getMetadata().getAnnotations())
          .containsEntry("meta.helm.sh/release-name", RELEASE);

      StringWriter said = new StringWriter();
      HelmActions.upgrade(client, RELEASE, NAMESPACE, previous, next, hooks(client, said));

      assertThat(said.toString())
          .contains("MutatingWebhookConfiguration pypi-mirror-operator: kept")
          .contains("ValidatingWebhookConfiguration pypi-mirror-operator: kept");
      MutatingWebhookConfiguration kept = mutating(client);
      assertThat(kept).as("Helm left them: enforced namespaces stay enforced").isNotNull();
      assertThat(kept.getWebhooks()).extracting(MutatingWebhook::getName).contains(POLICY_ENTRY);
      assertThat(kept.getMetadata().getAnnotations())
          .containsEntry("helm.sh/resource-policy", "keep")
          .doesNotContainKeys("meta.helm.sh/release-name", "meta.helm.sh/release-namespace");
      assertThat(validating(client)).isNotNull();

      InstallChecks install =
          new InstallChecks(
              next.stream().filter(o -> HelmActions.hookOf(o) == null).toList(), NAMESPACE);
      try (OperatorApp app =
          new OperatorApp(client, HelmActions.settingsOf(install), Clock.systemUTC()).start()) {
        api.routeService(
            NAMESPACE, install.arg("webhook-service"), 443, "127.0.0.1:" + app.webhookPort());
        String role = client.rbac().clusterRoles().withName(RELEASE).get().getMetadata().getUid();
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    owner(mutating(client)).equals(role)
                        && owner(validating(client)).equals(role)
                        && mutating(client).getWebhooks().stream()
                            .allMatch(w -> w.getClientConfig().getCaBundle() != null));

        api.awaitCaBundles(); // and every replica serves the certificate they trust
        MutatingWebhookConfiguration adopted = mutating(client);
        assertThat(adopted.getWebhooks())
            .extracting(MutatingWebhook::getName)
            .containsExactly("pods.pypimirror.dev", POLICY_ENTRY);
        assertThat(adopted.getMetadata().getLabels())
            .containsEntry("app.kubernetes.io/managed-by", "pypi-mirror-operator")
            .doesNotContainKeys("app.kubernetes.io/instance", "helm.sh/chart");
        assertThat(adopted.getWebhooks())
            .allSatisfy(
                w -> {
                  assertThat(w.getClientConfig().getService().getName())
                      .isEqualTo(install.arg("webhook-service"));
                  assertThat(w.getNamespaceSelector().getMatchExpressions())
                      .anySatisfy(e -> assertThat(e.getValues()).contains(NAMESPACE));
                });

        // the webhook answers over HTTPS with the new CA: an opt-in pod is admitted and marked,
        // and a pod anywhere else is admitted untouched
        var optIn =
            client
                .resource(
                    new PodBuilder()
                        .withNewMetadata()
                        .withNamespace("builds")
                        .withName("build")
                        .withAnnotations(Map.of("pypimirror.dev/inject", "true"))
                        .endMetadata()
                        .withNewSpec()
                        .addNewContainer()
                        .withName("build")
                        .withImage("python:3.12")
                        .endContainer()
                        .endSpec()
                        .build())
                .create();
        assertThat(optIn.getMetadata().getAnnotations()).containsKey("pypimirror.dev/skipped");
        assertThat(api.calls()).isNotEmpty();

        // upgrading again (this chart over itself): nothing of the operator's is touched
        said.getBuffer().setLength(0);
        HelmActions.upgrade(client, RELEASE, NAMESPACE, next, next, hooks(client, said));
        assertThat(said.toString())
            .contains("MutatingWebhookConfiguration pypi-mirror-operator: the operator's");
      }

      // helm uninstall (the operator's pods are gone once the hook scaled it to zero)
      said.getBuffer().setLength(0);
      HelmActions.uninstall(client, next, hooks(client, said));
      assertThat(Leftovers.webhookConfigurations(client)).isEmpty();
      List<String> left = new ArrayList<>();
      Map.of(
              "ServiceAccount", "v1",
              "Secret", "v1",
              "ConfigMap", "v1",
              "Service", "v1",
              "Role", "rbac.authorization.k8s.io/v1",
              "RoleBinding", "rbac.authorization.k8s.io/v1",
              "Job", "batch/v1",
              "PodDisruptionBudget", "policy/v1")
          .forEach(
              (kind, apiVersion) ->
                  client
                      .genericKubernetesResources(apiVersion, kind)
                      .inNamespace(NAMESPACE)
                      .list()
                      .getItems()
                      .forEach(o -> left.add(kind + "/" + o.getMetadata().getName())));
      left.addAll(
          client.apps().deployments().inNamespace(NAMESPACE).list().getItems().stream()
              .map(d -> "Deployment/" + d.getMetadata().getName())
              .toList());
      left.addAll(
          client.leases().inNamespace(NAMESPACE).list().getItems().stream()
              .map(d -> "Lease/" + d.getMetadata().getName())
              .toList());
      left.addAll(
          client.rbac().clusterRoles().list().getItems().stream()
              .map(r -> "ClusterRole/" + r.getMetadata().getName())
              .toList());
      left.addAll(
          client.rbac().clusterRoleBindings().list().getItems().stream()
              .map(r -> "ClusterRoleBinding/" + r.getMetadata().getName())
              .toList());
      assertThat(left).as("what helm uninstall leaves").isEmpty();
    }
  }

  private static String owner(HasMetadata o) {
    return o == null || o.getMetadata().getOwnerReferences() == null
        ? ""
        : o.getMetadata().getOwnerReferences().stream()
            .filter(r -> r.getKind().equals("ClusterRole"))
            .map(r -> r.getUid())
            .findFirst()
            .orElse("");
  }

  /** The upgrade as it was: Helm deletes what the new chart no longer holds. */
  @Test
  void withoutTheHookHelmWouldDeleteThem() throws Exception {
    List<JsonNode> previous = previousChart();
    List<JsonNode> next = HelmChartIT.helmTemplate(NAMESPACE, "{}");
    try (ApiServer api = ApiServer.start()) {
      KubernetesClient client = api.client();
      MockCluster.namespace(client, NAMESPACE, Map.of());
      HelmActions.install(client, RELEASE, NAMESPACE, previous);

      HelmActions.upgrade(client, RELEASE, NAMESPACE, previous, next, args -> {});

      assertThat(mutating(client)).isNull();
    }
  }

  /**
   * Helm never upgrades crds/: the pre-upgrade hook replaces CRDs an older chart installed (here
   * those before spec.cache.serve existed) with this version's, and stored mirrors stay.
   */
  @Test
  void thePreUpgradeHookAppliesThisVersionsCrds() throws Exception {
    try (ApiServer api = ApiServer.start()) {
      KubernetesClient client = api.client();
      for (JsonNode crd : HelmChartIT.parse(resource("/upgrade/crds-1a191d2.yaml"))) {
        client.resource(HelmActions.generic(client, crd)).create();
      }
      MockCluster.namespace(client, "builds", Map.of());
      String proxied =
          """
          apiVersion: pypimirror.dev/v1alpha1
          kind: PypiMirror
          metadata: {name: %s, namespace: builds}
          spec:
            indexes: [{url: "https://devpi.corp.example/root/pypi/+simple/"}]
            cache: {enabled: true, serve: Proxy}
          """;
      client.resource(mirror(client, proxied.formatted("before"))).create();
      assertThat(cache(client, "before"))
          .as("the old schema prunes serve")
          .doesNotContainKey("serve");

      StringWriter said = new StringWriter();
      hooks(client, said).run(List.of("pre-upgrade", "--webhook-configuration=" + RELEASE));

      assertThat(said.toString())
          .contains("CustomResourceDefinition pypimirrors.pypimirror.dev: updated")
          .contains("CustomResourceDefinition pypimirrorpolicies.pypimirror.dev: updated");
      for (String name :
          List.of("pypimirrors.pypimirror.dev", "pypimirrorpolicies.pypimirror.dev")) {
        CustomResourceDefinition stored =
            client.apiextensions().v1().customResourceDefinitions().withName(name).get();
        CustomResourceDefinition shipped =
            client
                .getKubernetesSerialization()
                .unmarshal(
                    java.nio.file.Files.readString(
                        HelmChartIT.CHART.resolve("crds/" + name + "-v1.yml")),
                    CustomResourceDefinition.class);
        assertThat(client.getKubernetesSerialization().asJson(stored.getSpec()))
            .as("the chart's crds/ as this version ships them")
            .isEqualTo(client.getKubernetesSerialization().asJson(shipped.getSpec()));
      }
      client.resource(mirror(client, proxied.formatted("after"))).create();
      assertThat(cache(client, "after")).containsEntry("serve", "Proxy");
      assertThat(client.resources(PypiMirror.class).inNamespace("builds").withName("before").get())
          .as("stored mirrors stay")
          .isNotNull();

      said.getBuffer().setLength(0);
      hooks(client, said).run(List.of("pre-upgrade"));
      assertThat(said.toString()).contains("pypimirrors.pypimirror.dev: current");
    }
  }

  private static GenericKubernetesResource mirror(KubernetesClient client, String yaml) {
    return client.getKubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cache(KubernetesClient client, String name) {
    GenericKubernetesResource stored =
        client
            .genericKubernetesResources("pypimirror.dev/v1alpha1", "PypiMirror")
            .inNamespace("builds")
            .withName(name)
            .get();
    return (Map<String, Object>)
        ((Map<String, Object>) stored.getAdditionalProperties().get("spec")).get("cache");
  }
}
