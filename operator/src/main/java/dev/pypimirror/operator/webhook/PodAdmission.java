package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.inject.PodInjector;
import dev.pypimirror.operator.inject.Reason;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.policy.PolicyRules;
import dev.pypimirror.operator.webhook.AdmissionReviews.Decision;
import java.util.List;

/** POST /mutate-pods: the mirror injected into pods on CREATE. */
public class PodAdmission {
  /** Told about every answer, for events and metrics. */
  public interface Listener {
    /**
     * @param plan the decision, or null when the request was refused as malformed (400)
     * @param nanos the time from body to answer
     */
    void answered(String namespace, JsonNode pod, InjectionPlan plan, boolean dryRun, long nanos);

    Listener NONE = (namespace, pod, plan, dryRun, nanos) -> {};
  }

  /** The decision on one request, for the listener. */
  private record Decided(String namespace, JsonNode pod, InjectionPlan plan, boolean dryRun) {}

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
    long start = System.nanoTime();
    Decided[] decided = {null};
    AdmissionResponse response =
        AdmissionReviews.review(body, request -> decide(request, decided), this::failed);
    Decided d = decided[0];
    listener.answered(
        d == null ? null : d.namespace(),
        d == null ? null : d.pod(),
        d == null ? null : d.plan(),
        d != null && d.dryRun(),
        System.nanoTime() - start);
    return response;
  }

  /**
   * The webhook could not decide: in a namespace an Enforce policy governs the pod is refused (the
   * contract's "where the webhook cannot decide"), elsewhere it is admitted unchanged with a
   * warning, as the fail-open entry would on an outage.
   */
  private Decision failed(JsonNode request, RuntimeException error) {
    String namespace = namespaceOf(request);
    String why = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    PypiMirrorPolicy policy;
    try {
      policy = policies.governing(namespace).orElse(null);
    } catch (RuntimeException e) {
      return Decision.deny(
          "pypi-mirror: internal error, and whether a policy enforces a mirror in namespace %s is unknown; refused: %s"
              .formatted(namespace, why),
          List.of());
    }
    if (PolicyRules.enforces(policy)) {
      return Decision.deny(
          "pypi-mirror: PypiMirrorPolicy %s enforces a PyPI mirror in namespace %s and the webhook could not decide, so the pod is refused: %s"
              .formatted(policy.getMetadata().getName(), namespace, why),
          List.of());
    }
    return Decision.allow(
        List.of("pypi-mirror: internal error (%s); admitted without a mirror".formatted(why)));
  }

  private static String namespaceOf(JsonNode request) {
    String namespace = request.path("namespace").asText("");
    return namespace.isEmpty()
        ? request.path("object").path("metadata").path("namespace").asText("default")
        : namespace;
  }

  private Decision decide(JsonNode request, Decided[] decided) {
    JsonNode pod = request.path("object");
    boolean isPodCreate =
        "CREATE".equals(request.path("operation").asText())
            && "pods".equals(request.path("resource").path("resource").asText())
            && request.path("subResource").asText("").isEmpty();
    if (!isPodCreate) {
      decided[0] =
          new Decided(
              null,
              null,
              InjectionPlan.untouched(Reason.NOT_A_POD_CREATE, "not a pod CREATE"),
              false);
      return Decision.allow(List.of());
    }
    if (!pod.isObject()) {
      return Decision.allow(
          List.of("pypi-mirror: the request carries no pod; admitted without a mirror"));
    }
    String namespace = namespaceOf(request);
    InjectionPlan plan =
        PodInjector.inject(
            pod, namespace, operatorNamespace, mirrors, policies, false, createdByNode(request));
    decided[0] = new Decided(namespace, pod, plan, request.path("dryRun").asBoolean(false));
    if (plan.outcome() == InjectionPlan.Outcome.DENIED) {
      return Decision.deny(plan.detail(), plan.warnings());
    }
    return new Decision(true, plan.patch(), plan.warnings(), null);
  }

  /** Whether a node (a kubelet) sends the request: only nodes create real static pods. */
  static boolean createdByNode(JsonNode request) {
    for (JsonNode group : request.path("userInfo").path("groups")) {
      if ("system:nodes".equals(group.asText())) {
        return request.path("userInfo").path("username").asText().startsWith("system:node:");
      }
    }
    return false;
  }
}
