package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.api.Annotations;

/**
 * Why a pod was (or was not) injected: carried from selection through planning to admission. The
 * metric label and the {@code pypimirror.dev/skipped} value derive from it, so both are a closed
 * set.
 */
public enum Reason {
  /** The request is not a pod CREATE. */
  NOT_A_POD_CREATE("not-pod-create"),
  /** A system namespace or the operator's own. */
  NAMESPACE_NEVER_INJECTED("namespace"),
  /** A static pod, as its kubelet creates it. */
  STATIC_POD("static-pod"),
  /** pypimirror.dev/inject: "false", honoured where nothing enforces. */
  OPTED_OUT("opted-out"),
  /** No injection annotation and no policy selects it. */
  NOT_SELECTED("no-injection-annotation"),
  /** pypimirror.dev/containers names no container of the pod: nothing to inject into. */
  NO_TARGET_CONTAINER("no-container"),
  /** The mirror was injected. */
  INJECTED("injected"),
  /** The pod already holds every mount and variable the mirror's injection adds. */
  ALREADY_INJECTED("already-injected"),
  /** The mirror the pod gets does not exist. */
  MIRROR_NOT_FOUND("mirror-not-found"),
  /** The mirror is not Ready. */
  MIRROR_NOT_READY("mirror-not-ready"),
  /** The mirror's status does not describe its current generation. */
  MIRROR_STALE("mirror-stale"),
  /** The mirror's spec cannot be rendered. */
  MIRROR_INVALID("mirror-invalid"),
  /** The mirror's spec breaks the governing policy. */
  MIRROR_POLICY_VIOLATION("policy-violation"),
  /** Several mirrors could be the namespace default. */
  NO_DEFAULT_MIRROR("no-default-mirror"),
  /** Under Enforce: a container's own file or directory at a path the mirror's config uses. */
  OWN_CONFIG_MOUNT("own-config-mount"),
  /** Under Enforce: envFrom that may bring variables the allow-list removes or refuses, unseen. */
  UNKNOWN_ENVIRONMENT("env-from"),
  /**
   * Under Enforce: a variable the allow-list refuses, a name the webhook reads or writes given
   * twice, HOME other than a literal absolute path, or an env that is not a list of named entries.
   */
  REFUSED_ENVIRONMENT("env"),
  /** Under Enforce: the request carries no pod the webhook can read. */
  MALFORMED_POD("malformed-pod");

  /** The reasons a pod can be refused for under Enforce (each also skips it elsewhere). */
  public static final java.util.Set<Reason> DENIALS =
      java.util.Collections.unmodifiableSet(
          java.util.EnumSet.of(
              MIRROR_NOT_FOUND,
              MIRROR_NOT_READY,
              MIRROR_STALE,
              MIRROR_INVALID,
              MIRROR_POLICY_VIOLATION,
              NO_DEFAULT_MIRROR,
              OWN_CONFIG_MOUNT,
              UNKNOWN_ENVIRONMENT,
              REFUSED_ENVIRONMENT,
              MALFORMED_POD));

  private final String label;

  Reason(String label) {
    this.label = label;
  }

  /** The metric label value. */
  public String label() {
    return label;
  }

  /** The pypimirror.dev/skipped value for a pod admitted without its mirror. */
  public String skippedAnnotation() {
    return this == NO_DEFAULT_MIRROR
        ? Annotations.SKIPPED_NO_DEFAULT_MIRROR
        : Annotations.SKIPPED_MIRROR_NOT_READY;
  }
}
