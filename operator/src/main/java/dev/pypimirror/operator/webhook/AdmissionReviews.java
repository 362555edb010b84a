package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AdmissionReview v1 in and out. A body that is not an AdmissionReview with a uid is a 400; once
 * the uid is known, every answer is an AdmissionReview, and a handler that fails admits the object
 * unchanged with a warning.
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
    if (body.length == 0) {
      return AdmissionResponse.badRequest("empty body: expected an AdmissionReview");
    }
    JsonNode review;
    try {
      review = MAPPER.readTree(body);
    } catch (IOException e) {
      return AdmissionResponse.badRequest(
          "malformed AdmissionReview: "
              + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
    }
    if (review == null || !review.isObject()) {
      return AdmissionResponse.badRequest("malformed AdmissionReview: not a JSON object");
    }
    if (!"AdmissionReview".equals(review.path("kind").asText())
        || !API_VERSION.equals(review.path("apiVersion").asText())) {
      return AdmissionResponse.badRequest(
          "expected kind AdmissionReview, apiVersion " + API_VERSION);
    }
    JsonNode request = review.path("request");
    String uid = request.path("uid").asText("");
    if (!request.isObject() || uid.isEmpty()) {
      return AdmissionResponse.badRequest("AdmissionReview has no request.uid");
    }
    Decision decision;
    try {
      decision = handler.apply(request);
    } catch (RuntimeException e) {
      LOG.error("admission {} failed; admitting unchanged", uid, e);
      decision = Decision.allow(List.of("pypi-mirror: internal error; admitted unchanged"));
    }
    return answer(uid, decision);
  }

  private static AdmissionResponse answer(String uid, Decision decision) {
    ObjectNode review = MAPPER.createObjectNode();
    review.put("apiVersion", API_VERSION).put("kind", "AdmissionReview");
    ObjectNode response =
        review.putObject("response").put("uid", uid).put("allowed", decision.allowed());
    if (decision.patch() != null && !decision.patch().isEmpty()) {
      response.put("patchType", "JSONPatch");
      response.put(
          "patch",
          Base64.getEncoder()
              .encodeToString(decision.patch().toString().getBytes(StandardCharsets.UTF_8)));
    }
    if (decision.denial() != null) {
      response
          .putObject("status")
          .put("code", 403)
          .put("reason", "Forbidden")
          .put("message", decision.denial());
    }
    if (!decision.warnings().isEmpty()) {
      decision.warnings().forEach(response.putArray("warnings")::add);
    }
    try {
      return AdmissionResponse.json(MAPPER.writeValueAsBytes(review));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize an AdmissionReview", e);
    }
  }
}
