package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.policy.EgressPolicies;
import dev.pypimirror.operator.policy.PolicyRules;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The settings of a policy that do nothing as written, each with why: a {@code restrictEgress} for
 * which no NetworkPolicy can be written, {@code allowedEgressCIDRs} without it, {@code allowedEnv}
 * under Advisory or naming variables the allow-list never lets through (or lets through anyway).
 * The validating webhook warns with them and the policy's status carries them. Pure.
 */
public final class IneffectiveSettings {
  private IneffectiveSettings() {}

  /** Why each ineffective setting of the policy does nothing, in spec order; empty when none. */
  public static List<String> of(PypiMirrorPolicy policy) {
    PypiMirrorPolicySpec spec = policy.getSpec();
    if (spec == null) {
      return List.of();
    }
    List<String> found = new ArrayList<>(egress(policy));
    found.addAll(allowedEnv(spec, PolicyRules.enforces(policy)));
    return found;
  }

  /** restrictEgress that writes no NetworkPolicy; allowedEgressCIDRs without restrictEgress. */
  private static List<String> egress(PypiMirrorPolicy policy) {
    PypiMirrorPolicySpec spec = policy.getSpec();
    List<String> found = new ArrayList<>();
    if (!spec.isRestrictEgress()) {
      if (spec.getAllowedEgressCIDRs() != null && !spec.getAllowedEgressCIDRs().isEmpty()) {
        found.add("allowedEgressCIDRs has no effect without restrictEgress: true");
      }
      return found;
    }
    if (!PolicyRules.enforces(policy)) {
      found.add(
          "restrictEgress has no effect: the policy does not enforce (enforcement: Enforce"
              + " is needed); no NetworkPolicy is written");
    }
    if (spec.getMirror() == null
        || spec.getMirror().getCache() == null
        || !spec.getMirror().getCache().isProxied()) {
      found.add(
          "restrictEgress has no effect: the policy's mirror is not served by its caching proxy"
              + " (mirror.cache.serve: Proxy), and without one the pods would need the indexes"
              + " themselves, which a NetworkPolicy cannot name by URL; no NetworkPolicy is"
              + " written");
    }
    if (spec.getPodSelector() == null) {
      found.add(
          "restrictEgress has no effect without a podSelector: a NetworkPolicy selects pods by"
              + " labels only; no NetworkPolicy is written");
    }
    EgressPolicies.selectsOwnPods(policy).ifPresent(found::add);
    return found;
  }

  /**
   * allowedEnv under Advisory, or naming variables the allow-list removes whatever it says, or
   * keeps without it.
   */
  private static List<String> allowedEnv(PypiMirrorPolicySpec spec, boolean enforces) {
    Set<String> allowed = new LinkedHashSet<>();
    if (spec.getAllowedEnv() != null) {
      spec.getAllowedEnv().stream().filter(n -> n != null && !n.isEmpty()).forEach(allowed::add);
    }
    if (!allowed.isEmpty() && !enforces) {
      return List.of(
          "allowedEnv has no effect: the allow-list holds under enforcement: Enforce only");
    }
    List<String> removed = new ArrayList<>();
    List<String> keptAnyway = new ArrayList<>();
    for (String name : allowed) {
      if (EnvAllowList.verdict(name, Set.of(name)) == EnvAllowList.Verdict.REMOVE) {
        removed.add(name);
      } else if (name.equals(ContainerEnv.HOME)
          || EnvAllowList.verdict(name, Set.of()) == EnvAllowList.Verdict.KEEP) {
        keptAnyway.add(name);
      }
    }
    List<String> found = new ArrayList<>();
    if (!removed.isEmpty()) {
      found.add(
          ("allowedEnv names %s, which the allow-list removes whatever allowedEnv says: each names"
                  + " an index or a source of packages, or changes where pip or uv connect, whom"
                  + " they trust or which interpreter runs")
              .formatted(String.join(", ", removed)));
    }
    if (!keptAnyway.isEmpty()) {
      found.add(
          "allowedEnv names %s, which the allow-list keeps without it%s"
              .formatted(
                  String.join(", ", keptAnyway),
                  keptAnyway.contains(ContainerEnv.HOME)
                      ? " (and HOME is held to a literal absolute path given once whatever"
                          + " allowedEnv says)"
                      : ""));
    }
    return found;
  }
}
