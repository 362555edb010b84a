package dev.pypimirror.operator.config;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PublicIndexSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What pip.conf, uv.toml, pydistutils.cfg and the environment keys look like for a mirror. */
public final class MirrorConfigRenderer {
  private MirrorConfigRenderer() {}

  /**
   * Renders a valid spec; throws {@link InvalidMirrorException} naming every problem otherwise.
   *
   * @param name the mirror's name, checked for length; may be null when unknown
   */
  public static RenderedConfig render(String name, PypiMirrorSpec spec) {
    return render(name, null, spec);
  }

  /**
   * Renders a valid spec of the mirror {@code name} in {@code namespace} (null: default; it names a
   * proxied mirror's Service); throws {@link InvalidMirrorException} naming every problem
   * otherwise.
   */
  public static RenderedConfig render(String name, String namespace, PypiMirrorSpec spec) {
    MirrorSpecValidator.requireValid(name, spec);
    return renderValid(served(name, namespace, spec));
  }

  /** The mirror of {@code metadata}'s name and namespace rendered. */
  public static RenderedConfig render(PypiMirror mirror) {
    return render(
        mirror.getMetadata().getName(), mirror.getMetadata().getNamespace(), mirror.getSpec());
  }

  /**
   * What build pods are given, as a spec: {@code spec} itself, or for a proxied cache (serve:
   * Proxy) its proxy alone: one trusted plain-http index, no public index and no cache (the
   * upstreams are the proxy's, the cache its volume).
   */
  public static PypiMirrorSpec served(String name, String namespace, PypiMirrorSpec spec) {
    if (spec.getCache() == null || !spec.getCache().isProxied()) {
      return spec;
    }
    PypiMirrorSpec served = new PypiMirrorSpec();
    served.setIndexes(List.of(new IndexSpec(MirrorObjects.proxyUrl(name, namespace), true)));
    served.setOffline(true);
    served.setPip(spec.getPip());
    served.setPydistutils(spec.getPydistutils());
    served.setInjection(spec.getInjection());
    return served;
  }

  private static RenderedConfig renderValid(PypiMirrorSpec spec) {
    List<String> mirrors = mirrors(spec);
    String publicUrl = publicUrl(spec);
    List<String> insecureHosts = insecureHosts(spec);
    Integer retries = spec.getPip() == null ? null : spec.getPip().getRetries();
    Integer timeout = spec.getPip() == null ? null : spec.getPip().getTimeoutSeconds();

    List<String> pipOrder = pipIndexes(spec);
    List<String> extras = pipOrder.subList(1, pipOrder.size());

    Map<String, String> data = new LinkedHashMap<>();
    data.put(
        RenderedConfig.PIP_CONF, pipConf(pipOrder.get(0), extras, insecureHosts, retries, timeout));
    data.put(RenderedConfig.UV_TOML, uvToml(mirrors, publicUrl, insecureHosts));
    if (spec.getPydistutils() == null || spec.getPydistutils().isEnabled()) {
      data.put(RenderedConfig.PYDISTUTILS_CFG, pydistutilsCfg(mirrors.get(mirrors.size() - 1)));
    }
    putIfPresent(data, "PIP_INDEX_URL", pipOrder.get(0));
    putIfPresent(data, "PIP_EXTRA_INDEX_URL", String.join(" ", extras));
    putIfPresent(data, "PIP_TRUSTED_HOST", String.join(" ", insecureHosts));
    putIfPresent(data, "PIP_RETRIES", retries == null ? null : retries.toString());
    putIfPresent(data, "PIP_TIMEOUT", timeout == null ? null : timeout.toString());
    // uv: UV_INDEX is tried first, in order; UV_DEFAULT_INDEX last. Without a public index the
    // last mirror is the default, so uv asks the mirrors in the given order either way and takes a
    // project from the first index that has it (uv's first-index strategy; pip has no order).
    List<String> uvFirst = publicUrl == null ? mirrors.subList(0, mirrors.size() - 1) : mirrors;
    putIfPresent(data, "UV_INDEX", String.join(" ", uvFirst));
    putIfPresent(
        data, "UV_DEFAULT_INDEX", publicUrl != null ? publicUrl : mirrors.get(mirrors.size() - 1));
    putIfPresent(data, "UV_INSECURE_HOST", String.join(" ", insecureHosts));
    return new RenderedConfig(data, pipOrder, sha256(data));
  }

  /**
   * The indexes pip gets: index-url, then each extra-index-url. pip asks every one of them and
   * installs the highest version found on any; the order decides nothing but which is index-url.
   */
  public static List<String> pipIndexes(PypiMirrorSpec spec) {
    List<String> pipIndexes = new ArrayList<>(mirrors(spec));
    String publicUrl = publicUrl(spec);
    if (publicUrl != null) {
      pipIndexes.add(publicUrl);
    }
    return pipIndexes;
  }

