package dev.pypimirror.operator.config;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.InjectionSpec;
import dev.pypimirror.operator.api.MountedConfig;
import dev.pypimirror.operator.api.PipSpec;
import dev.pypimirror.operator.api.ProxySpec;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.SecretRef;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The rules of a valid PypiMirror, with messages that name the field. The CRD schema says the same
 * with patterns and CEL; this copy serves the command line and clusters that skip the schema.
 */
public final class MirrorSpecValidator {
  static final int MAX_NAME_LENGTH = 63;
  private static final Pattern CLEAN_PATH = Pattern.compile(CacheSpec.CLEAN_ABSOLUTE_PATH);
  private static final Pattern QUANTITY =
      Pattern.compile("^([+]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$");

  private MirrorSpecValidator() {}

  /** Every problem of the mirror {@code name} with {@code spec}; empty when it is valid. */
  public static List<String> problems(String name, PypiMirrorSpec spec) {
    List<String> problems = new ArrayList<>();
    if (name != null && name.length() > MAX_NAME_LENGTH) {
      problems.add(
          "metadata.name: at most %d characters (it is a label value), got %d"
              .formatted(MAX_NAME_LENGTH, name.length()));
    }
    if (spec == null) {
      problems.add("spec: missing");
      return problems;
    }
    CacheSpec cache = spec.getCache();
    boolean cacheOn = cache != null && cache.isEnabled();
    if (cache != null) {
      checkCache(problems, cache, spec.getInjection());
    }
    List<IndexSpec> indexes = spec.getIndexes() == null ? List.of() : spec.getIndexes();
    for (int i = 0; i < indexes.size(); i++) {
      checkIndex(problems, "spec.indexes[" + i + "].url", indexes.get(i), cacheOn ? cache : null);
      checkCredentials(problems, "spec.indexes[" + i + "]", indexes.get(i), cache);
    }
    if (cache != null) {
      checkServe(problems, cache);
    }
    if (indexes.isEmpty() && !cacheOn) {
      problems.add("spec.indexes: no index: list at least one or enable spec.cache");
    }
    if (spec.getPublicIndex() != null) {
      checkPublicIndex(problems, spec.getPublicIndex().getUrl());
    }
    if (spec.getPip() != null) {
      checkPip(problems, spec.getPip());
    }
    if (spec.getInjection() != null) {
      checkAbsolutePath(problems, "spec.injection.homeDir", spec.getInjection().getHomeDir());
    }
    return problems;
  }

  /** spec.cache's mount path, size, packages, and its sync's file size limit and schedule. */
  private static void checkCache(List<String> problems, CacheSpec cache, InjectionSpec injection) {
    checkMountPath(problems, cache.getMountPath(), injection);
    if (cache.getSize() == null || !QUANTITY.matcher(cache.getSize()).matches()) {
      problems.add("spec.cache.size: not a Kubernetes quantity: " + cache.getSize());
    }
    // requirement specifiers only: a pip option could name an index no policy has seen
    problems.addAll(Requirements.ofPackages("spec.cache.packages", cache.getPackages()).problems());
    String maxFileSize = cache.getSync() == null ? null : cache.getSync().getMaxFileSize();
    if (maxFileSize != null && !QUANTITY.matcher(maxFileSize).matches()) {
      problems.add("spec.cache.sync.maxFileSize: not a Kubernetes quantity: " + maxFileSize);
    }
    String schedule = cache.getSync() == null ? null : cache.getSync().getSchedule();
    if (schedule != null) {
      CronSchedule.problem(schedule)
          .ifPresent(
              why ->
                  problems.add(
                      "spec.cache.sync.schedule: \"%s\" is no CronJob schedule: %s"
                          .formatted(schedule, why)));
    }
  }

  private static void checkPublicIndex(List<String> problems, String url) {
    String scheme = scheme(url);
    if (!"https".equals(scheme) && !"http".equals(scheme)) {
      problems.add("spec.publicIndex.url: must be an http(s) URL, got " + quoted(url));
    }
  }

  private static void checkPip(List<String> problems, PipSpec pip) {
    Integer retries = pip.getRetries();
    if (retries != null && retries < 0) {
      problems.add("spec.pip.retries: must be 0 or more, got " + retries);
    }
    Integer timeout = pip.getTimeoutSeconds();
    if (timeout != null && timeout < 1) {
      problems.add("spec.pip.timeoutSeconds: must be 1 or more, got " + timeout);
    }
  }

  /** Throws {@link InvalidMirrorException} listing every problem, if there is any. */
  public static void requireValid(String name, PypiMirrorSpec spec) {
    List<String> problems = problems(name, spec);
    if (!problems.isEmpty()) {
      throw new InvalidMirrorException(problems);
    }
  }

