package dev.pypimirror.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.testing.Kustomize;
import dev.pypimirror.operator.testing.ProjectPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * deploy/ rendered by the real `kubectl kustomize`, checked for what a production install needs
 * ({@link InstallChecks}, which the Helm chart passes too).
 */
class DeployManifestsTest {
  static final String NAMESPACE = "pypi-mirror-system";

  @Test
  void theDefaultInstallPassesTheChecks() throws Exception {
    InstallChecks install = new InstallChecks(Kustomize.render("deploy/default"), NAMESPACE);

    install.all(2);
    install.theWebhooksFailAsDocumented();
    assertThat(install.find("Namespace", NAMESPACE)).isPresent();
    assertThat(install.find("Certificate", "pypi-mirror-operator-webhook")).isEmpty();
    assertThat(
            InstallChecks.texts(
                install
                    .one("Deployment", "pypi-mirror-operator")
                    .at("/spec/template/spec/containers/0/args")))
        .contains("--webhook-certs=self-managed");
  }

  /**
   * deploy/monitored is deploy/default plus the monitoring component's PrometheusRule, proxies'
   * PodMonitor and dashboard ConfigMap in the operator's namespace; the component's files are the
   * chart's (the chart's rendering of them equals this one: HelmChartIT).
   */
  @Test
  void theMonitoringComponentAddsTheAlertsAndTheDashboardAndNothingElse() throws Exception {
    List<JsonNode> monitored = Kustomize.render("deploy/monitored");
    List<JsonNode> plain = Kustomize.render("deploy/default");

    assertThat(monitored).containsAll(plain);
    assertThat(
            monitored.stream()
                .filter(o -> !plain.contains(o))
                .map(
                    o ->
                        o.path("kind").asText()
                            + "/"
                            + o.at("/metadata/namespace").asText()
                            + "/"
                            + o.at("/metadata/name").asText()))
        .containsExactlyInAnyOrder(
            "PrometheusRule/" + NAMESPACE + "/pypi-mirror-operator",
            "PodMonitor/" + NAMESPACE + "/pypi-mirror-operator-proxies",
            "ConfigMap/" + NAMESPACE + "/pypi-mirror-operator-dashboard");
    new InstallChecks(monitored, NAMESPACE).all(2);
    Path chartFiles = ProjectPaths.ROOT.resolve("charts/pypi-mirror-operator/files");
    assertThat(ProjectPaths.ROOT.resolve("deploy/components/monitoring/grafana-dashboard.json"))
        .hasSameTextualContentAs(chartFiles.resolve("grafana-dashboard.json"));
  }

  /**
   * Admission-policy mode (the component on deploy/default): the flag, and the rights to the
   * admission policies in a ClusterRole of their own, which the default install does not have.
   */
  @Test
  void theAdmissionPolicyComponentAddsTheFlagAndOnlyThenTheRights() throws Exception {
    InstallChecks install =
        new InstallChecks(Kustomize.render("deploy/admission-policies"), NAMESPACE);

    install.all(2);
    assertThat(
            InstallChecks.texts(
                install
                    .one("Deployment", "pypi-mirror-operator")
                    .at("/spec/template/spec/containers/0/args")))
        .endsWith("--injection=admission-policy");
    install.admissionPolicyRights("pypi-mirror-operator-admission-policies");
    InstallChecks webhookMode = new InstallChecks(Kustomize.render("deploy/default"), NAMESPACE);
    webhookMode.noAdmissionPolicyRights();
  }

  /**
   * The default image is written once in code ({@link Defaults#INDEX_IMAGE}, what {@code run} and
   * {@code render} use when they know no other); deploy/ and the chart must name it too, as YAML
   * cannot import it.
   */
  @Test
  void deployAndTheChartNameTheDefaultImageTheCodeUses() throws Exception {
    JsonNode manager =
        new InstallChecks(Kustomize.render("deploy/default"), NAMESPACE)
            .one("Deployment", "pypi-mirror-operator")
            .at("/spec/template/spec/containers/0");
    assertThat(manager.path("image").asText()).isEqualTo(Defaults.INDEX_IMAGE.defaultValue());

    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    Path chart = ProjectPaths.ROOT.resolve("charts/pypi-mirror-operator");
    JsonNode values = yaml.readTree(chart.resolve("values.yaml").toFile());
    JsonNode meta = yaml.readTree(chart.resolve("Chart.yaml").toFile());
    assertThat(values.at("/image/tag").asText()).as("the tag defaults to appVersion").isEmpty();
    assertThat(values.at("/image/repository").asText() + ":" + meta.path("appVersion").asText())
        .isEqualTo(Defaults.INDEX_IMAGE.defaultValue());
  }

  @Test
  void theCertManagerOverlayHasTheOperatorKeepTheCertificate() throws Exception {
    InstallChecks install = new InstallChecks(Kustomize.render("deploy/certmanager"), NAMESPACE);

    install.all(2);
    install.certManagerIssuesTheCertificate();
  }

