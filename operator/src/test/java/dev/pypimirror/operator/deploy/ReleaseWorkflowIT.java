package dev.pypimirror.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import dev.pypimirror.operator.testing.ProjectPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * .github/workflows/release.yaml as far as it runs here (.ci/lint lints it; pushing and signing
 * need GitHub): its own shell steps run with bash against this checkout, the chart it publishes is
 * packaged and rendered by Helm's engine, and what it builds and publishes is what the docs tell
 * users to pull. The image itself is built by deploy/image-check from the same Dockerfile.
 */
class ReleaseWorkflowIT {
  static final Path ROOT = ProjectPaths.ROOT;
  static final String VERSION = System.getProperty("operator.version");

  /** The GitHub owner the docs' references name. */
  static final String OWNER = "pypimirror";

  static JsonNode workflow() throws IOException {
    return HelmChartIT.YAML.readTree(ROOT.resolve(".github/workflows/release.yaml").toFile());
  }

  static JsonNode step(String name) throws IOException {
    return StreamSupport.stream(workflow().at("/jobs/release/steps").spliterator(), false)
        .filter(s -> s.path("name").asText().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no step " + name));
  }

  /** The workflow's env with the owner's name, as GitHub expands it. */
  static String env(String name) throws IOException {
    return workflow().at("/env/" + name).asText().replace("${{ github.repository_owner }}", OWNER);
  }

  record Run(int exit, String output, String githubOutput) {}

  /** Runs a step's script with bash -e (GitHub's default shell) in a directory. */
  static Run bash(String script, Path dir, Map<String, String> environment)
      throws IOException, InterruptedException {
    Path outputs = Files.createTempFile("github-output-", "");
    try {
      ProcessBuilder builder =
          new ProcessBuilder("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
              .directory(dir.toFile())
              .redirectErrorStream(true);
      builder.environment().putAll(environment);
      builder.environment().put("GITHUB_OUTPUT", outputs.toString());
      Process p = builder.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      return new Run(p.exitValue(), out, Files.readString(outputs));
    } finally {
      Files.delete(outputs);
    }
  }

  @Test
  void theTagMustBeThePomsVersion() throws Exception {
    String script = step("The tag is the pom's version").path("run").asText();

    Run tagged = bash(script, ROOT, Map.of("GITHUB_REF_NAME", "v" + VERSION));
    assertThat(tagged.exit()).as(tagged.output()).isZero();
    assertThat(tagged.githubOutput()).isEqualTo("version=" + VERSION + "\n");

    Run other = bash(script, ROOT, Map.of("GITHUB_REF_NAME", "v99.0.0"));
    assertThat(other.exit()).isNotZero();
    assertThat(other.output()).contains("tag v99.0.0 but the pom says " + VERSION);
  }

  /**
   * The chart step's own commands up to the push, on a copy of the chart: its sed points the chart
   * at the image the workflow pushed; then lint and package as Helm does; the package renders the
   * pushed image everywhere, and its name is the one the push and the signature use.
   */
  @Test
  void theChartStepPublishesAChartOfThePushedImage() throws Exception {
    String script = step("Push the chart").path("run").asText();
    List<String> lines = script.lines().map(String::strip).toList();
    String sed = lines.stream().filter(l -> l.startsWith("sed -i")).findFirst().orElseThrow();
    assertThat(lines)
        .contains(
            "helm lint --strict charts/pypi-mirror-operator",
            "helm package charts/pypi-mirror-operator --version \"$VERSION\" --app-version \"$VERSION\"");
    String image = env("IMAGE");
    assertThat(image).isEqualTo("ghcr.io/" + OWNER + "/pypi-mirror-operator");

    Path copy = Files.createTempDirectory("release-");
    try {
      HelmChartIT.copyTree(HelmChartIT.CHART, copy.resolve("charts/pypi-mirror-operator"));
      String before = Files.readString(copy.resolve("charts/pypi-mirror-operator/values.yaml"));
      Run edited = bash(sed, copy, Map.of("IMAGE", "registry.example.com/published/pmo"));
      assertThat(edited.exit()).as(edited.output()).isZero();
      String after = Files.readString(copy.resolve("charts/pypi-mirror-operator/values.yaml"));
      assertThat(diff(before, after))
          .as("the sed changes the image repository and nothing else")
          .containsExactly("  repository: registry.example.com/published/pmo");

      Path chart = copy.resolve("charts/pypi-mirror-operator");
      LintResult lint = new Helm(chart).lint().strict().call();
      assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
      new Helm(chart).packageIt().withDestination(copy).call();
      Path packaged = copy.resolve("pypi-mirror-operator-" + VERSION + ".tgz");
      assertThat(packaged).exists();
      // the signature names the chart as it was pushed: <CHARTS without oci://>/<chart name>
      String signed = step("Sign the image and the chart (keyless)").path("run").asText();
      assertThat(signed).contains("\"${CHARTS#oci://}/pypi-mirror-operator@$CHART_DIGEST\"");

      List<JsonNode> rendered =
          HelmChartIT.parse(new Helm(packaged).template().withName("pypi-mirror-operator").call());
      List<String> images = new ArrayList<>();
      for (JsonNode o : rendered) {
        o.findValues("image").forEach(i -> images.add(i.asText()));
      }
      assertThat(images)
          .isNotEmpty()
          .allSatisfy(
              i -> assertThat(i).isEqualTo("registry.example.com/published/pmo:" + VERSION));
    } finally {
      HelmChartIT.deleteTree(copy);
    }
  }

  static List<String> diff(String before, String after) {
    List<String> a = before.lines().toList();
    List<String> b = after.lines().toList();
    assertThat(b).hasSameSizeAs(a);
    List<String> changed = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).equals(b.get(i))) {
        changed.add(b.get(i));
      }
    }
    return changed;
  }

  /**
   * The image step builds the Dockerfile deploy/image-check builds, for amd64 and arm64, with build
   * arguments the Dockerfile declares, tagged as the chart's default image.
   */
  @Test
  void theImageStepBuildsTheCheckedDockerfileForBothArchitectures() throws Exception {
    JsonNode with = step("Build and push the image (amd64, arm64)").path("with");
    String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
    String imageCheck = Files.readString(ROOT.resolve("deploy/image-check"));

    assertThat(with.path("context").asText()).isEqualTo(".");
    assertThat(imageCheck).contains("Dockerfile");
    assertThat(with.path("platforms").asText().split(","))
        .containsExactlyInAnyOrder("linux/amd64", "linux/arm64");
    assertThat(with.path("tags").asText())
        .isEqualTo("${{ env.IMAGE }}:${{ steps.version.outputs.version }}");
    Matcher arg = Pattern.compile("(?m)^\\s*([A-Z_]+)=").matcher(with.path("build-args").asText());
    int args = 0;
    while (arg.find()) {
      assertThat(dockerfile).contains("ARG " + arg.group(1));
      args++;
    }
    assertThat(args).isEqualTo(3);
    JsonNode values = HelmChartIT.YAML.readTree(HelmChartIT.CHART.resolve("values.yaml").toFile());
    assertThat(values.at("/image/repository").asText())
        .as("the chart's default image is the one the workflow pushes")
        .isEqualTo(env("IMAGE"));
  }

  /** The references the docs tell users to pull are the ones the workflow publishes. */
  @Test
  void theDocsPullWhatTheWorkflowPublishes() throws Exception {
    String charts = env("CHARTS");
    String image = env("IMAGE");
    StringBuilder docs = new StringBuilder(Files.readString(ROOT.resolve("README.md")));
    try (var files = Files.list(ROOT.resolve("docs"))) {
      for (Path doc : files.filter(d -> d.toString().endsWith(".md")).sorted().toList()) {
        docs.append(Files.readString(doc));
      }
    }

    assertThat(docs).contains(charts + "/pypi-mirror-operator").contains(image + ":" + VERSION);
    Matcher pulled = Pattern.compile("oci://[a-z0-9./-]+").matcher(docs);
    while (pulled.find()) {
      assertThat(pulled.group()).isEqualTo(charts + "/pypi-mirror-operator");
    }
    String readme = Files.readString(ROOT.resolve("README.md"));
    int helm = readme.indexOf("helm install pypi-mirror-operator " + charts);
    assertThat(helm).as("the README installs the published chart").isNotNegative();
    for (String other : List.of("kubectl apply -k", "charts/pypi-mirror-operator -n")) {
      if (readme.contains(other)) {
        assertThat(helm)
            .as("the published chart comes before " + other)
            .isLessThan(readme.indexOf(other));
      }
    }
  }
}
