package dev.pypimirror.operator.config;

import java.util.List;
import java.util.Map;

/**
 * What a PypiMirror renders to: the ConfigMap data (files and environment keys, in a fixed order),
 * the index URLs in the order pip uses them, and the sha256 of the data.
 */
public record RenderedConfig(Map<String, String> data, List<String> indexUrls, String hash) {
  public static final String PIP_CONF = "pip.conf";
  public static final String UV_TOML = "uv.toml";
  public static final String PYDISTUTILS_CFG = "pydistutils.cfg";

  /** The environment keys, in the order they are rendered and injected. */
  public static final List<String> ENV_KEYS =
      List.of(
          "PIP_INDEX_URL",
          "PIP_EXTRA_INDEX_URL",
          "PIP_TRUSTED_HOST",
          "PIP_RETRIES",
          "PIP_TIMEOUT",
          "UV_INDEX",
          "UV_DEFAULT_INDEX",
          "UV_INSECURE_HOST");

  public RenderedConfig {
    data = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(data));
    indexUrls = List.copyOf(indexUrls);
  }

  /** The first characters of the hash, as used in the pod annotation. */
  public String hashPrefix() {
    return hash.substring(0, 12);
  }
}
