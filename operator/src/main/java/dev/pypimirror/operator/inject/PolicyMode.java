package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.policy.PolicyRules;

/**
 * How the policy governing a pod's namespace shapes its injection.
 *
 * @param policy the governing PypiMirrorPolicy's name, or null when none governs
 * @param enforce whether it enforces
 */
public record PolicyMode(String policy, boolean enforce) {
  public static final PolicyMode NONE = new PolicyMode(null, false);

  /** The mode of the governing policy, or {@link #NONE} for null. */
  public static PolicyMode of(PypiMirrorPolicy policy) {
    return policy == null
        ? NONE
        : new PolicyMode(policy.getMetadata().getName(), PolicyRules.enforces(policy));
  }

  public boolean advisory() {
    return policy != null && !enforce;
  }
}
