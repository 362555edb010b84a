package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.inject.IneffectiveSettings;
import dev.pypimirror.operator.webhook.AdmissionReviews.Decision;
import java.util.List;

/**
 * POST /validate-pypimirrorpolicies: a PypiMirrorPolicy is always admitted (the CRD's schema and
 * rules refuse what is invalid), with a warning for each setting that does nothing as written
 * ({@link IneffectiveSettings}), so {@code kubectl apply} says so at once; the policy's status
 * carries the same as its IneffectiveSettings condition.
 */
public class PolicyAdmission {
  public AdmissionResponse review(byte[] body) {
    return AdmissionReviews.review(body, PolicyAdmission::decide);
  }

  private static Decision decide(JsonNode request) {
    String operation = request.path("operation").asText();
    if (!(operation.equals("CREATE") || operation.equals("UPDATE"))
        || !"pypimirrorpolicies".equals(request.path("resource").path("resource").asText())
        || !request.path("subResource").asText("").isEmpty()) {
      return Decision.allow(List.of());
    }
    PypiMirrorPolicy policy;
    try {
      policy = AdmissionReviews.MAPPER.treeToValue(request.path("object"), PypiMirrorPolicy.class);
    } catch (JsonProcessingException e) {
      return Decision.allow(List.of()); // the CRD's schema is the API server's to enforce
    }
    if (policy == null || policy.getMetadata() == null) {
      return Decision.allow(List.of());
    }
    String name = policy.getMetadata().getName();
    return Decision.allow(
        IneffectiveSettings.of(policy).stream()
            .map(why -> "pypi-mirror: PypiMirrorPolicy %s: %s".formatted(name, why))
            .toList());
  }
}
