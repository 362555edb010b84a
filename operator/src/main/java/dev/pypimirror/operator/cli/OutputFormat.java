package dev.pypimirror.operator.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;

/**
 * How commands print Kubernetes objects, as kubectl does: YAML with quotes only where a value would
 * otherwise read as another type, block literals for multi-line strings, {@code ---} only between
 * documents; JSON indented by four spaces with {@code "key": value} (kubectl's MarshalIndent).
 * Several objects: a YAML stream, or a JSON {@code List}.
 */
enum OutputFormat {
  yaml,
  json;

  /**
   * Made on first use, not when picocli reads the enum's constants for an option: `run` never
   * prints objects and should not pay for two mappers at start.
   */
  private static final class Writers {
    static final ObjectMapper YAML =
        new ObjectMapper(
            YAMLFactory.builder()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
                .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
                .build());

    static final ObjectWriter JSON =
        new ObjectMapper()
            .writer(
                new DefaultPrettyPrinter()
                    .withSeparators(
                        Separators.createDefaultInstance()
                            .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
                    .withObjectIndenter(new DefaultIndenter("    ", "\n"))
                    .withArrayIndenter(new DefaultIndenter("    ", "\n")))
            .without(JsonGenerator.Feature.ESCAPE_NON_ASCII);
  }

  /** A single object as itself; several as a List (JSON) or a stream (YAML). */
  String format(Object objectOrList) {
    List<?> objects = objectOrList instanceof List<?> list ? list : List.of(objectOrList);
    try {
      if (this == json) {
        JsonNode tree;
        if (objectOrList instanceof List<?>) {
          var list = Serialization.jsonMapper().createObjectNode();
          list.put("apiVersion", "v1");
          list.put("kind", "List");
          list.set("items", Serialization.jsonMapper().valueToTree(objects));
          tree = list;
        } else {
          tree = Serialization.jsonMapper().valueToTree(objectOrList);
        }
        return Writers.JSON.writeValueAsString(tree) + "\n";
      }
      StringBuilder out = new StringBuilder();
      for (Object object : objects) {
        if (!out.isEmpty()) {
          out.append("---\n");
        }
        out.append(Writers.YAML.writeValueAsString(Serialization.jsonMapper().valueToTree(object)));
      }
      return out.toString();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize output", e);
    }
  }
}
