package dev.pypimirror.operator.apiserver;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.fabric8.zjsonpatch.JsonPatch;
import java.util.Set;

/**
 * JSON Patch (RFC 6902) as kube-apiserver applies it (evanphx/json-patch): an operation whose
 * target must exist ({@code remove}, {@code replace}, {@code test}, the {@code from} of {@code
 * move} and {@code copy}) fails when it does not, where zjsonpatch alone would skip a {@code
 * remove} of a missing member. Each operation is checked against the document as the operations
 * before it left it.
 */
public final class StrictJsonPatch {
  private static final Set<String> NEEDS_TARGET = Set.of("remove", "replace", "test");

  private StrictJsonPatch() {}

  /** The patched copy; throws {@link IllegalArgumentException} naming the first failing op. */
  public static JsonNode apply(JsonNode patch, JsonNode document) {
    if (!patch.isArray()) {
      throw new IllegalArgumentException("the patch is not a JSON array");
    }
    JsonNode result = document.deepCopy();
    for (JsonNode operation : patch) {
      String op = operation.path("op").asText();
      if (NEEDS_TARGET.contains(op)) {
        requireExists(result, op, operation.path("path").asText(null));
      } else if (op.equals("move") || op.equals("copy")) {
        requireExists(result, op, operation.path("from").asText(null));
      }
      ArrayNode one = JsonNodeFactory.instance.arrayNode().add(operation);
      result = JsonPatch.apply(one, result);
    }
    return result;
  }

  private static void requireExists(JsonNode document, String op, String path) {
    if (path == null) {
      throw new IllegalArgumentException(op + " operation has no path");
    }
    JsonPointer pointer;
    try {
      pointer = JsonPointer.compile(path);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(op + " operation has an invalid path " + path);
    }
    if (!path.isEmpty() && document.at(pointer).isMissingNode()) {
      throw new IllegalArgumentException(
          "unable to " + op + " nonexistent key: " + path + ": missing value");
    }
  }
}