  /**
   * An overlay written the usual way, with only `namespace:` and `images:`, installs correctly: no
   * trace of the default namespace, and the overlay's image the only one (the operator reads its
   * namespace and its image at run time, and the sync Jobs run that image).
   */
  @Test
  void aPlainOverlayWithNamespaceAndImagesOnlyLeavesNoTraceOfTheDefaults() throws Exception {
    List<JsonNode> objects =
        Kustomize.render(
            overlay(
                "plain-overlay",
                """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                namespace: platform-tools
                resources: [%s/default]
                images:
                  - {name: ghcr.io/pypimirror/pypi-mirror-operator, newName: registry.example.com/pmo, newTag: "9.9.9"}
                """));

    assertThat(objects)
        .allSatisfy(
            o ->
                assertThat(o.toString())
                    .doesNotContain(NAMESPACE)
                    .doesNotContain("ghcr.io")
                    .doesNotContain(Defaults.INDEX_IMAGE.defaultValue()));
    InstallChecks install = new InstallChecks(objects, "platform-tools");
    install.all(2);
    assertThat(install.find("Namespace", "platform-tools")).isPresent();
    assertThat(objects.toString()).containsOnlyOnce("registry.example.com/pmo:9.9.9");
    assertThat(
            install
                .one("Deployment", "pypi-mirror-operator")
                .at("/spec/template/spec/containers/0/image")
                .asText())
        .isEqualTo("registry.example.com/pmo:9.9.9");
  }

  /**
   * cert-manager mode elsewhere, the usual way too: nothing names the namespace (the leader keeps
   * the Certificate, whose DNS names hold it), so no transformer is needed.
   */
  @Test
  void aPlainCertManagerOverlayWithNamespaceAndImagesOnlyLeavesNoTraceOfTheDefaults()
      throws Exception {
    List<JsonNode> objects =
        Kustomize.render(
            overlay(
                "certmanager-overlay",
                """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                namespace: platform-tools
                resources: [%1$s/certmanager]
                images:
                  - {name: ghcr.io/pypimirror/pypi-mirror-operator, newName: registry.example.com/pmo, newTag: "9.9.9"}
                """));

    assertThat(objects)
        .allSatisfy(
            o -> assertThat(o.toString()).doesNotContain(NAMESPACE).doesNotContain("ghcr.io"));
    InstallChecks install = new InstallChecks(objects, "platform-tools");
    install.all(2);
    install.certManagerIssuesTheCertificate();
    assertThat(
            install
                .one("Deployment", "pypi-mirror-operator")
                .at("/spec/template/spec/containers/0/image")
                .asText())
        .isEqualTo("registry.example.com/pmo:9.9.9");
  }

  /**
   * RBAC narrowed with kustomize: deploy/watch-namespaces, and the component it uses in an overlay
   * of one's own for two namespaces, give the rights to a mirror's ConfigMaps, Jobs and CronJobs as
   * Roles in the watched namespaces only (HelmChartIT: the same objects as the chart's).
   */
  @Test
  void theWatchNamespacesOverlayAndComponentNarrowTheMirrorWorkloadRights() throws Exception {
    InstallChecks example =
        new InstallChecks(Kustomize.render("deploy/watch-namespaces"), NAMESPACE);
    InstallChecks two =
        new InstallChecks(Kustomize.render(watching("builds", "ml-training")), NAMESPACE);

    example.all(2);
    assertThat(example.watched()).containsExactly("builds");
    two.all(2);
    assertThat(two.watched()).containsExactly("builds", "ml-training");
    assertThat(two.find("Role", "pypi-mirror-operator")).isPresent();
  }

  /**
   * An overlay in target/ watching {@code namespaces}, written as deploy/watch-namespaces says: the
   * component, deploy/watch-namespaces/role-builds.yaml copied per namespace, the argument.
   */
  static String watching(String... namespaces) throws Exception {
    String name = "watching-" + String.join("-", namespaces);
    Path overlay = Files.createDirectories(Path.of("target", name).toAbsolutePath());
    String role =
        Files.readString(ProjectPaths.ROOT.resolve("deploy/watch-namespaces/role-builds.yaml"));
    StringBuilder roles = new StringBuilder();
    for (String namespace : namespaces) {
      Files.writeString(
          overlay.resolve("role-" + namespace + ".yaml"),
          role.replace("namespace: builds", "namespace: " + namespace));
      roles.append("  - role-").append(namespace).append(".yaml\n");
    }
    return overlay(
        name,
        """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - %1$s/default
        """
            + roles
            + """
            components: [%1$s/components/watched-namespaces]
            patches:
              - target: {group: apps, kind: Deployment, name: pypi-mirror-operator}
                patch: |-
                  - {op: add, path: /spec/template/spec/containers/0/args/-, value: "--watch-namespaces=%2$s"}
            labels:
              - pairs: {app.kubernetes.io/part-of: pypi-mirror-operator, app.kubernetes.io/managed-by: kustomize}
            """
                .replace("%2$s", String.join(",", namespaces)));
  }

  /** A kustomization in target/NAME over deploy/ (%s and %1$s: the path to deploy/). */
  static String overlay(String name, String kustomization) throws Exception {
    Path overlay = Files.createDirectories(Path.of("target", name).toAbsolutePath());
    Path deploy = overlay.relativize(ProjectPaths.ROOT.resolve("deploy"));
    Files.writeString(overlay.resolve("kustomization.yaml"), kustomization.formatted(deploy));
    return overlay.toString();
  }
}
