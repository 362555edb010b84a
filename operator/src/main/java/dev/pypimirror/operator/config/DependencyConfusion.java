package dev.pypimirror.operator.config;

import dev.pypimirror.operator.api.PypiMirrorSpec;
import java.util.List;
import java.util.Optional;

/**
 * Whether a mirror gives pip a private index and the public index together. pip treats {@code
 * index-url} and every {@code extra-index-url} as equal and installs the highest version found on
 * any of them, so whoever publishes a private project's name on the public index with a higher
 * version wins (dependency confusion, CVE-2018-20225). uv's first-index strategy is not affected;
 * one index for pip (a proxy mirror) or no public index avoids it.
 */
public final class DependencyConfusion {
  /** What avoids the risk, as the warning, condition and event say it. */
  public static final String REMEDY =
      "give pip one index (serve: Proxy with resolution: FirstMatch), or drop the public index"
          + " (offline: true or publicIndex.enabled: false)";

  private DependencyConfusion() {}

  /** Why {@code spec} is at risk, or empty when pip gets no public index beside a private one. */
  public static Optional<String> risk(PypiMirrorSpec spec) {
    if (spec.getCache() != null && spec.getCache().isProxied()) {
      return Optional.empty(); // pip gets the proxy alone; its upstreams are the proxy's
    }
    if (spec.getCache() != null && spec.getCache().isProxied()) {
      return Optional.empty(); // pip gets the proxy alone; FirstMatch or Merge is decided behind it
    }
    List<String> pipIndexes = MirrorConfigRenderer.pipIndexes(spec);
    String publicUrl = MirrorConfigRenderer.publicUrl(spec);
    if (publicUrl == null || pipIndexes.size() < 2 || !pipIndexes.contains(publicUrl)) {
      return Optional.empty();
    }
    List<String> privateIndexes =
        pipIndexes.stream().filter(url -> !url.equals(publicUrl)).toList();
    return Optional.of(
        ("pip gets the public index %s beside %s: pip treats index-url and every extra-index-url as"
                + " equal and installs the highest version found on any of them, so a project of a"
                + " private index's name published on the public index with a higher version"
                + " wins (dependency confusion); to avoid it, %s")
            .formatted(publicUrl, String.join(", ", privateIndexes), REMEDY));
  }
}
