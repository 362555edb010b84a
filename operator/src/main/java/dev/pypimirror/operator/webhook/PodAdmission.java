package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.inject.PodInjector;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.webhook.AdmissionReviews.Decision;
import java.util.List;

/** POST /mutate-pods: the mirror injected into pods on CREATE. */
public class PodAdmission {
  /** Told about every decision, for events and metrics. */
  public interface Listener {
    void decided(String namespace, JsonNode pod, InjectionPlan plan, boolean dryRun);

    Listener NONE = (namespace, pod, plan, dryRun) -> {};
  }

  private final MirrorDirectory mirrors;
  private final PolicyDirectory policies;
  private final String operatorNamespace;
  private final Listener listener;

  public PodAdmission(
      MirrorDirectory mirrors,
      PolicyDirectory policies,
      String operatorNamespace,
      Listener listener) {
    this.mirrors = mirrors;
    this.policies = policies;
    this.operatorNamespace = operatorNamespace;
    this.listener = listener;
  }

  public AdmissionResponse review(byte[] body) {
    return AdmissionReviews.review(body, this::decide);
  }

  private Decision decide(JsonNode request) {
    JsonNode pod = request.path("object");
    boolean isPodCreate =
        "CREATE".equals(request.path("operation").asText())
            && "pods".equals(request.path("resource").path("resource").asText())
            && request.path("subResource").asText("").isEmpty();
    if (!isPodCreate) {
      return Decision.allow(List.of());
    }
    if (!pod.isObject()) {
      return Decision.allow(
          List.of("pypi-mirror: the request carries no pod; admitted without a mirror"));
    }
    String namespace = request.path("namespace").asText("");
    if (namespace.isEmpty()) {
      namespace = pod.path("metadata").path("namespace").asText("default");
    }
    InjectionPlan plan =
        PodInjector.inject(pod, namespace, operatorNamespace, mirrors, policies, false);
    listener.decided(namespace, pod, plan, request.path("dryRun").asBoolean(false));
    if (plan.outcome() == InjectionPlan.Outcome.DENIED) {
      return Decision.deny(plan.detail(), plan.warnings());
    }
    return new Decision(true, plan.patch(), plan.warnings(), null);
  }
}
