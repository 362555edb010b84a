package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static dev.pypimirror.operator.cli.RenderCommandTest.yamlDocuments;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.testing.ProjectPaths;
import java.util.List;
import org.junit.jupiter.api.Test;

/** render and inject with --policy. */
class PolicyCommandsTest {
  static final String POLICY = ProjectPaths.example("pypimirrorpolicy.yaml").toString();
  static final String MIRROR = ProjectPaths.example("pypimirror.yaml").toString();
  static final String COMPLIANT =
      """
      apiVersion: pypimirror.dev/v1alpha1
      kind: PypiMirror
      metadata: {name: team, namespace: ml}
      spec:
        indexes: [{url: "https://devpi.corp.example/team/+simple/"}]
        offline: true
      """;

  @Test
  void renderRefusesAMirrorThePolicyForbidsNamingThePolicyAndEveryRule() {
    var result = run("", "render", "-f", MIRROR, "--policy", POLICY);

    assertThat(result.status()).isEqualTo(2);
    assertThat(result.out()).isEmpty();
    assertThat(result.err().lines()).singleElement();
    assertThat(result.err())
        .startsWith(
            "error: " + MIRROR + ": PypiMirror corp is forbidden: PypiMirrorPolicy corp-builds: ")
        .contains(
            "allowInsecureHttp is false, but spec.indexes[1].url is plain http: http://10.0.0.5:3141/simple/")
        .contains(
            "spec.indexes[1].url http://10.0.0.5:3141/simple/ is not under allowedIndexPrefixes [https://devpi.corp.example/]")
        .contains("allowPublicIndex is false");
  }

  @Test
  void renderAcceptsACompliantMirror() {
    var result = run(COMPLIANT, "render", "-f", "-", "--policy", POLICY);

    assertThat(result.status()).as(result.err()).isZero();
    assertThat(result.out()).contains("name: pypi-mirror-team\n");
  }

  @Test
  void injectWithOnlyThePolicyUsesThePolicysMirrorAndItsRules() throws Exception {
    String pods =
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: build, namespace: ml, labels: {role: image-build}}
        spec:
          containers:
          - name: c
            env: [{name: PIP_INDEX_URL, value: "https://pypi.org/simple"}, {name: PIP_FIND_LINKS, value: /w}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: opted-out, namespace: ml, annotations: {pypimirror.dev/inject: "false"}}
        spec: {containers: [{name: c}]}
        """;

    var result = run(pods, "inject", "-f", "-", "--policy", POLICY);

    assertThat(result.status()).as(result.err()).isZero();
    List<JsonNode> docs = yamlDocuments(result.out());
    JsonNode build = docs.get(0);
    assertThat(build.at("/metadata/annotations/pypimirror.dev~1injected").asText())
        .startsWith("corp-builds@");
    JsonNode env = build.at("/spec/containers/0/env");
    assertThat(env.findValuesAsText("name")).containsOnlyOnce("PIP_INDEX_URL", "PIP_FIND_LINKS");
    // the pod's own find-links is gone; Enforce sets it empty over any config file's
    assertThat(env.findValuesAsText("value")).doesNotContain("/w");
    assertThat(env.get(0).path("value").asText())
        .isEqualTo("https://devpi.corp.example/root/pypi/+simple/");
    assertThat(docs.get(1).at("/metadata/annotations/pypimirror.dev~1injected").asText())
        .startsWith("corp-builds@");
    assertThat(result.err())
        .contains(
            "warning: Pod/build: container c sets PIP_INDEX_URL itself; replaced by the mirror's value")
        .contains(
            "warning: Pod/opted-out: pypimirror.dev/inject: \"false\" is ignored: PypiMirrorPolicy corp-builds enforces the mirror in namespace ml");
  }

  @Test
  void withAPolicyAPodItsPodSelectorMissesIsLeftAloneAsTheWebhookWould() throws Exception {
    String advisory =
        """
        apiVersion: pypimirror.dev/v1alpha1
        kind: PypiMirrorPolicy
        metadata: {name: advice}
        spec:
          namespaceSelector: {}
          podSelector: {matchLabels: {role: image-build}}
          mirror: {indexes: [{url: "https://devpi.corp.example/+simple/"}]}
        """;
    String pods =
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: ml, labels: {role: web}}
        spec: {containers: [{name: c}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: build, namespace: ml, labels: {role: image-build}}
        spec: {containers: [{name: c}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: opted-out, namespace: ml, labels: {role: image-build}, annotations: {pypimirror.dev/inject: "false"}}
        spec: {containers: [{name: c}]}
        """;

