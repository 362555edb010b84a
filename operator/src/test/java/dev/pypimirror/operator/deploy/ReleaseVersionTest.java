package dev.pypimirror.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.testing.ProjectPaths;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * One version, set once: the pom's. The chart, the default image, deploy/ and the README's install
 * commands carry copies, held to it here (the release workflow refuses a tag that differs).
 */
class ReleaseVersionTest {
  static final String VERSION = System.getProperty("operator.version");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void theChartAndItsImageAreThePomsVersion() throws Exception {
    JsonNode chart =
        YAML.readTree(ProjectPaths.ROOT.resolve("charts/pypi-mirror-operator/Chart.yaml").toFile());

    assertThat(VERSION).matches("\\d+\\.\\d+\\.\\d+");
    assertThat(chart.path("version").asText()).isEqualTo(VERSION);
    assertThat(chart.path("appVersion").asText()).isEqualTo(VERSION);
    assertThat(Defaults.INDEX_IMAGE.defaultValue()).endsWith(":" + VERSION);
  }

  @Test
  void deployDefaultPinsTheImageOfThisVersion() throws Exception {
    JsonNode kustomization =
        YAML.readTree(ProjectPaths.ROOT.resolve("deploy/default/kustomization.yaml").toFile());

    assertThat(kustomization.at("/images/0/newTag").asText()).isEqualTo(VERSION);
  }

  /** Every version the README and docs/ tell users to pull or build is this one. */
  @Test
  void theReadmeNamesThisVersion() throws Exception {
    StringBuilder readme =
        new StringBuilder(Files.readString(ProjectPaths.ROOT.resolve("README.md")));
    try (var docs = Files.list(ProjectPaths.ROOT.resolve("docs"))) {
      for (var doc : docs.filter(d -> d.toString().endsWith(".md")).sorted().toList()) {
        readme.append(Files.readString(doc));
      }
    }
    Matcher m =
        Pattern.compile(
                "(?:--version[ =]|pypi-mirror-operator:|newTag: \"?|VERSION=)(\\d+\\.\\d+\\.\\d+)")
            .matcher(readme);

    int found = 0;
    while (m.find()) {
      assertThat(m.group(1)).as(m.group()).isEqualTo(VERSION);
      found++;
    }
    assertThat(found).as("version references in README.md and docs/").isPositive();
  }
}
