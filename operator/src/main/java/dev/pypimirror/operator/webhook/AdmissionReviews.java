package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
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
    if (body.length == 0) {
      return new Read.Refused(
          AdmissionResponse.badRequest("empty body: expected an AdmissionReview"));
    }
    if (!isUtf8(body)) {
      return new Read.Refused(AdmissionResponse.badRequest("malformed AdmissionReview: not UTF-8"));
    }
    JsonNode review;
    try {
      review = MAPPER.readTree(body);
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
