package dev.pypimirror.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What `kubectl explain` and `kubectl get` show of the generated CRDs. */
class CrdDocumentationTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static JsonNode crd(String plural) throws IOException {
    return YAML.readTree(
        Files.readString(
            Path.of("target/classes/META-INF/fabric8/" + plural + ".pypimirror.dev-v1.yml")));
  }

  @Test
  void everyFieldOfBothCrdsHasADescription() throws IOException {
    List<String> undocumented = new ArrayList<>();
    for (String plural : List.of("pypimirrors", "pypimirrorpolicies")) {
      JsonNode schema = crd(plural).at("/spec/versions/0/schema/openAPIV3Schema");
      walk(schema, plural, undocumented, true);
    }
    assertThat(undocumented).as("fields without a description").isEmpty();
  }

  @Test
  void bothKindsHaveATopLevelDescriptionForKubectlExplain() throws IOException {
    assertThat(
            crd("pypimirrors").at("/spec/versions/0/schema/openAPIV3Schema/description").asText())
        .startsWith("PypiMirror gives the build pods of one namespace a PyPI mirror");
    assertThat(
            crd("pypimirrorpolicies")
                .at("/spec/versions/0/schema/openAPIV3Schema/description")
                .asText())
        .startsWith("PypiMirrorPolicy (cluster-scoped) makes a PypiMirror");
  }

  /** Every property, list item and map value; apiVersion, kind, metadata are the API server's. */
  private static void walk(JsonNode schema, String path, List<String> undocumented, boolean root) {
    schema
        .path("properties")
        .fields()
        .forEachRemaining(
            field -> {
              String name = path + "." + field.getKey();
              boolean apiServers =
                  root && List.of("apiVersion", "kind", "metadata").contains(field.getKey());
              if (!apiServers && field.getValue().path("description").asText().isBlank()) {
                undocumented.add(name);
              }
              walk(field.getValue(), name, undocumented, false);
            });
    if (schema.has("items")) {
      walk(schema.get("items"), path + "[]", undocumented, false);
    }
    if (schema.path("additionalProperties").isObject()) {
      walk(schema.get("additionalProperties"), path + "{}", undocumented, false);
    }
  }

  @Test
  void printerColumnsComeInTheOrderUsersExpectWithAgeLast() throws IOException {
    assertThat(columns("pypimirrors")).containsExactly("Ready", "Index", "Age", "Reason");
    assertThat(columns("pypimirrorpolicies"))
        .containsExactly("Enforcement", "Ready", "Namespaces", "Violations", "Age");
  }

  private static List<String> columns(String plural) throws IOException {
    List<String> names = new ArrayList<>();
    crd(plural)
        .at("/spec/versions/0/additionalPrinterColumns")
        .forEach(c -> names.add(c.path("name").asText()));
    return names;
  }
}
