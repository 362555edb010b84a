package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static dev.pypimirror.operator.cli.RenderCommandTest.yamlDocuments;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.testing.ProjectPaths;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InjectCommandTest {
  static final String MIRROR = ProjectPaths.example("pypimirror.yaml").toString();

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "Pod, v1, ''",
    "Deployment, apps/v1, /spec/template",
    "StatefulSet, apps/v1, /spec/template",
    "DaemonSet, apps/v1, /spec/template",
    "ReplicaSet, apps/v1, /spec/template",
    "Job, batch/v1, /spec/template",
    "CronJob, batch/v1, /spec/jobTemplate/spec/template"
  })
  void everyWorkloadKindGetsItsPodTemplateInjected(String kind, String apiVersion, String pointer)
      throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode object = json.createObjectNode().put("apiVersion", apiVersion).put("kind", kind);
    object.putObject("metadata").put("name", "w").put("namespace", "builds");
    ObjectNode template = object;
    for (String step : pointer.isEmpty() ? new String[0] : pointer.substring(1).split("/")) {
      template = template.has(step) ? (ObjectNode) template.get(step) : template.putObject(step);
    }
    template
        .putObject("spec")
        .putArray("containers")
        .addObject()
        .put("name", "build")
        .put("image", "kaniko");

    var result = run(object.toString(), "inject", "-f", "-", "--mirror", MIRROR, "-o", "json");

    assertThat(result.status()).as(result.err()).isZero();
    JsonNode injected = json.readTree(result.out());
    JsonNode pod = injected.at(pointer);
    assertThat(pod.at("/metadata/annotations/pypimirror.dev~1injected").asText())
        .startsWith("corp@");
    assertThat(pod.at("/spec/containers/0/volumeMounts").findValuesAsText("mountPath"))
        .containsExactly(
            "/etc/pypi-mirror",
            "/etc/pip.conf",
            "/etc/uv/uv.toml",
            "/root/.pydistutils.cfg",
            "/tmp/pypi");
    assertThat(pod.at("/spec/volumes"))
        .extracting(v -> v.path("name").asText())
        .containsExactly("pypi-mirror-config", "pypi-mirror-cache");
    if (!pointer.isEmpty()) {
      assertThat(injected.at("/metadata"))
          .as("the workload's own metadata")
          .isEqualTo(object.at("/metadata"));
    }
  }

  @Test
  void theExamplesFolderIsInjectedFileByFileWithMirrorsPassingThrough() throws Exception {
    String folder = ProjectPaths.ROOT.resolve("deploy/examples").toString();

    var result = run("", "inject", "-f", folder, "-R", "--mirror", MIRROR);

    assertThat(result.status()).as(result.err()).isZero();
    List<JsonNode> docs = yamlDocuments(result.out());
    assertThat(docs)
        .extracting(d -> d.get("kind").asText() + " " + d.at("/metadata/name").asText())
        .as("in file name order")
        .containsExactly(
            "Job wheel-build",
            "Pod kaniko-build",
            "PypiMirror airgap",
            "PypiMirror shared",
            "PypiMirror airgap-synced",
            "PypiMirror corp",
            "PypiMirrorPolicy corp-builds");
    assertThat(docs.get(1).at("/metadata/annotations/pypimirror.dev~1injected").asText())
        .startsWith("corp@");
    assertThat(docs.get(5))
        .as("passed through")
        .isEqualTo(
            yamlDocuments(java.nio.file.Files.readString(java.nio.file.Path.of(MIRROR))).get(0));
  }

  @Test
  void streamsAndListsAreWalkedAndOtherObjectsPassThrough() throws Exception {
    String input =
        """
        apiVersion: v1
        kind: Service
        metadata: {name: svc}
        spec: {ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Pod
          metadata: {name: in-list}
          spec: {containers: [{name: c}]}
        - apiVersion: v1
          kind: ConfigMap
          metadata: {name: cm}
          data: {k: v}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: opted-out, annotations: {pypimirror.dev/inject: "false"}}
        spec: {containers: [{name: c}]}
        """;

    var result = run(input, "inject", "-f", "-", "--mirror", MIRROR);

    assertThat(result.status()).as(result.err()).isZero();
    List<JsonNode> docs = yamlDocuments(result.out());
    assertThat(docs).hasSize(3);
    assertThat(docs.get(0)).isEqualTo(yamlDocuments(input).get(0));
    assertThat(docs.get(1).at("/items/0/metadata/annotations/pypimirror.dev~1injected").asText())
        .startsWith("corp@");
    assertThat(docs.get(1).at("/items/1")).isEqualTo(yamlDocuments(input).get(1).at("/items/1"));
    assertThat(docs.get(2)).isEqualTo(yamlDocuments(input).get(2));
  }

  @Test
  void aPodNamingAnotherMirrorIsLeftAsItIsWithAWarning() throws Exception {
    String pod =
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: ci, annotations: {pypimirror.dev/mirror: other}}
        spec: {containers: [{name: c}]}
        """;

    var result = run(pod, "inject", "-f", "-", "--mirror", MIRROR);

    assertThat(result.status()).isZero();
    assertThat(yamlDocuments(result.out()).get(0)).isEqualTo(yamlDocuments(pod).get(0));
    assertThat(result.err())
        .isEqualTo(
            "warning: Pod/p: PypiMirror ci/other not found; the pod is admitted without a mirror\n");
  }

  @Test
  void containersNamingNoContainerInjectsNothingAndClaimsNothing() throws Exception {
    String pod =
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: builds, annotations: {pypimirror.dev/containers: nosuch}}
        spec:
          volumes: [{name: pypi-mirror-config, emptyDir: {}}]
          containers: [{name: build, image: kaniko}]
        """;

    var result = run(pod, "inject", "-f", "-", "--mirror", MIRROR);

    assertThat(result.status()).as(result.err()).isZero();
    assertThat(yamlDocuments(result.out())).containsExactly(yamlDocuments(pod).get(0));
    assertThat(result.err())
        .isEqualTo(
            "warning: Pod/p: pypimirror.dev/containers names nosuch, which is not a container of this pod\n"
                + "note: Pod/p: not injected: no container to inject\n");
  }

  @Test
  void aWorkloadInAnotherNamespaceThanTheMirrorIsRefused() {
    String pod =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: other}\nspec: {containers: [{name: c}]}\n";

    var result = run(pod, "inject", "-f", "-", "--mirror", MIRROR);

    assertThat(result.status()).isEqualTo(2);
    assertThat(result.out()).isEmpty();
    assertThat(result.err())
        .isEqualTo(
            "error: Pod/p is in namespace other, but PypiMirror corp is in namespace builds: the pod"
                + " would mount ConfigMap pypi-mirror-corp and PVC pypi-mirror-corp-cache, which"
                + " exist only there; use a mirror of namespace other\n");
  }

  @Test
  void aWorkloadWithoutNamespaceIsToldWhereItBelongs() {
    String pod =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n";

    var result = run(pod, "inject", "-f", "-", "--mirror", MIRROR);

    assertThat(result.status()).isZero();
    assertThat(result.err())
        .isEqualTo(
            "warning: Pod/p: has no namespace; create it in namespace builds, where PypiMirror"
                + " corp's ConfigMap and PVC are\n");
  }

  @Test
  void outputLooksLikeKubectls() {
    String pod =
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: builds, labels: {version: "1.0", enabled: "true", count: "42"}}
        spec: {containers: [{name: c, image: kaniko}]}
        """;

    var yaml = run(pod, "inject", "-f", "-", "--mirror", MIRROR);
    var json = run(pod, "inject", "-f", "-", "--mirror", MIRROR, "-o", "json");

    assertThat(yaml.out())
        .startsWith("apiVersion: v1\nkind: Pod\nmetadata:\n")
        .contains("\n  name: p\n")
        .contains("version: \"1.0\"")
        .contains("enabled: \"true\"")
        .contains("count: \"42\"")
        .contains("\n  containers:\n  - name: c\n    image: kaniko\n")
        .doesNotContain("---");
    assertThat(json.out())
        .startsWith("{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Pod\",\n")
        .contains("\n        \"name\": \"p\",\n")
        .endsWith("}\n");
  }

  @Test
  void containerWarningsGoToStderr() {
    String pod =
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: builds}
        spec:
          containers:
          - name: c
            env: [{name: PIP_INDEX_URL, value: "https://own/"}]
        """;

    var result = run(pod, "inject", "-f", "-", "--mirror", MIRROR);

    assertThat(result.status()).isZero();
    assertThat(result.err())
        .isEqualTo(
            "warning: Pod/p: container c sets PIP_INDEX_URL itself; kept, so it overrides the mirror for this container\n");
  }

  @Test
  void badInputExitsTwoWithOneLine() {
    String pod =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n";
    var noMirror = run(pod, "inject", "-f", "-");
    var invalidMirror =
        run(
            "apiVersion: pypimirror.dev/v1alpha1\nkind: PypiMirror\nmetadata: {name: x}\nspec: {}\n",
            "inject",
            "-f",
            MIRROR,
            "--mirror",
            "-");
    var notAMirror = run(pod, "inject", "-f", MIRROR, "--mirror", "-");
    var unparseable = run("kind: [", "inject", "-f", "-", "--mirror", MIRROR);
    var bothStdin = run(pod, "inject", "-f", "-", "--mirror", "-");

    for (var r : List.of(noMirror, invalidMirror, notAMirror, unparseable, bothStdin)) {
      assertThat(r.status()).isEqualTo(2);
      assertThat(r.out()).isEmpty();
      assertThat(r.err().lines()).singleElement().asString().startsWith("error: ");
    }
    assertThat(noMirror.err()).contains("--mirror");
    assertThat(invalidMirror.err()).contains("invalid PypiMirror x: spec.indexes: no index");
    assertThat(notAMirror.err()).contains("expected kind PypiMirror");
    assertThat(unparseable.err()).contains("not valid YAML or JSON");
  }
}
