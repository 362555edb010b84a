package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * A JSON Patch to UTF-8 bytes. The planner hands the same value node to every container it adds a
 * mount or variable to: such a node is serialized once, and its bytes are copied after that.
 */
final class PatchWriter {
  /** Bytes whose tail can be read without copying the whole buffer. */
  private static final class Buffer extends ByteArrayOutputStream {
    Buffer(int size) {
      super(size);
    }

    /** What was written since {@code start}, without the ':' the generator puts before a value. */
    String valueSince(int start) {
      int from = start < count && buf[start] == ':' ? start + 1 : start;
      return new String(buf, from, count - from, StandardCharsets.UTF_8);
    }
  }

  private final Buffer out;
  private final JsonGenerator json;
  private final Map<JsonNode, SerializedString> written = new IdentityHashMap<>();

  private PatchWriter(int expectedSize) throws IOException {
    out = new Buffer(expectedSize);
    json = AdmissionReviews.MAPPER.getFactory().createGenerator(out);
  }

  static byte[] toJson(ArrayNode operations) throws IOException {
    PatchWriter writer = new PatchWriter(160 * operations.size() + 2);
    try (JsonGenerator json = writer.json) {
      json.writeStartArray();
      for (JsonNode operation : operations) {
        writer.writeOperation(operation);
      }
      json.writeEndArray();
    }
    return writer.out.toByteArray();
  }

  private void writeOperation(JsonNode operation) throws IOException {
    json.writeStartObject();
    for (Iterator<Map.Entry<String, JsonNode>> fields = operation.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      json.writeFieldName(field.getKey());
      JsonNode value = field.getValue();
      if (!value.isContainerNode()) {
        write(value);
        continue;
      }
      SerializedString seen = written.get(value);
      if (seen != null) {
        json.writeRawValue(seen);
      } else {
        json.flush();
        int start = out.size();
        write(value);
        json.flush();
        written.put(value, new SerializedString(out.valueSince(start)));
      }
    }
    json.writeEndObject();
  }

  private void write(JsonNode node) throws IOException {
    switch (node.getNodeType()) {
      case OBJECT -> {
        json.writeStartObject();
        for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
          Map.Entry<String, JsonNode> field = fields.next();
          json.writeFieldName(field.getKey());
          write(field.getValue());
        }
        json.writeEndObject();
      }
      case ARRAY -> {
        json.writeStartArray();
        for (JsonNode item : node) {
          write(item);
        }
        json.writeEndArray();
      }
      case STRING -> json.writeString(node.textValue());
      case BOOLEAN -> json.writeBoolean(node.booleanValue());
      default -> json.writeTree(node);
    }
  }
}
