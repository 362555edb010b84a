package dev.pypimirror.operator.inject;

import java.util.List;

/**
 * How the policy governing a pod's namespace shapes its injection.
 *
 * @param policy the governing PypiMirrorPolicy's name, or null when none governs
 * @param enforce whether it enforces
 */
public record PolicyMode(String policy, boolean enforce) {
  public static final PolicyMode NONE = new PolicyMode(null, false);

  /**
   * Index settings a container may not keep under enforcement: the mirror's own are replaced, the
   * rest removed.
   */
  public static final List<String> ENFORCED_VARIABLES =
      List.of(
          "PIP_INDEX_URL",
          "PIP_EXTRA_INDEX_URL",
          "PIP_TRUSTED_HOST",
          "PIP_CONFIG_FILE",
          "PIP_NO_INDEX",
          "PIP_FIND_LINKS",
          "UV_INDEX",
          "UV_DEFAULT_INDEX",
          "UV_INDEX_URL",
          "UV_EXTRA_INDEX_URL",
          "UV_FIND_LINKS",
          "UV_NO_INDEX",
          "UV_INSECURE_HOST",
          "UV_CONFIG_FILE");

  public boolean advisory() {
    return policy != null && !enforce;
  }
}
