package dev.pypimirror.operator.deploy;

import static dev.pypimirror.operator.deploy.InstallChecks.texts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.testing.Kustomize;
import dev.pypimirror.operator.testing.ProjectPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * charts/pypi-mirror-operator rendered and linted by real Helm (its Go engine, through helm-java):
 * the defaults give the objects deploy/default gives, other values give what they say, and every
 * rendering passes the checks deploy/ passes ({@link InstallChecks}).
 *
 * <p>An integration test (failsafe, its own JVM) because Helm's Go runtime, once loaded, takes over
 * signals the JVM's attach mechanism needs, which the fuzz tests' agent uses.
 */
class HelmChartIT {
  static final Path CHART = ProjectPaths.ROOT.resolve("charts/pypi-mirror-operator");
  static final String NAMESPACE = DeployManifestsTest.NAMESPACE;
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final ObjectMapper SORTED_JSON =
      new ObjectMapper()
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .enable(SerializationFeature.INDENT_OUTPUT);

  /** Labels only one of the two tools writes: who manages an object, and Helm's release. */
  static final List<String> TOOL_LABELS =
      List.of(
          "app.kubernetes.io/managed-by",
          "app.kubernetes.io/instance",
          "app.kubernetes.io/version",
          "helm.sh/chart");

  /**
   * `helm template` of the chart with these values (YAML), in this release namespace, plus the
   * chart's crds/, which Helm applies as they are on install.
   */
  static List<JsonNode> helmTemplate(String releaseNamespace, String values) throws IOException {
    return helmTemplate(CHART, "pypi-mirror-operator", releaseNamespace, values);
  }

  /** `helm template` of a chart (this one, or one that has it as a subchart) as this release. */
  static List<JsonNode> helmTemplate(
      Path chart, String release, String releaseNamespace, String values) throws IOException {
    Path valuesFile = Files.createTempFile("values-", ".yaml");
    try {
      Files.writeString(valuesFile, values);
      String out =
          new Helm(chart)
              .template()
              .withName(release)
              .withNamespace(releaseNamespace)
              .withValuesFile(valuesFile)
              .call();
      List<JsonNode> objects = new ArrayList<>(parse(out));
      try (Stream<Path> crds = Files.list(CHART.resolve("crds"))) { // a subchart's too
        for (Path crd : crds.sorted().toList()) {
          objects.addAll(parse(Files.readString(crd)));
        }
      }
      return objects;
    } finally {
      Files.delete(valuesFile);
    }
  }

