package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.policy.PolicyRules;
import java.util.Set;

/**
 * How the policy governing a pod's namespace shapes its injection.
 *
 * @param policy the governing PypiMirrorPolicy's name, or null when none governs
 * @param enforce whether it enforces
 * @param allowedEnv the variables (exact names) its allow-list keeps under Enforce
 */
public record PolicyMode(String policy, boolean enforce, Set<String> allowedEnv) {
  public static final PolicyMode NONE = new PolicyMode(null, false);

  public PolicyMode {
    allowedEnv = allowedEnv == null ? Set.of() : Set.copyOf(allowedEnv);
  }

  public PolicyMode(String policy, boolean enforce) {
    this(policy, enforce, Set.of());
  }

  /** The mode of the governing policy, or {@link #NONE} for null. */
  public static PolicyMode of(PypiMirrorPolicy policy) {
    if (policy == null) {
      return NONE;
    }
    var allowed = policy.getSpec() == null ? null : policy.getSpec().getAllowedEnv();
    return new PolicyMode(
        policy.getMetadata().getName(),
        PolicyRules.enforces(policy),
        allowed == null ? Set.of() : Set.copyOf(allowed.stream().filter(n -> n != null).toList()));
  }

  public boolean advisory() {
    return policy != null && !enforce;
  }

  /** What Enforce does with a variable that is not one of the mirror's own. */
  public EnvAllowList.Verdict verdict(String variable) {
    return EnvAllowList.verdict(variable, allowedEnv);
  }
}
