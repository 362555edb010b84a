package dev.pypimirror.operator.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.jsonpatch.JsonPatches;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A pod's raw JSON metadata: its annotations and labels read, its annotations patched. Pure. */
public final class PodMetadata {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private PodMetadata() {}

  /** The pod's annotations, each value as text (empty when it has none). */
  public static Map<String, String> annotations(JsonNode pod) {
    return stringMap(pod.path("metadata").path("annotations"));
  }

  /** The pod's labels, each value as text (empty when it has none). */
  public static Map<String, String> labels(JsonNode pod) {
    return stringMap(pod.path("metadata").path("labels"));
  }

  /**
   * The operations that set pod annotations not already set to these values, creating metadata and
   * annotations when absent.
   */
  public static List<ObjectNode> annotate(JsonNode pod, Map<String, String> wanted) {
    List<ObjectNode> operations = new ArrayList<>();
    JsonNode metadata = pod.path("metadata");
    Map<String, String> annotations = new LinkedHashMap<>();
    wanted.forEach(
        (key, value) -> {
          JsonNode present = metadata.path("annotations").path(key);
          if (!(present.isTextual() && present.asText().equals(value))) {
            annotations.put(key, value);
          }
        });
    if (annotations.isEmpty()) {
      return operations;
    }
    if (!metadata.isObject()) {
      ObjectNode value = JSON.objectNode();
      ObjectNode values = value.putObject("annotations");
      annotations.forEach(values::put);
      operations.add(JsonPatches.add("/metadata", value));
    } else if (!metadata.path("annotations").isObject()) {
      ObjectNode values = JSON.objectNode();
      annotations.forEach(values::put);
      operations.add(JsonPatches.add("/metadata/annotations", values));
    } else {
      annotations.forEach(
          (key, value) -> {
            String path = "/metadata/annotations/" + JsonPatches.escape(key);
            operations.add(
                metadata.path("annotations").has(key)
                    ? JsonPatches.replace(path, JSON.textNode(value))
                    : JsonPatches.add(path, JSON.textNode(value)));
          });
    }
    return operations;
  }

  private static Map<String, String> stringMap(JsonNode node) {
    Map<String, String> map = new LinkedHashMap<>();
    node.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
    return map;
  }
}
