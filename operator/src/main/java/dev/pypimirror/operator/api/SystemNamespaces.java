package dev.pypimirror.operator.api;

import java.util.Set;

/** The namespaces the contract never injects into, whatever asks ("Which pods", rule 1). */
public final class SystemNamespaces {
  public static final Set<String> NAMES = Set.of("kube-system", "kube-public", "kube-node-lease");

  private SystemNamespaces() {}
}