    for (String policy : List.of(POLICY, "-")) {
      var result =
          policy.equals("-")
              ? run(advisory, "inject", "-f", podsFile(pods), "--policy", "-")
              : run(pods, "inject", "-f", "-", "--policy", policy);

      assertThat(result.status()).as(result.err()).isZero();
      List<JsonNode> docs = yamlDocuments(result.out());
      assertThat(docs.get(0)).as("not selected: untouched").isEqualTo(yamlDocuments(pods).get(0));
      assertThat(docs.get(1).at("/metadata/annotations/pypimirror.dev~1injected").asText())
          .isNotEmpty();
      assertThat(result.err()).contains("note: Pod/web: not injected: ");
      if (policy.equals("-")) {
        assertThat(docs.get(2))
            .as("Advisory honours opt-out")
            .isEqualTo(yamlDocuments(pods).get(2));
      } else {
        assertThat(docs.get(2).at("/metadata/annotations/pypimirror.dev~1injected").asText())
            .as("Enforce ignores opt-out")
            .startsWith("corp-builds@");
      }
    }
  }

  private static String podsFile(String pods) throws java.io.IOException {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("pods", ".yaml");
    file.toFile().deleteOnExit();
    return java.nio.file.Files.writeString(file, pods).toString();
  }

  @Test
  void injectRefusesAMirrorThePolicyForbids() {
    var result =
        run(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n",
            "inject",
            "-f",
            "-",
            "--policy",
            POLICY,
            "--mirror",
            MIRROR);

    assertThat(result.status()).isEqualTo(2);
    assertThat(result.err())
        .startsWith(
            "error: " + MIRROR + ": PypiMirror corp is forbidden: PypiMirrorPolicy corp-builds");
  }

  @Test
  void badPolicyFilesExitTwo() {
    var notAPolicy = run("", "inject", "-f", MIRROR, "--policy", MIRROR);
    var noSelector =
        run(
            "apiVersion: pypimirror.dev/v1alpha1\nkind: PypiMirrorPolicy\nmetadata: {name: p}\nspec: {enforcement: Enforce}\n",
            "render",
            "-f",
            MIRROR,
            "--policy",
            "-");
    var badEnforcement =
        run(
            "apiVersion: pypimirror.dev/v1alpha1\nkind: PypiMirrorPolicy\nmetadata: {name: p}\nspec: {namespaceSelector: {}, enforcement: Always}\n",
            "render",
            "-f",
            MIRROR,
            "--policy",
            "-");
    var noMirrorAnywhere =
        run(
            "apiVersion: pypimirror.dev/v1alpha1\nkind: PypiMirrorPolicy\nmetadata: {name: p}\nspec: {namespaceSelector: {}}\n",
            "inject",
            "-f",
            MIRROR,
            "--policy",
            "-");

    assertThat(notAPolicy.err()).contains("expected kind PypiMirrorPolicy");
    assertThat(noSelector.err()).contains("PypiMirrorPolicy needs spec.namespaceSelector");
    assertThat(badEnforcement.err()).contains("\"Always\" is not one of [Advisory, Enforce]");
    assertThat(noMirrorAnywhere.err())
        .contains("inject needs --mirror FILE, or --policy FILE with a spec.mirror");
    for (var r : List.of(notAPolicy, noSelector, badEnforcement, noMirrorAnywhere)) {
      assertThat(r.status()).isEqualTo(2);
      assertThat(r.err().lines()).singleElement();
    }
  }
}
