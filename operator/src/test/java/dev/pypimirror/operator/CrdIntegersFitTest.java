package dev.pypimirror.operator;

import static dev.pypimirror.operator.testing.ProjectPaths.ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every integer a user writes in a spec is bounded to what the Java field holds: the API server
 * stores any int64, and a value past Integer.MAX_VALUE would make the stored object one the
 * operator cannot decode (left alone, never reconciled) whenever the validating webhook, which
 * fails open, is not there to refuse it.
 */
class CrdIntegersFitTest {
  @Test
  void everySpecIntegerHasBoundsWithinInt32() throws Exception {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    List<String> unbounded = new ArrayList<>();
    try (Stream<Path> files = Files.list(ROOT.resolve("crds"))) {
      for (Path file : files.sorted().toList()) {
        JsonNode crd = yaml.readTree(file.toFile());
        for (JsonNode version : crd.at("/spec/versions")) {
          walk(
              version.at("/schema/openAPIV3Schema/properties/spec"),
              file.getFileName() + ":spec",
              unbounded);
        }
      }
    }
    assertThat(unbounded).as("integers without int32 bounds").isEmpty();
  }

  private static void walk(JsonNode schema, String path, List<String> unbounded) {
    if (schema.isMissingNode()) {
      return;
    }
    if ("integer".equals(schema.path("type").asText())
        && !schema.path("x-kubernetes-int-or-string").asBoolean()) {
      double max = schema.path("maximum").asDouble(Double.POSITIVE_INFINITY);
      double min = schema.path("minimum").asDouble(Double.NEGATIVE_INFINITY);
      if (max > Integer.MAX_VALUE || min < Integer.MIN_VALUE) {
        unbounded.add(path);
      }
    }
    schema
        .path("properties")
        .fields()
        .forEachRemaining(e -> walk(e.getValue(), path + "." + e.getKey(), unbounded));
    walk(schema.path("items"), path + "[]", unbounded);
    JsonNode additional = schema.path("additionalProperties");
    if (additional.isObject()) {
      walk(additional, path + ".*", unbounded);
    }
  }
}