  private static void checkIndex(
      List<String> problems, String field, IndexSpec index, CacheSpec enabledCache) {
    String url = index.getUrl();
    String scheme = scheme(url);
    if (scheme == null) {
      problems.add(field + ": not a URL: " + quoted(url));
      return;
    }
    switch (scheme) {
      case "https" -> {}
      case "http" -> {
        if (!index.isTrustedHost()) {
          problems.add(field + ": plain http index " + url + " needs trustedHost: true");
        }
      }
      case "file" -> {
        String cacheUrl = enabledCache == null ? null : enabledCache.indexUrl();
        if (!url.equals(cacheUrl)) {
          problems.add(
              field
                  + ": a file:// index must be the enabled cache's mount path ("
                  + (cacheUrl == null ? "the cache is off" : cacheUrl)
                  + "), got "
                  + url);
        }
      }
      default -> problems.add(field + ": scheme must be https, http or file, got " + quoted(url));
    }
  }

  /**
   * The cache's mount path: one spelling per place, and not at, above or below a path the
   * configuration is mounted at (two mounts at one path make the API server refuse every pod).
   */
  private static void checkMountPath(List<String> problems, String path, InjectionSpec injection) {
    String field = "spec.cache.mountPath";
    if (path == null || !CLEAN_PATH.matcher(path).matches()) {
      problems.add(
          field
              + ": must be an absolute path without spaces, '.' or '..' segments, '//' or a"
              + " trailing '/', got "
              + quoted(path));
      return;
    }
    String home =
        injection == null || injection.getHomeDir() == null
            ? InjectionSpec.DEFAULT_HOME_DIR
            : injection.getHomeDir();
    List<String> configPaths = new ArrayList<>(MountedConfig.FIXED_PATHS);
    configPaths.add(MountedConfig.pydistutilsPath(home));
    for (String config : configPaths) {
      if (config.equals(path) || config.startsWith(path + "/") || path.startsWith(config + "/")) {
        problems.add(
            "%s: may not be at, above or below %s, where the mirror's configuration is mounted, got %s"
                .formatted(field, config, quoted(path)));
      }
    }
  }

  /** Credentials go to the proxy and the sync only: with Mount they would be in every build pod. */
  private static void checkCredentials(
      List<String> problems, String field, IndexSpec index, CacheSpec cache) {
    SecretRef secret = index.getCredentialsSecret();
    if (secret == null) {
      return;
    }
    if (secret.getName() == null || secret.getName().isBlank()) {
      problems.add(field + ".credentialsSecret.name: missing");
    }
    if (cache == null || !cache.isProxied()) {
      problems.add(
          field
              + ".credentialsSecret: credentials need spec.cache.serve: Proxy (and the cache"
              + " enabled); with Mount they would be in every build pod's environment");
    }
    if ("file".equals(scheme(index.getUrl()))) {
      problems.add(field + ".credentialsSecret: a file:// index takes no credentials");
    }
  }

  private static void checkServe(List<String> problems, CacheSpec cache) {
    if (cache.getServe() == CacheSpec.Serve.Proxy && !cache.isEnabled()) {
      problems.add("spec.cache.serve: Proxy needs spec.cache.enabled: true");
    }
    ProxySpec proxy = cache.getProxy();
    if (proxy == null) {
      return;
    }
    List<CacheSpec.AccessMode> modes =
        cache.getAccessModes() == null ? List.of() : cache.getAccessModes();
    if (proxy.getReplicas() > 1 && !modes.contains(CacheSpec.AccessMode.ReadWriteMany)) {
      problems.add(
          "spec.cache.proxy.replicas: %d replicas mount the cache read-write together: needs"
                  .formatted(proxy.getReplicas())
              + " spec.cache.accessModes [ReadWriteMany]");
    }
    if (proxy.getReplicas() < 1) {
      problems.add("spec.cache.proxy.replicas: must be 1 or more, got " + proxy.getReplicas());
    }
    if (proxy.getIndexTTLSeconds() < 0) {
      problems.add(
          "spec.cache.proxy.indexTTLSeconds: must be 0 or more, got " + proxy.getIndexTTLSeconds());
    }
  }

  private static void checkAbsolutePath(List<String> problems, String field, String path) {
    if (path == null || !path.startsWith("/") || path.chars().anyMatch(Character::isWhitespace)) {
      problems.add(field + ": must be an absolute path without spaces, got " + quoted(path));
    }
  }

  /** The lower-case scheme of an absolute, well-formed URL with a host or path; else null. */
  static String scheme(String url) {
    if (url == null) {
      return null;
    }
    try {
      URI uri = new URI(url);
      if (!uri.isAbsolute() || uri.isOpaque()) {
        return null;
      }
      String scheme = uri.getScheme().toLowerCase();
      boolean needsHost = scheme.equals("http") || scheme.equals("https");
      return needsHost && uri.getHost() == null ? null : scheme;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  private static String quoted(String s) {
    return s == null ? "nothing" : "\"" + s + "\"";
  }
}
