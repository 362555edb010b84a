package dev.pypimirror.operator.jsonpatch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * JSON Patch (RFC 6902) operations, each written {@code op}, {@code path}, then {@code value}, and
 * JSON Pointer (RFC 6901) tokens. Pure.
 */
public final class JsonPatches {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private JsonPatches() {}

  public static ObjectNode add(String path, JsonNode value) {
    return op("add", path, value);
  }

  public static ObjectNode replace(String path, JsonNode value) {
    return op("replace", path, value);
  }

  public static ObjectNode test(String path, JsonNode value) {
    return op("test", path, value);
  }

  public static ObjectNode remove(String path) {
    return JSON.objectNode().put("op", "remove").put("path", path);
  }

  /**
   * The operations that append {@code items} to the array at {@code pointer}: one add of the whole
   * array when {@code existing} (what the document holds there) is no array, else one add per item
   * at its end. None for no items.
   */
  public static List<ObjectNode> append(String pointer, JsonNode existing, ArrayNode items) {
    List<ObjectNode> operations = new ArrayList<>();
    if (items.isEmpty()) {
      return operations;
    }
    if (!existing.isArray()) {
      operations.add(add(pointer, items));
      return operations;
    }
    items.forEach(item -> operations.add(add(pointer + "/-", item)));
    return operations;
  }

  /** A key as one JSON Pointer token: {@code ~} as {@code ~0}, {@code /} as {@code ~1}. */
  public static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }

  /** The key a JSON Pointer token stands for. */
  public static String unescape(String token) {
    return token.replace("~1", "/").replace("~0", "~");
  }

  /** The operations as one patch document. */
  public static ArrayNode patch(List<? extends JsonNode> operations) {
    ArrayNode patch = JSON.arrayNode();
    operations.forEach(patch::add);
    return patch;
  }

  private static ObjectNode op(String op, String path, JsonNode value) {
    ObjectNode node = JSON.objectNode().put("op", op).put("path", path);
    node.set("value", value);
    return node;
  }
}