  static List<JsonNode> parse(String yamlStream) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(yamlStream)) {
      while (it.hasNext()) {
        JsonNode doc = it.next();
        if (doc != null && doc.isObject()) {
          docs.add(doc);
        }
      }
    }
    return docs;
  }

  /** Helm's hooks: run by Helm around install and uninstall, not part of the install. */
  static boolean hook(JsonNode o) {
    return o.at("/metadata/annotations/helm.sh~1hook").isTextual()
        || o.at("/metadata/annotations/" + HOOK_SHOWN.replace("/", "~1")).isTextual();
  }

  /** What {@link #withHooksShown} renames Helm's hook annotation to. */
  static final String HOOK_SHOWN = "test.example/helm-hook";

  /**
   * `helm template` leaves hooks out of what helm-java returns: rendered from a copy of the chart
   * whose hook annotations are renamed, they come out as ordinary objects, still by Helm's engine.
   */
  static List<JsonNode> withHooksShown(String release, String namespace, String values)
      throws IOException {
    Path copy = Files.createTempDirectory("chart-");
    try {
      Path chart = copy.resolve("pypi-mirror-operator");
      copyTree(CHART, chart);
      try (Stream<Path> templates = Files.list(chart.resolve("templates"))) {
        for (Path t : templates.toList()) {
          Files.writeString(t, Files.readString(t).replace("helm.sh/hook", HOOK_SHOWN));
        }
      }
      return helmTemplate(chart, release, namespace, values);
    } finally {
      deleteTree(copy);
    }
  }

  /** The objects by kind/namespace/name, without the labels that say which tool made them. */
  static Map<String, String> comparable(List<JsonNode> objects) throws IOException {
    Map<String, String> byKey = new TreeMap<>();
    for (JsonNode o : objects.stream().filter(o -> !hook(o)).toList()) {
      ObjectNode copy = o.deepCopy();
      if (copy.at("/metadata/labels") instanceof ObjectNode labels) {
        labels.remove(TOOL_LABELS);
        if (o.path("kind").asText().equals("CustomResourceDefinition")) {
          labels.remove("app.kubernetes.io/part-of"); // Helm does not template crds/
        }
        if (labels.isEmpty()) {
          ((ObjectNode) copy.get("metadata")).remove("labels");
        }
      }
      // CEL ignores whitespace, and YAML parsers disagree on the line breaks of a folded
      // scalar with more-indented lines (kustomize's go-yaml keeps an extra one)
      for (JsonNode webhook : copy.path("webhooks")) {
        for (JsonNode condition : webhook.path("matchConditions")) {
          ((ObjectNode) condition)
              .put("expression", condition.path("expression").asText().replaceAll("\\s+", " "));
        }
      }
      String key =
          o.path("kind").asText()
              + "/"
              + o.at("/metadata/namespace").asText("")
              + "/"
              + o.at("/metadata/name").asText();
      byKey.put(
          key, SORTED_JSON.writeValueAsString(SORTED_JSON.treeToValue(canonical(copy), Map.class)));
    }
    return byKey;
  }

  /** Whole numbers written as 1.0 (the CRD generator) and as 1 (kustomize) are the same. */
  static JsonNode canonical(JsonNode node) {
    if (node.isFloatingPointNumber() && node.doubleValue() == Math.rint(node.doubleValue())) {
      return LongNode.valueOf(node.longValue());
    }
    if (node instanceof ObjectNode object) {
      object.properties().forEach(field -> field.setValue(canonical(field.getValue())));
    } else if (node instanceof ArrayNode array) {
      for (int i = 0; i < array.size(); i++) {
        array.set(i, canonical(array.get(i)));
      }
    }
    return node;
  }

  static void assertSameObjects(List<JsonNode> helm, List<JsonNode> kustomize) throws IOException {
    Map<String, String> fromHelm = comparable(helm);
    Map<String, String> fromKustomize = comparable(kustomize);
    assertThat(fromHelm.keySet()).containsExactlyElementsOf(fromKustomize.keySet());
    fromKustomize.forEach(
        (key, expected) -> assertThat(fromHelm.get(key)).as(key).isEqualTo(expected));
  }

  @Test
  void lintIsClean() {
    LintResult lint = new Helm(CHART).lint().strict().call();

    assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
    assertThat(lint.getMessages()).noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
  }

  /** deploy/default names its namespace and makes it: the chart does so when asked. */
  static final String AS_DEPLOY_DEFAULT = "namespace: {create: true}\n";

  @Test
  void theDefaultsRenderTheObjectsOfDeployDefault() throws Exception {
    List<JsonNode> helm = helmTemplate(NAMESPACE, AS_DEPLOY_DEFAULT);

    assertSameObjects(helm, Kustomize.render("deploy/default"));
    InstallChecks install = new InstallChecks(helm, NAMESPACE);
    install.all(2);
    install.theWebhooksFailAsDocumented();
    assertThat(install.find("ServiceMonitor", InstallChecks.NAME)).isEmpty();
  }

  @Test
  void admissionPolicyModeRendersTheObjectsOfDeployAdmissionPolicies() throws Exception {
    List<JsonNode> helm =
        helmTemplate(NAMESPACE, AS_DEPLOY_DEFAULT + "injection: admission-policy\n");

    assertSameObjects(helm, Kustomize.render("deploy/admission-policies"));
    InstallChecks install = new InstallChecks(helm, NAMESPACE);
    install.all(2);
    install.admissionPolicyRights("pypi-mirror-operator-admission-policies");
    new InstallChecks(helmTemplate(NAMESPACE, AS_DEPLOY_DEFAULT), NAMESPACE)
        .noAdmissionPolicyRights();
    assertThat(
            InstallChecks.texts(
                new InstallChecks(helmTemplate(NAMESPACE, "injection: auto\n"), NAMESPACE)
                    .one("Deployment", InstallChecks.NAME)
                    .at("/spec/template/spec/containers/0/args")))
        .endsWith("--injection=auto");
  }

  @Test
  void certManagerModeRendersTheObjectsOfDeployCertmanager() throws Exception {
    List<JsonNode> helm =
        helmTemplate(NAMESPACE, AS_DEPLOY_DEFAULT + "webhook: {certificates: cert-manager}");

    assertSameObjects(helm, Kustomize.render("deploy/certmanager"));
    InstallChecks install = new InstallChecks(helm, NAMESPACE);
    install.all(2);
    install.certManagerIssuesTheCertificate();
  }

  /**
   * watchNamespaces renders the objects of deploy/watch-namespaces (one namespace), and of an
   * overlay that uses its component for two: the ClusterRole without the rights to a mirror's
   * ConfigMaps, Jobs and CronJobs, a Role and RoleBinding for them in each watched namespace.
   */
  @Test
  void watchNamespacesRenderTheObjectsOfTheKustomizeOverlayAndComponent() throws Exception {
    assertSameObjects(
        helmTemplate(NAMESPACE, AS_DEPLOY_DEFAULT + "watchNamespaces: [builds]"),
        Kustomize.render("deploy/watch-namespaces"));
    assertSameObjects(
        helmTemplate(NAMESPACE, AS_DEPLOY_DEFAULT + "watchNamespaces: [builds, ml-training]"),
        Kustomize.render(DeployManifestsTest.watching("builds", "ml-training")));
  }

  /**
   * `helm upgrade` of a release made by the chart that put everything in pypi-mirror-system and
   * made that Namespace: with the values docs/operations.md gives, the same objects, in the same
   * namespace, with the same names and (immutable) selectors.
   */
  @Test
  void anUpgradeFromTheChartThatMadeItsNamespaceKeepsEveryObject() throws Exception {
    List<JsonNode> helm =
        helmTemplate(
            "default", "namespaceOverride: pypi-mirror-system\nnamespace: {create: true}\n");

    assertSameObjects(helm, Kustomize.render("deploy/default"));
  }

  /** `helm install -n platform-tools` with default values: everything there, no Namespace made. */
  @Test
  void theReleaseNamespaceHoldsEverythingAndNoNamespaceIsMade() throws Exception {
    for (String values : List.of("{}", "webhook: {certificates: cert-manager}")) {
      List<JsonNode> helm = helmTemplate("platform-tools", values);

      assertThat(helm).noneMatch(o -> o.toString().contains(NAMESPACE));
      assertThat(helm).noneMatch(o -> o.path("kind").asText().equals("Namespace"));
      InstallChecks install = new InstallChecks(helm, "platform-tools");
      install.all(2);
      if (!values.equals("{}")) {
        install.certManagerIssuesTheCertificate();
      }
    }
  }

  @Test
  void namespaceOverrideMovesEverythingAndMakesTheNamespaceOnlyWhenAsked() throws Exception {
    List<JsonNode> helm =
        helmTemplate("default", "namespaceOverride: platform-tools\nnamespace: {create: true}\n");

    assertThat(helm).noneMatch(o -> o.toString().contains(NAMESPACE));
    InstallChecks install = new InstallChecks(helm, "platform-tools");
    install.all(2);
    assertThat(install.find("Namespace", "platform-tools")).isPresent();
    assertThat(helmTemplate("default", "namespaceOverride: platform-tools\n"))
        .noneMatch(o -> o.path("kind").asText().equals("Namespace"));
  }

  /** Every object takes the fullname; the pods' selector keeps the chart's name (immutable). */
  @Test
  void fullnameOverrideNamesEveryObject() throws Exception {
    List<JsonNode> helm =
        helmTemplate(
            "builds", "fullnameOverride: build-mirrors\nwebhook: {certificates: cert-manager}\n");

    InstallChecks install = new InstallChecks(helm, "builds", "build-mirrors");
    install.all(2);
    install.certManagerIssuesTheCertificate();
    assertThat(helm)
        .filteredOn(o -> !o.path("kind").asText().equals("CustomResourceDefinition"))
        .allSatisfy(o -> assertThat(o.at("/metadata/name").asText()).startsWith("build-mirrors"));
    assertThat(
            install
                .one("Deployment", "build-mirrors")
                .at("/spec/selector/matchLabels/app.kubernetes.io~1name")
                .asText())
        .isEqualTo(InstallChecks.NAME);
  }

  /** As Helm users expect: a release of another name prefixes it, nameOverride changes it. */
  @Test
  void theReleaseNameAndNameOverrideMakeTheFullname() throws Exception {
    new InstallChecks(
            helmTemplate(CHART, "mirrors", "builds", "{}"),
            "builds",
            "mirrors-pypi-mirror-operator")
        .all(2);
    new InstallChecks(
            helmTemplate(CHART, "mirrors", "builds", "nameOverride: pypi"),
            "builds",
            "mirrors-pypi")
        .all(2);
  }

  /**
   * As a subchart of an umbrella chart that sets global values (which Helm hands to every subchart,
   * through its values schema).
   */
  @Test
  void rendersAsASubchartWithGlobalValues() throws Exception {
    Path umbrella = Files.createTempDirectory("umbrella-");
    try {
      Files.writeString(
          umbrella.resolve("Chart.yaml"),
          "apiVersion: v2\nname: platform\nversion: 1.0.0\n"
              + "dependencies:\n  - {name: pypi-mirror-operator, version: \"*\"}\n");
      copyTree(CHART, umbrella.resolve("charts/pypi-mirror-operator"));
      List<JsonNode> helm =
          helmTemplate(
              umbrella,
              "platform",
              "platform-tools",
              """
              global: {imageRegistry: registry.example.com, storageClass: fast}
              pypi-mirror-operator: {replicaCount: 3}
              """);

      new InstallChecks(helm, "platform-tools", "platform-pypi-mirror-operator").all(3);
    } finally {
      deleteTree(umbrella);
    }
  }

  static void copyTree(Path from, Path to) throws IOException {
    Files.createDirectories(to.getParent());
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : paths.toList()) {
        Files.copy(p, to.resolve(from.relativize(p).toString()));
      }
    }
  }

  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /**
   * helm uninstall first runs `uninstall` (UninstallCommandTest: what it removes), as a pre-delete
   * hook that runs under Pod Security restricted with rights to those objects only, by name.
   */
  @Test
  void thePreDeleteHookStopsTheOperatorAndRemovesWhatItMadeWithLeastPrivilege() throws Exception {
    List<JsonNode> hooks =
        withHooksShown("mirrors", "builds", "{}").stream()
            .filter(h -> "pre-delete".equals(HelmActions.hookOf(h)))
            .toList();

    assertThat(hooks)
        .allSatisfy(
            h -> {
              assertThat(h.at("/metadata/annotations/" + HOOK_SHOWN.replace("/", "~1")).asText())
                  .isEqualTo("pre-delete");
              assertThat(h.at("/metadata/name").asText())
                  .isEqualTo("mirrors-pypi-mirror-operator-uninstall");
            })
        .extracting(h -> h.path("kind").asText())
        .containsExactlyInAnyOrder(
            "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Job");
    InstallChecks install = new InstallChecks(hooks, "builds", "mirrors-pypi-mirror-operator");
    JsonNode pod = install.one("Job", install.name() + "-uninstall").at("/spec/template/spec");
    JsonNode container = pod.at("/containers/0");
    assertThat(texts(container.path("args")))
        .containsExactly(
            "uninstall",
            "--webhook-configuration=mirrors-pypi-mirror-operator",
            "--deployment=mirrors-pypi-mirror-operator");
    assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
    assertThat(pod.at("/securityContext/seccompProfile/type").asText()).isEqualTo("RuntimeDefault");
    assertThat(container.at("/securityContext/allowPrivilegeEscalation").asBoolean(true)).isFalse();
    assertThat(texts(container.at("/securityContext/capabilities/drop"))).containsExactly("ALL");
    for (String kind : List.of("ClusterRole", "Role")) {
      for (JsonNode rule : install.one(kind, install.name() + "-uninstall").path("rules")) {
        assertThat(texts(rule.path("verbs"))).doesNotContain("*", "create", "escalate", "bind");
        if (!texts(rule.path("resources")).equals(List.of("pods"))) {
          assertThat(rule.has("resourceNames")).as(rule.toString()).isTrue();
        }
      }
    }
  }

  /**
   * Two releases in one cluster share no name: every object Helm applies (hooks included) and every
   * object the operator makes at run time (its webhook configurations, certificate Secret and
   * leader Lease, named by {@link OperatorSettings.Routing}) is the release's own, cluster-wide and
   * in a shared namespace; and in a shared namespace neither release's Services select the other's
   * pods. Only the CRDs are shared (Helm installs crds/ once and skips them when they exist).
   */
  @Test
  void twoReleasesInOneClusterShareNoName() throws Exception {
    record Release(String name, String namespace, String values) {}
    List<Release> releases =
        List.of(
            new Release("pypi-mirror-operator", "platform-tools", "{}"),
            new Release("pypi-mirror-operator-ml", "ml-platform", "{}"),
            new Release("ci", "platform-tools", "nameOverride: ci-mirrors"),
            new Release(
                "cm", "platform-tools", "nameOverride: cm\nwebhook: {certificates: cert-manager}"));
    Map<String, String> owner = new TreeMap<>();
    List<String> clashes = new ArrayList<>();
    Map<Release, InstallChecks> installs = new java.util.LinkedHashMap<>();
    for (Release r : releases) {
      List<JsonNode> objects = withHooksShown(r.name(), r.namespace(), r.values());
      InstallChecks install =
          new InstallChecks(
              objects,
              r.namespace(),
              objects.stream()
                  .filter(o -> o.path("kind").asText().equals("Deployment"))
                  .findFirst()
                  .orElseThrow()
                  .at("/metadata/name")
                  .asText());
      installs.put(r, install);
      List<String> names = new ArrayList<>();
      for (JsonNode o : objects) {
        if (!o.path("kind").asText().equals("CustomResourceDefinition")) {
          names.add(
              o.path("kind").asText()
                  + "/"
                  + o.at("/metadata/namespace").asText("")
                  + "/"
                  + o.at("/metadata/name").asText());
        }
      }
      OperatorSettings.Routing runTime =
          OperatorSettings.Routing.DEFAULTS.withName(install.arg("webhook-configuration"));
      names.add("MutatingWebhookConfiguration//" + runTime.name());
      names.add("ValidatingWebhookConfiguration//" + runTime.name());
      names.add("Secret/" + r.namespace() + "/" + runTime.certificateSecret());
      names.add("Lease/" + r.namespace() + "/" + runTime.leaderLease());
      for (String name : new java.util.TreeSet<>(names)) {
        String before = owner.putIfAbsent(name, r.name());
        if (before != null) {
          clashes.add(name + ": " + before + " and " + r.name());
        }
      }
    }
    assertThat(clashes).as("names two releases both use").isEmpty();

    for (Release a : releases) {
      for (Release b : releases) {
        if (a != b && a.namespace().equals(b.namespace())) {
          JsonNode podLabels =
              installs
                  .get(b)
                  .one("Deployment", installs.get(b).name())
                  .at("/spec/template/metadata/labels");
          for (JsonNode o : installs.get(a).objects()) {
            if (o.path("kind").asText().equals("Service")) {
              assertThat(selects(o.at("/spec/selector"), podLabels))
                  .as(
                      "%s's Service %s selects %s's pods",
                      a.name(), o.at("/metadata/name"), b.name())
                  .isFalse();
            }
          }
        }
      }
    }
  }

  static boolean selects(JsonNode selector, JsonNode labels) {
    var wanted = selector.properties().iterator();
    while (wanted.hasNext()) {
      var label = wanted.next();
      if (!label.getValue().equals(labels.path(label.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /**
   * helm upgrade first runs `pre-upgrade` (ChartUpgradeIT: what it does), as a hook with rights to
   * the two CRDs and the two webhook configurations only, by name, under Pod Security restricted;
   * crds.upgrade=false leaves the CRDs alone and takes no right to them.
   */
  @Test
  void thePreUpgradeHookAppliesTheCrdsAndKeepsTheConfigurationsWithLeastPrivilege()
      throws Exception {
    for (boolean crds : List.of(true, false)) {
      List<JsonNode> hooks =
          withHooksShown("mirrors", "builds", "crds: {upgrade: %s}".formatted(crds)).stream()
              .filter(h -> "pre-upgrade".equals(HelmActions.hookOf(h)))
              .toList();

      assertThat(hooks)
          .allSatisfy(
              h ->
                  assertThat(h.at("/metadata/name").asText())
                      .isEqualTo("mirrors-pypi-mirror-operator-upgrade"))
          .extracting(h -> h.path("kind").asText())
          .containsExactlyInAnyOrder("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Job");
      InstallChecks install = new InstallChecks(hooks, "builds", "mirrors-pypi-mirror-operator");
      JsonNode pod = install.one("Job", install.name() + "-upgrade").at("/spec/template/spec");
      JsonNode container = pod.at("/containers/0");
      List<String> args = texts(container.path("args"));
      assertThat(args)
          .startsWith("pre-upgrade", "--webhook-configuration=mirrors-pypi-mirror-operator");
      assertThat(args.contains("--skip-crds")).isEqualTo(!crds);
      assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
      assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
      assertThat(texts(container.at("/securityContext/capabilities/drop"))).containsExactly("ALL");
      JsonNode rules = install.one("ClusterRole", install.name() + "-upgrade").path("rules");
      assertThat(rules)
          .allSatisfy(
              rule -> {
                assertThat(texts(rule.path("verbs"))).isSubsetOf("get", "update", "patch");
                assertThat(rule.has("resourceNames")).as(rule.toString()).isTrue();
              });
      assertThat(rules.toString().contains("customresourcedefinitions")).isEqualTo(crds);
    }
  }

  /**
   * With watchNamespaces, the rights to a mirror's ConfigMap, sync Job and CronJob are Roles in
   * those namespaces only (issue: RBAC narrowed where it costs nothing).
   */
  @Test
  void watchNamespacesNarrowTheMirrorWorkloadRightsToRolesThere() throws Exception {
    InstallChecks install =
        new InstallChecks(
            helmTemplate("platform-tools", "watchNamespaces: [builds, ml-training]"),
            "platform-tools");

    install.all(2);
    assertThat(install.watched()).containsExactly("builds", "ml-training");
  }

  @Test
  void replicasAreWhatTheValueSays() throws Exception {
    new InstallChecks(helmTemplate("default", "replicaCount: 3"), "default").all(3);
    new InstallChecks(helmTemplate("default", "replicaCount: 1"), "default").all(1);
  }

  @Test
  void everyValueDoesWhatItSays() throws Exception {
    String digest = "sha256:" + "ab".repeat(32);
    List<JsonNode> helm =
        helmTemplate(
            "default",
            """
            image: {repository: registry.example.com/pmo, digest: "%s", pullPolicy: Always}
            imagePullSecrets: [{name: registry-creds}]
            resources: {requests: {cpu: 200m, memory: 300Mi}, limits: {memory: 1Gi}}
            logFormat: json
            watchNamespaces: [builds, ml-training]
            webhook:
              certificates: cert-manager
              certManager: {issuerRef: {name: corp-ca, kind: ClusterIssuer, group: cert-manager.io}}
              pods: {failurePolicy: Fail, timeoutSeconds: 3}
            podLabels: {team.example/owner: platform}
            podAnnotations: {prometheus.io/scrape: "true"}
            nodeSelector: {kubernetes.io/os: linux}
            tolerations: [{key: dedicated, operator: Equal, value: infra, effect: NoSchedule}]
            affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: pool, operator: In, values: [infra]}]}]}}}
            priorityClassName: system-cluster-critical
            serviceMonitor: {enabled: true, interval: 15s, labels: {release: prometheus}}
            """
                .formatted(digest));

    InstallChecks install = new InstallChecks(helm, "default");
    install.all(2);
    install.certManagerIssuesTheCertificate();
    JsonNode pod = install.one("Deployment", "pypi-mirror-operator").at("/spec/template");
    JsonNode manager = pod.at("/spec/containers/0");
    assertThat(manager.path("image").asText()).isEqualTo("registry.example.com/pmo@" + digest);
    assertThat(manager.path("imagePullPolicy").asText()).isEqualTo("Always");
    assertThat(pod.at("/spec/imagePullSecrets/0/name").asText()).isEqualTo("registry-creds");
    assertThat(manager.at("/resources/limits/memory").asText()).isEqualTo("1Gi");
    assertThat(texts(manager.path("args")))
        .contains("--log-format=json", "--watch-namespaces=builds,ml-training");
    assertThat(pod.at("/metadata/labels/team.example~1owner").asText()).isEqualTo("platform");
    assertThat(pod.at("/metadata/labels/app.kubernetes.io~1name").asText())
        .as("the selector's label stays")
        .isEqualTo("pypi-mirror-operator");
    assertThat(pod.at("/metadata/annotations/prometheus.io~1scrape").asText()).isEqualTo("true");
    assertThat(pod.at("/spec/nodeSelector/kubernetes.io~1os").asText()).isEqualTo("linux");
    assertThat(pod.at("/spec/tolerations/0/value").asText()).isEqualTo("infra");
    assertThat(pod.at("/spec/affinity/podAntiAffinity").isMissingNode())
        .as("the given affinity replaces the default")
        .isTrue();
    assertThat(pod.at("/spec/affinity/nodeAffinity").isObject()).isTrue();
    assertThat(pod.at("/spec/priorityClassName").asText()).isEqualTo("system-cluster-critical");

    assertThat(install.arg("webhook-failure-policy")).isEqualTo("Fail");
    assertThat(install.arg("webhook-timeout")).isEqualTo("3");

    assertThat(install.find("Issuer", "pypi-mirror-operator-selfsigned"))
        .as("the given issuer is used instead")
        .isEmpty();
    assertThat(install.arg("cert-manager-issuer")).isEqualTo("ClusterIssuer/corp-ca");
    assertThat(install.arg("cert-manager-issuer-group"))
        .as("cert-manager.io is run's default")
        .isNull();

    JsonNode monitor = install.one("ServiceMonitor", "pypi-mirror-operator");
    assertThat(monitor.at("/metadata/labels/release").asText()).isEqualTo("prometheus");
    assertThat(monitor.at("/spec/endpoints/0/interval").asText()).isEqualTo("15s");
    JsonNode metrics = install.one("Service", "pypi-mirror-operator-metrics");
    monitor
        .at("/spec/selector/matchLabels")
        .fields()
        .forEachRemaining(
            label ->
                assertThat(metrics.at("/metadata/labels").path(label.getKey()))
                    .as("the ServiceMonitor selects the metrics Service")
                    .isEqualTo(label.getValue()));
    assertThat(metrics.at("/spec/ports/0/name").asText())
        .isEqualTo(monitor.at("/spec/endpoints/0/port").asText());
  }

  /**
   * The alerts and the dashboard: off by default (the defaults render deploy/default's objects).
   */
  static final String MONITORED =
      AS_DEPLOY_DEFAULT
          + """
      metrics:
        prometheusRule: {enabled: true}
        proxyPodMonitor: {enabled: true}
        grafanaDashboard: {enabled: true}
      """;

  @Test
  void theAlertsAndTheDashboardRenderTheObjectsOfDeployMonitored() throws Exception {
    List<JsonNode> helm = helmTemplate(NAMESPACE, MONITORED);

    assertSameObjects(helm, Kustomize.render("deploy/monitored"));
    InstallChecks install = new InstallChecks(helm, NAMESPACE);
    JsonNode rule = install.one("PrometheusRule", "pypi-mirror-operator");
    assertThat(rule.at("/spec"))
        .as("the chart's rules file, as it is")
        .isEqualTo(YAML.readTree(CHART.resolve("files/prometheus-rules.yaml").toFile()));
    JsonNode dashboard = install.one("ConfigMap", "pypi-mirror-operator-dashboard");
    assertThat(dashboard.at("/metadata/labels/grafana_dashboard").asText()).isEqualTo("1");
    assertThat(
            new ObjectMapper().readTree(dashboard.at("/data/pypi-mirror-operator.json").asText()))
        .isEqualTo(
            new ObjectMapper().readTree(CHART.resolve("files/grafana-dashboard.json").toFile()));
  }

  @Test
  void theAlertsAndTheDashboardTakeTheirLabelsNamespaceAndAnnotations() throws Exception {
    List<JsonNode> helm =
        helmTemplate(
            "default",
            """
            metrics:
              prometheusRule: {enabled: true, labels: {release: prometheus}}
              grafanaDashboard:
                enabled: true
                namespace: monitoring
                labels: {dashboards: platform}
                annotations: {grafana_folder: Platform}
            """);

    InstallChecks install = new InstallChecks(helm, "default");
    assertThat(
            install
                .one("PrometheusRule", "pypi-mirror-operator")
                .at("/metadata/labels/release")
                .asText())
        .isEqualTo("prometheus");
    JsonNode dashboard = install.one("ConfigMap", "pypi-mirror-operator-dashboard");
    assertThat(dashboard.at("/metadata/namespace").asText()).isEqualTo("monitoring");
    assertThat(dashboard.at("/metadata/labels/dashboards").asText()).isEqualTo("platform");
    assertThat(dashboard.at("/metadata/labels/grafana_dashboard").asText())
        .as("Helm merges the given labels into the default (grafana_dashboard: null drops it)")
        .isEqualTo("1");
    assertThat(dashboard.at("/metadata/annotations/grafana_folder").asText()).isEqualTo("Platform");
    assertThat(helmTemplate("default", ""))
        .as("off by default")
        .noneMatch(o -> o.path("kind").asText().equals("PrometheusRule"))
        .noneMatch(o -> o.at("/metadata/name").asText().endsWith("-dashboard"));
  }

  @Test
  void badValuesAreRefusedNamingTheValue() {
    assertThatThrownBy(() -> helmTemplate("default", "webhook: {pods: {failurePolicy: Sometimes}}"))
        .hasMessageContaining("failurePolicy");
    assertThatThrownBy(() -> helmTemplate("default", "logFormat: xml"))
        .hasMessageContaining("logFormat");
    assertThatThrownBy(() -> helmTemplate("default", "replicas: 3"))
        .as("a misspelt value is not silently ignored")
        .hasMessageContaining("replicas");
    assertThatThrownBy(() -> helmTemplate("default", "webhook: {certificates: vault}"))
        .hasMessageContaining("certificates");
  }
}
