package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AdmissionReview v1 in and out. A body that is not an AdmissionReview with a uid is a 400; once
 * the uid is known, every answer is an AdmissionReview; when a handler fails, its error handler
 * decides (fail closed where a policy governs, open with a warning elsewhere).
 */
final class AdmissionReviews {
  private static final Logger LOG = LoggerFactory.getLogger(AdmissionReviews.class);
  static final String API_VERSION = "admission.k8s.io/v1";
  static final ObjectMapper MAPPER =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** A handler's decision on one request. */
  record Decision(boolean allowed, ArrayNode patch, List<String> warnings, String denial) {
    static Decision allow(List<String> warnings) {
      return new Decision(true, null, warnings, null);
    }

    static Decision deny(String message, List<String> warnings) {
      return new Decision(false, null, warnings, message);
    }
  }

  private AdmissionReviews() {}

  static AdmissionResponse review(byte[] body, Function<JsonNode, Decision> handler) {
    return review(
        body,
        handler,
        (request, e) -> Decision.allow(List.of("pypi-mirror: internal error; admitted unchanged")));
  }

  /**
   * @param onError decides when {@code handler} throws (the error is logged first): fail closed
   *     where a policy governs, open elsewhere
   */
  static AdmissionResponse review(
      byte[] body,
      Function<JsonNode, Decision> handler,
      BiFunction<JsonNode, RuntimeException, Decision> onError) {
    Read read = read(body);
    return read instanceof Read.Request request
        ? answer(request.uid(), decide(request, handler, onError))
        : ((Read.Refused) read).answer();
  }

  /** A body read as an AdmissionReview: its request, or the 400 for a body that is none. */
  sealed interface Read {
    record Request(String uid, JsonNode request) implements Read {}

    record Refused(AdmissionResponse answer) implements Read {}
  }

  static Read read(byte[] body) {
    return read(body, null);
  }

  /**
   * Reads the AdmissionReview into a tree that holds only what {@code keep} names (null: all of
   * it), so the parts a handler does not read cost no nodes. Every byte is still tokenized, so a
   * body that is not JSON is refused as before, whatever part of it is skipped.
   */
  static Read read(byte[] body, Fields keep) {
    if (body.length == 0) {
      return new Read.Refused(
          AdmissionResponse.badRequest("empty body: expected an AdmissionReview"));
    }
    if (!isUtf8(body)) {
      return new Read.Refused(AdmissionResponse.badRequest("malformed AdmissionReview: not UTF-8"));
    }
    JsonNode review;
    try {
      review = keep == null ? MAPPER.readTree(body) : readKept(body, keep);
    } catch (IOException e) {
      return new Read.Refused(
          AdmissionResponse.badRequest(
              "malformed AdmissionReview: "
                  + (e instanceof JsonProcessingException j
                      ? j.getOriginalMessage()
                      : e.getMessage())));
    }
    if (review == null || !review.isObject()) {
      return new Read.Refused(
          AdmissionResponse.badRequest("malformed AdmissionReview: not a JSON object"));
    }
    if (!"AdmissionReview".equals(review.path("kind").asText())
        || !API_VERSION.equals(review.path("apiVersion").asText())) {
      return new Read.Refused(
          AdmissionResponse.badRequest("expected kind AdmissionReview, apiVersion " + API_VERSION));
    }
    JsonNode request = review.path("request");
    String uid = request.path("uid").asText("");
    if (!request.isObject() || uid.isEmpty()) {
      return new Read.Refused(AdmissionResponse.badRequest("AdmissionReview has no request.uid"));
    }
    return new Read.Request(uid, request);
  }

  /**
   * Which fields of an object (and of each object in an array) {@link #read(byte[], Fields)} puts
   * in the tree, each with what to keep of its value. Objects and arrays on the way are kept even
   * when nothing in them is, so positions in an array stay those of the request.
   */
  static final class Fields {
    /** The whole value. */
    static final Fields ALL = new Fields(null);

    private final Map<String, Fields> keep;

    private Fields(Map<String, Fields> keep) {
      this.keep = keep;
    }

    static Fields of(Map<String, Fields> keep) {
      return new Fields(Map.copyOf(keep));
    }
  }

