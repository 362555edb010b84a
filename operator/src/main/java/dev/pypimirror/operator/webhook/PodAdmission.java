package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.inject.PodInjector;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AdmissionReview v1 in, AdmissionReview out, for pod CREATE. A body that is not an AdmissionReview
 * with a uid is a 400; anything else wrong is answered allowed, without a patch, with a warning.
 */
public class PodAdmission {
  private static final Logger LOG = LoggerFactory.getLogger(PodAdmission.class);
  static final String API_VERSION = "admission.k8s.io/v1";
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** Told about every decision, for events and metrics. */
  public interface Listener {
    void decided(String namespace, JsonNode pod, InjectionPlan plan, boolean dryRun);

    Listener NONE = (namespace, pod, plan, dryRun) -> {};
  }

  private final MirrorDirectory mirrors;
  private final String operatorNamespace;
  private final Listener listener;

  public PodAdmission(MirrorDirectory mirrors, String operatorNamespace, Listener listener) {
    this.mirrors = mirrors;
    this.operatorNamespace = operatorNamespace;
    this.listener = listener;
  }

  public AdmissionResponse review(byte[] body) {
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
    try {
      return answer(uid, decide(request));
    } catch (RuntimeException e) {
      LOG.error("admission {} failed; admitting without a mirror", uid, e);
      return answer(
          uid,
          new InjectionPlan(
              InjectionPlan.Outcome.UNTOUCHED,
              "error",
              List.of(),
              List.of("pypi-mirror: internal error; the pod is admitted without a mirror")));
    }
  }

  private InjectionPlan decide(JsonNode request) {
    JsonNode pod = request.path("object");
    boolean isPodCreate =
        "CREATE".equals(request.path("operation").asText())
            && "pods".equals(request.path("resource").path("resource").asText())
            && request.path("subResource").asText("").isEmpty();
    if (!isPodCreate) {
      return untouched("not a pod CREATE");
    }
    if (!pod.isObject()) {
      return new InjectionPlan(
          InjectionPlan.Outcome.UNTOUCHED,
          "no object",
          List.of(),
          List.of("pypi-mirror: the request carries no pod; admitted without a mirror"));
    }
    String namespace = request.path("namespace").asText("");
    if (namespace.isEmpty()) {
      namespace = pod.path("metadata").path("namespace").asText("default");
    }
    InjectionPlan plan = PodInjector.inject(pod, namespace, operatorNamespace, mirrors);
    listener.decided(namespace, pod, plan, request.path("dryRun").asBoolean(false));
    return plan;
  }

  private static InjectionPlan untouched(String why) {
    return new InjectionPlan(InjectionPlan.Outcome.UNTOUCHED, why, List.of(), List.of());
  }

  private static AdmissionResponse answer(String uid, InjectionPlan plan) {
    ObjectNode review = MAPPER.createObjectNode();
    review.put("apiVersion", API_VERSION).put("kind", "AdmissionReview");
    ObjectNode response = review.putObject("response").put("uid", uid).put("allowed", true);
    if (plan.hasPatch()) {
      response.put("patchType", "JSONPatch");
      response.put(
          "patch",
          Base64.getEncoder()
              .encodeToString(
                  plan.patch().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
    if (!plan.warnings().isEmpty()) {
      plan.warnings().forEach(response.putArray("warnings")::add);
    }
    try {
      return AdmissionResponse.json(MAPPER.writeValueAsBytes(review));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize an AdmissionReview", e);
    }
  }
}
