package dev.pypimirror.operator.policy;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PublicIndexSpec;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.owned.CacheSync;
import java.util.ArrayList;
import java.util.List;

/** The rules a policy sets for every PypiMirror in the namespaces it governs. */
public final class PolicyRules {
  private PolicyRules() {}

  /** Whether the policy (null: none) enforces its mirror. */
  public static boolean enforces(PypiMirrorPolicy policy) {
    return policy != null
        && policy.getSpec() != null
        && policy.getSpec().getEnforcement() == PypiMirrorPolicySpec.Enforcement.Enforce;
  }

  /**
   * Every rule of {@code policy} that {@code mirror} breaks, each naming the policy and the rule.
   */
  public static List<String> violations(PypiMirrorPolicy policy, PypiMirrorSpec mirror) {
    PypiMirrorPolicySpec rules = policy.getSpec();
    List<String> violations = new ArrayList<>();
    List<IndexSpec> indexes = mirror.getIndexes() == null ? List.of() : mirror.getIndexes();
    for (int i = 0; i < indexes.size(); i++) {
      String url = indexes.get(i).getUrl();
      if (url != null && !isCache(mirror, url)) {
        violations.addAll(indexUrlViolations(policy, "spec.indexes[%d].url".formatted(i), url));
      }
    }
    PublicIndexSpec publicIndex =
        mirror.getPublicIndex() == null ? new PublicIndexSpec() : mirror.getPublicIndex();
    boolean usesPublic = !mirror.isOffline() && publicIndex.isEnabled();
    if (!rules.isAllowPublicIndex() && usesPublic) {
      violations.add(
          "%s: allowPublicIndex is false, but the mirror uses the public index (set offline: true or publicIndex.enabled: false)"
              .formatted(name(policy)));
    } else if (usesPublic && !isDefaultPublicIndex(publicIndex.getUrl())) {
      // allowPublicIndex allows pypi.org; any other URL there is an index like the others
      violations.addAll(indexUrlViolations(policy, "spec.publicIndex.url", publicIndex.getUrl()));
    }
    List<String> pipIndexes = MirrorConfigRenderer.pipIndexes(mirror);
    boolean proxied = mirror.getCache() != null && mirror.getCache().isProxied();
    if (rules.isRequireSingleIndexForPip() && !proxied && pipIndexes.size() > 1) {
      violations.add(
          "%s: requireSingleIndexForPip is true, but pip gets %d indexes (%s) and installs the highest version found on any of them (use serve: Proxy, or a single index with offline: true or publicIndex.enabled: false)"
              .formatted(name(policy), pipIndexes.size(), String.join(", ", pipIndexes)));
    }
    violations.addAll(syncViolations(policy, mirror));
    return violations.stream().distinct().toList();
  }

  /**
   * A synced cache serves what its upstream gave it, so every URL the sync downloads from obeys the
   * same rules as an index: the mirror's own indexes (checked above), {@code
   * spec.cache.sync.upstream}, and the public index it falls back to.
   */
  private static List<String> syncViolations(PypiMirrorPolicy policy, PypiMirrorSpec mirror) {
    if (mirror.getCache() == null || !mirror.getCache().isSynced()) {
      return List.of();
    }
    List<String> violations = new ArrayList<>();
    for (CacheSync.Upstream upstream : CacheSync.upstream(mirror)) {
      if (upstream.url() == null || upstream.field().startsWith("spec.indexes")) {
        continue;
      }
      if (!upstream.field().equals("spec.publicIndex.url")) {
        violations.addAll(indexUrlViolations(policy, upstream.field(), upstream.url()));
      } else if (!policy.getSpec().isAllowPublicIndex()) {
        violations.add(
            "%s: allowPublicIndex is false, but the cache sync downloads from the public index (the mirror has no index of its own; set spec.cache.sync.upstream)"
                .formatted(name(policy)));
      } else if (!isDefaultPublicIndex(upstream.url())) {
        violations.addAll(indexUrlViolations(policy, "spec.publicIndex.url", upstream.url()));
      }
    }
    return violations;
  }

  /**
   * The policy's URL rules ({@code allowInsecureHttp}, {@code allowedIndexPrefixes}) applied to one
   * URL a mirror or its cache sync uses: every rule it breaks, each naming the policy, {@code
   * field} and the rule. The one check for every index URL under a policy.
   */
  public static List<String> indexUrlViolations(PypiMirrorPolicy policy, String field, String url) {
    PypiMirrorPolicySpec rules = policy.getSpec();
    List<String> prefixes =
        rules.getAllowedIndexPrefixes() == null ? List.of() : rules.getAllowedIndexPrefixes();
    if (prefixes.isEmpty() && rules.isAllowInsecureHttp()) {
      return List.of();
    }
    String name = name(policy);
    IndexUrl parsed;
    try {
      parsed = IndexUrl.parse(url);
    } catch (IndexUrl.UnsafeUrlException e) {
      return List.of(
          "%s: %s %s cannot be checked against the policy: %s"
              .formatted(name, field, url, e.getMessage()));
    }
    List<String> violations = new ArrayList<>();
    if (!rules.isAllowInsecureHttp() && parsed.scheme().equals("http")) {
      violations.add(
          "%s: allowInsecureHttp is false, but %s is plain http: %s".formatted(name, field, url));
    }
    if (!prefixes.isEmpty() && !isUnderAllowedPrefix(parsed, prefixes)) {
      violations.add(
          "%s: %s %s is not under allowedIndexPrefixes %s".formatted(name, field, url, prefixes));
    }
    return violations;
  }

  /**
   * Whether {@code url} lies under one of {@code prefixes}, compared as parsed, normalised URLs
   * (see {@link IndexUrl}); a URL or prefix that cannot be compared safely matches nothing.
   */
  public static boolean isUnderAllowedPrefix(String url, List<String> prefixes) {
    try {
      return isUnderAllowedPrefix(IndexUrl.parse(url), prefixes);
    } catch (IndexUrl.UnsafeUrlException e) {
      return false;
    }
  }

  private static boolean isUnderAllowedPrefix(IndexUrl url, List<String> prefixes) {
    for (String prefix : prefixes) {
      try {
        if (url.isUnder(IndexUrl.parse(prefix))) {
          return true;
        }
      } catch (IndexUrl.UnsafeUrlException e) {
        // a prefix that cannot be parsed allows nothing
      }
    }
    return false;
  }

  private static boolean isDefaultPublicIndex(String url) {
    try {
      return IndexUrl.parse(url).equals(IndexUrl.parse(PublicIndexSpec.DEFAULT_URL));
    } catch (IndexUrl.UnsafeUrlException e) {
      return false;
    }
  }

  private static String name(PypiMirrorPolicy policy) {
    return "PypiMirrorPolicy " + policy.getMetadata().getName();
  }

  /** The cache's own file:// index is always allowed: it holds what the mirrors served. */
  private static boolean isCache(PypiMirrorSpec mirror, String url) {
    CacheSpec cache = mirror.getCache();
    return cache != null && cache.isEnabled() && url.equals(cache.indexUrl());
  }
}