  /** A reader for the values kept whole, inside a document whose end is checked by its caller. */
  private static final ObjectReader SUBTREE =
      MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private static JsonNode readKept(byte[] body, Fields keep) throws IOException {
    try (JsonParser parser = MAPPER.getFactory().createParser(body)) {
      if (parser.nextToken() == null) {
        return null;
      }
      JsonNode tree = kept(parser, keep);
      JsonToken trailing = parser.nextToken();
      if (trailing != null) {
        throw new JsonParseException(
            parser, "Trailing token (of type " + trailing + ") found after value");
      }
      return tree;
    }
  }

  /** The value at the parser's current token, as much of it as {@code keep} says. */
  private static JsonNode kept(JsonParser parser, Fields keep) throws IOException {
    JsonToken token = parser.currentToken();
    if (keep.keep == null || !token.isStructStart()) {
      return SUBTREE.readTree(parser);
    }
    if (token == JsonToken.START_ARRAY) {
      ArrayNode array = MAPPER.getNodeFactory().arrayNode();
      while (parser.nextToken() != JsonToken.END_ARRAY) {
        array.add(kept(parser, keep));
      }
      return array;
    }
    ObjectNode object = MAPPER.getNodeFactory().objectNode();
    for (String name = parser.nextFieldName(); name != null; name = parser.nextFieldName()) {
      parser.nextToken();
      Fields field = keep.keep.get(name);
      if (field == null) {
        parser.skipChildren(); // still tokenized: a body that is not JSON is refused all the same
      } else {
        object.set(name, kept(parser, field));
      }
    }
    return object;
  }

  /**
   * What {@code handler} decides, or when it throws, what {@code onError} decides (after logging).
   */
  static <T> T decide(
      Read.Request request,
      Function<JsonNode, T> handler,
      BiFunction<JsonNode, RuntimeException, T> onError) {
    try {
      return handler.apply(request.request());
    } catch (RuntimeException e) {
      LOG.error("admission {} failed", request.uid(), e);
      return onError.apply(request.request(), e);
    }
  }

  /**
   * The answer, streamed to bytes: the patch is written once to UTF-8 (a value that repeats in
   * several operations, as a mount or variable added to every container, is serialized once and
   * copied after), base64-encoded, and copied into the answer without re-escaping.
   */
  /**
   * Whether the body is well-formed UTF-8, as JSON must be. Checked before parsing because the
   * parser's field-name cache can match a name holding invalid bytes to a name seen earlier, which
   * made the same bytes parse or fail depending on what came before (found by fuzzing).
   */
  static boolean isUtf8(byte[] body) {
    int i = 0;
    while (i < body.length && body[i] >= 0) {
      i++; // ASCII, the usual case: no decoder needed
    }
    if (i == body.length) {
      return true;
    }
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body, i, body.length - i));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  static AdmissionResponse answer(String uid, Decision decision) {
    try {
      byte[] patch =
          decision.patch() == null || decision.patch().isEmpty()
              ? null
              : Base64.getEncoder().encode(PatchWriter.toJson(decision.patch()));
      ByteArrayOutputStream out =
          new ByteArrayOutputStream(512 + (patch == null ? 0 : patch.length));
      try (JsonGenerator json = MAPPER.getFactory().createGenerator(out)) {
        json.writeStartObject();
        json.writeStringField("apiVersion", API_VERSION);
        json.writeStringField("kind", "AdmissionReview");
        json.writeObjectFieldStart("response");
        json.writeStringField("uid", uid);
        json.writeBooleanField("allowed", decision.allowed());
        if (patch != null) {
          json.writeStringField("patchType", "JSONPatch");
          json.writeFieldName("patch");
          json.writeRawUTF8String(patch, 0, patch.length); // base64 needs no escaping
        }
        if (decision.denial() != null) {
          json.writeObjectFieldStart("status");
          json.writeNumberField("code", 403);
          json.writeStringField("reason", "Forbidden");
          json.writeStringField("message", decision.denial());
          json.writeEndObject();
        }
        if (!decision.warnings().isEmpty()) {
          json.writeArrayFieldStart("warnings");
          for (String warning : decision.warnings()) {
            json.writeString(warning);
          }
          json.writeEndArray();
        }
        json.writeEndObject();
        json.writeEndObject();
      }
      return AdmissionResponse.json(out.toByteArray());
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize an AdmissionReview", e);
    }
  }
}
