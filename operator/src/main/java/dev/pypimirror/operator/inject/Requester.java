package dev.pypimirror.operator.inject;

/** Who asks for a pod's decision: the rules of the contract that hang on it. */
public enum Requester {
  /** A user or a controller through the API server, or unknown: the contract as written. */
  CLIENT,
  /**
   * A node (a kubelet), the only creator of real static pods: their static-pod annotation counts
   * under Enforce too.
   */
  NODE,
  /**
   * The {@code inject} command without a policy: a pod without injection annotations counts as
   * opted in.
   */
  OFFLINE_OPT_IN
}