  /** The effective mirror list M: the indexes as given, else the cache's file:// URL. */
  public static List<String> mirrors(PypiMirrorSpec spec) {
    List<IndexSpec> indexes = spec.getIndexes() == null ? List.of() : spec.getIndexes();
    if (!indexes.isEmpty()) {
      return indexes.stream().map(IndexSpec::getUrl).toList();
    }
    CacheSpec cache = spec.getCache();
    if (cache != null && cache.isEnabled()) {
      return List.of(cache.indexUrl());
    }
    return List.of();
  }

  /** The public index URL when it is used: enabled and not offline; else null. */
  public static String publicUrl(PypiMirrorSpec spec) {
    PublicIndexSpec publicIndex =
        spec.getPublicIndex() == null ? new PublicIndexSpec() : spec.getPublicIndex();
    return publicIndex.isEnabled() && !spec.isOffline() ? publicIndex.getUrl() : null;
  }

  /** host[:port] of every plain-http index marked trusted, once each, in index order. */
  static List<String> insecureHosts(PypiMirrorSpec spec) {
    LinkedHashSet<String> hosts = new LinkedHashSet<>();
    for (IndexSpec index : spec.getIndexes() == null ? List.<IndexSpec>of() : spec.getIndexes()) {
      URI uri = URI.create(index.getUrl());
      if (index.isTrustedHost() && "http".equalsIgnoreCase(uri.getScheme())) {
        hosts.add(hostAndPort(uri));
      }
    }
    return List.copyOf(hosts);
  }

  /** host[:port] as pip's trusted-host and uv's allow-insecure-host take it. */
  public static String hostAndPort(URI uri) {
    return uri.getPort() == -1 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
  }

  static String pipConf(
      String indexUrl,
      List<String> extraIndexUrls,
      List<String> trustedHosts,
      Integer retries,
      Integer timeout) {
    StringBuilder conf = new StringBuilder("[global]\n");
    conf.append("index-url = ").append(indexUrl).append('\n');
    appendMultiValue(conf, "extra-index-url", extraIndexUrls);
    appendMultiValue(conf, "trusted-host", trustedHosts);
    if (retries != null) {
      conf.append("retries = ").append(retries).append('\n');
    }
    if (timeout != null) {
      conf.append("timeout = ").append(timeout).append('\n');
    }
    return conf.toString();
  }

  /** One value per line; pip splits multi-value options on whitespace. */
  private static void appendMultiValue(StringBuilder conf, String key, List<String> values) {
    if (!values.isEmpty()) {
      conf.append(key).append(" = ").append(String.join("\n    ", values)).append('\n');
    }
  }

  static String uvToml(List<String> mirrors, String publicUrl, List<String> insecureHosts) {
    StringBuilder toml = new StringBuilder();
    if (!insecureHosts.isEmpty()) {
      // top-level keys must precede the first [[index]] table
      toml.append("allow-insecure-host = [")
          .append(
              String.join(
                  ", ", insecureHosts.stream().map(MirrorConfigRenderer::tomlString).toList()))
          .append("]\n\n");
    }
    for (int i = 0; i < mirrors.size(); i++) {
      boolean isDefault = publicUrl == null && i == mirrors.size() - 1;
      appendUvIndex(toml, "mirror-" + (i + 1), mirrors.get(i), isDefault);
    }
    if (publicUrl != null) {
      appendUvIndex(toml, "pypi", publicUrl, true);
    }
    return toml.toString().stripTrailing() + "\n";
  }

  private static void appendUvIndex(
      StringBuilder toml, String name, String url, boolean isDefault) {
    toml.append("[[index]]\n")
        .append("name = ")
        .append(tomlString(name))
        .append('\n')
        .append("url = ")
        .append(tomlString(url))
        .append('\n');
    if (isDefault) {
      toml.append("default = true\n");
    }
    toml.append('\n');
  }

  static String pydistutilsCfg(String lastMirror) {
    return "[easy_install]\nindex_url = " + lastMirror + "\n";
  }

  private static String tomlString(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static void putIfPresent(Map<String, String> data, String key, String value) {
    if (value != null && !value.isEmpty()) {
      data.put(key, value);
    }
  }

  /** sha256 over the data in key order, each key and value followed by a NUL byte. */
  static String sha256(Map<String, String> data) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      new TreeMap<>(data)
          .forEach(
              (key, value) -> {
                digest.update((key + '\0' + value + '\0').getBytes(StandardCharsets.UTF_8));
              });
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
