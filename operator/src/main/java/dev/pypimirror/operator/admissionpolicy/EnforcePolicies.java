package dev.pypimirror.operator.admissionpolicy;

import static dev.pypimirror.operator.admissionpolicy.CelText.string;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.PolicyMode;
import java.util.Map;
import java.util.Set;

/**
 * Enforce in admission-policy mode: ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1,
 * GA in 1.30) that refuse what the webhook refuses under an Enforce policy, with its messages
 * (after kube-apiserver's {@code ValidatingAdmissionPolicy '<name>' with binding '<name>' denied
 * request: }). They fail closed, and run after the mutating policies: a pod they select that does
 * not hold the mirror (the mutation failed or did not run) is refused too.
 */
final class EnforcePolicies {
  static final String KIND = InjectionPolicies.VALIDATING_KIND;
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** The variables of the mutating policy that the refusals read (not what it adds). */
  private static final Set<String> READ =
      Set.of(
          "annotations",
          "volumes",
          "filtered",
          "selected",
          "initContainers",
          "containers",
          "configVolume",
          "cacheVolume");

  private EnforcePolicies() {}

  private static String prefix(PolicyMode mode) {
    return "PypiMirrorPolicy %s enforces a PyPI mirror here".formatted(mode.policy());
  }

  /**
   * The policy that refuses a pod that gets {@code mirror} under Enforce for what it holds (its
   * environment and mounts), and one that does not hold the mirror after the mutating policies.
   *
   * @param selects CEL: this mirror is the pod's (the mutating policy's condition)
   * @param variables the mutating policy's variables, of which the ones read here are kept
   */
  static ObjectNode refusals(
      String name,
      String namespace,
      PolicyMode mode,
      String selects,
      Map<String, String> variables,
      PypiMirror mirror,
      RenderedConfig rendered) {
    ObjectNode policy = policy(name, namespace);
    ObjectNode spec = InjectionPolicies.podPolicySpec(policy, namespace, selects, true);
    variables.forEach(
        (variable, text) -> {
          if (READ.contains(variable)
              || variable.endsWith("Paths")
              || variable.endsWith("Devices")
              || variable.endsWith("Pydistutils")
              || variable.endsWith("PydistutilsPath")) {
            spec.withArray("variables").addObject().put("name", variable).put("expression", text);
          }
        });
    InjectionExpression.refusals(mirror, rendered, mode)
        .forEach(
            (variable, text) ->
                spec.withArray("variables")
                    .addObject()
                    .put("name", variable)
                    .put("expression", text));
    var validations = spec.putArray("validations");
    validations
        .addObject()
        .put("expression", "variables.refusals == ''")
        .put("messageExpression", "%s + variables.refusals".formatted(string(prefix(mode) + ": ")))
        .put("reason", "Forbidden");
    validations
        .addObject()
        .put("expression", InjectionExpression.holds(mirror, rendered, mode))
        .put(
            "message",
            prefix(mode)
                + ", and the pod does not hold it: the MutatingAdmissionPolicy that injects PypiMirror "
                + mirror.getMetadata().getName()
                + " did not apply, so the pod is refused")
        .put("reason", "Forbidden");
    spec.put("failurePolicy", "Fail");
    return policy;
  }

  /**
   * The policy that refuses a pod whose mirror cannot be injected, as the webhook words it.
   *
   * @param namespace the namespace it serves, or null (the caller sets the namespaceSelector)
   * @param problem CEL: why the pod's mirror cannot be injected, or '' when it can (or the pod gets
   *     none)
   */
  static ObjectNode unavailable(String name, String namespace, PolicyMode mode, String problem) {
    ObjectNode policy = policy(name, namespace);
    ObjectNode spec = InjectionPolicies.podPolicySpec(policy, namespace, null, true);
    spec.putArray("variables").addObject().put("name", "problem").put("expression", problem);
    spec.putArray("validations")
        .addObject()
        .put("expression", "variables.problem == ''")
        .put(
            "messageExpression",
            "%s + variables.problem"
                .formatted(string(prefix(mode) + ", and it cannot be injected: ")))
        .put("reason", "Forbidden");
    spec.put("failurePolicy", "Fail");
    return policy;
  }

  private static ObjectNode policy(String name, String namespace) {
    ObjectNode policy =
        JSON.objectNode().put("apiVersion", InjectionPolicies.API_VERSION).put("kind", KIND);
    InjectionPolicies.metadata(policy, name, namespace);
    return policy;
  }
}
