package dev.pypimirror.operator.policy;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import java.util.ArrayList;
import java.util.List;

/** The rules a policy sets for every PypiMirror in the namespaces it governs. */
public final class PolicyRules {
  private PolicyRules() {}

  /**
   * Every rule of {@code policy} that {@code mirror} breaks, each naming the policy and the rule.
   */
  public static List<String> violations(PypiMirrorPolicy policy, PypiMirrorSpec mirror) {
    PypiMirrorPolicySpec rules = policy.getSpec();
    String name = "PypiMirrorPolicy " + policy.getMetadata().getName();
    List<String> violations = new ArrayList<>();
    List<IndexSpec> indexes = mirror.getIndexes() == null ? List.of() : mirror.getIndexes();
    List<String> prefixes =
        rules.getAllowedIndexPrefixes() == null ? List.of() : rules.getAllowedIndexPrefixes();
    for (int i = 0; i < indexes.size(); i++) {
      String url = indexes.get(i).getUrl();
      if (url == null) {
        continue;
      }
      if (!rules.isAllowInsecureHttp() && url.regionMatches(true, 0, "http://", 0, 7)) {
        violations.add(
            "%s: allowInsecureHttp is false, but spec.indexes[%d].url is plain http: %s"
                .formatted(name, i, url));
      }
      if (!prefixes.isEmpty()
          && !isCache(mirror, url)
          && prefixes.stream().noneMatch(url::startsWith)) {
        violations.add(
            "%s: spec.indexes[%d].url %s is not under allowedIndexPrefixes %s"
                .formatted(name, i, url, prefixes));
      }
    }
    boolean usesPublic =
        !mirror.isOffline()
            && (mirror.getPublicIndex() == null || mirror.getPublicIndex().isEnabled());
    if (!rules.isAllowPublicIndex() && usesPublic) {
      violations.add(
          "%s: allowPublicIndex is false, but the mirror uses the public index (set offline: true or publicIndex.enabled: false)"
              .formatted(name));
    }
    return violations;
  }

  /** The cache's own file:// index is always allowed: it holds what the mirrors served. */
  private static boolean isCache(PypiMirrorSpec mirror, String url) {
    CacheSpec cache = mirror.getCache();
    return cache != null && cache.isEnabled() && url.equals("file://" + cache.getMountPath());
  }
}
