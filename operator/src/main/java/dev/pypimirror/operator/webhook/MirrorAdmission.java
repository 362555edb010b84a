package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.DependencyConfusion;
import dev.pypimirror.operator.config.MirrorSpecValidator;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.policy.PolicyRules;
import dev.pypimirror.operator.webhook.AdmissionReviews.Decision;
import java.util.ArrayList;
import java.util.List;

/**
 * POST /validate-pypimirrors: a PypiMirror that breaks the policy governing its namespace (or is
 * invalid) is refused on CREATE and UPDATE, with a message naming the policy and the rule; one that
 * gives pip the public index beside a private one is admitted with a warning saying so.
 */
public class MirrorAdmission {
  private final PolicyDirectory policies;

  public MirrorAdmission(PolicyDirectory policies) {
    this.policies = policies;
  }

  public AdmissionResponse review(byte[] body) {
    return AdmissionReviews.review(body, this::decide, this::failed);
  }

  /** The webhook could not decide: refused where a policy governs (its rules apply there). */
  private Decision failed(JsonNode request, RuntimeException error) {
    String namespace =
        request
            .path("namespace")
            .asText(request.path("object").path("metadata").path("namespace").asText(""));
    String why = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    boolean governed;
    try {
      governed = policies.governing(namespace).isPresent();
    } catch (RuntimeException e) {
      governed = true; // unknown: refuse
    }
    return governed
        ? Decision.deny(
            "pypi-mirror: the webhook could not check this PypiMirror against the policy governing namespace %s, so it is refused: %s"
                .formatted(namespace, why),
            List.of())
        : Decision.allow(
            List.of("pypi-mirror: internal error (%s); admitted unchecked".formatted(why)));
  }

  private Decision decide(JsonNode request) {
    String operation = request.path("operation").asText();
    if (!operation.equals("CREATE") && !operation.equals("UPDATE")) {
      return Decision.allow(List.of());
    }
    if (!"pypimirrors".equals(request.path("resource").path("resource").asText())
        || !request.path("subResource").asText("").isEmpty()) {
      return Decision.allow(List.of());
    }
    PypiMirror mirror;
    try {
      mirror = AdmissionReviews.MAPPER.treeToValue(request.path("object"), PypiMirror.class);
    } catch (JsonProcessingException e) {
      return Decision.deny("not a PypiMirror: " + e.getOriginalMessage(), List.of());
    }
    if (mirror == null || mirror.getSpec() == null || mirror.getMetadata() == null) {
      return Decision.deny("not a PypiMirror: no metadata or spec", List.of());
    }
    String namespace = request.path("namespace").asText(mirror.getMetadata().getNamespace());
    List<String> problems =
        new ArrayList<>(
            MirrorSpecValidator.problems(mirror.getMetadata().getName(), mirror.getSpec()));
    policies
        .governing(namespace)
        .ifPresent(p -> problems.addAll(PolicyRules.violations(p, mirror.getSpec())));
    List<String> warnings =
        DependencyConfusion.risk(mirror.getSpec())
            .map(
                why ->
                    List.of(
                        "pypi-mirror: PypiMirror %s/%s: %s"
                            .formatted(namespace, mirror.getMetadata().getName(), why)))
            .orElse(List.of());
    if (problems.isEmpty()) {
      return Decision.allow(warnings);
    }
    return Decision.deny(
        "PypiMirror %s/%s refused: %s"
            .formatted(namespace, mirror.getMetadata().getName(), String.join("; ", problems)),
        warnings);
  }
}
