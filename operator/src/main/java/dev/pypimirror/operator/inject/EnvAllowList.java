package dev.pypimirror.operator.inject;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What Enforce does with a variable a container sets, by name (docs/security.md has the reason for
 * each): every {@code PIP_*} and {@code UV_*} but the mirror's own is removed; the variables that
 * change which code Python (or pip's helpers) runs, or where requests go and whom they trust, are
 * refused unless the policy's {@code allowedEnv} names them exactly; everything else is kept. Names
 * are compared without regard to case, so no spelling escapes a rule (only {@code allowedEnv} is
 * exact).
 */
public final class EnvAllowList {
  /** What becomes of a variable under Enforce. */
  public enum Verdict {
    KEEP,
    /** Removed from the container, with a warning. */
    REMOVE,
    /** The pod is refused. */
    REFUSE
  }

  /** Prefixes of the names pip and uv read as their own settings (upper case). */
  public static final List<String> TOOL_PREFIXES = List.of("PIP_", "_PIP_", "UV_");

  /** Refused whole families (upper case): each reads code, a config or a destination by name. */
  public static final List<String> REFUSED_PREFIXES =
      List.of("PYTHON", "LD_", "GIT_", "OPENSSL_", "PYX_", "BZR_", "BRZ_");

  /** The few PYTHON* variables that change neither the code that runs nor where it connects. */
  public static final Set<String> HARMLESS_PYTHON =
      Set.of(
          "PYTHONUNBUFFERED",
          "PYTHONDONTWRITEBYTECODE",
          "PYTHONIOENCODING",
          "PYTHONUTF8",
          "PYTHONHASHSEED",
          "PYTHONNOUSERSITE",
          "PYTHONSAFEPATH",
          "PYTHONFAULTHANDLER",
          "PYTHONOPTIMIZE");

  /** Refused single names (upper case). */
  public static final Set<String> REFUSED_NAMES =
      Set.of(
          "HTTP_PROXY",
          "HTTPS_PROXY",
          "ALL_PROXY",
          "NO_PROXY",
          "FTP_PROXY",
          "REQUESTS_CA_BUNDLE",
          "CURL_CA_BUNDLE",
          "SSL_CERT_FILE",
          "SSL_CERT_DIR",
          "SSL_CLIENT_CERT",
          "VIRTUAL_ENV",
          "CONDA_PREFIX",
          "DIST_EXTRA_CONFIG",
          "SETUPTOOLS_USE_DISTUTILS",
          "PATH",
          "BASH_ENV",
          "GCONV_PATH",
          "HGRCPATH",
          "SVN_SSH");

  private EnvAllowList() {}

  /**
   * What Enforce does with the variable {@code name} that is not one of the mirror's own.
   *
   * @param allowed the policy's allowedEnv (exact names); it never keeps an index setting
   */
  public static Verdict verdict(String name, Set<String> allowed) {
    String upper = name.toUpperCase(Locale.ROOT);
    if (TOOL_PREFIXES.stream().anyMatch(upper::startsWith)) {
      return allowed.contains(name) && !IndexSettings.affectsIndex(upper)
          ? Verdict.KEEP
          : Verdict.REMOVE;
    }
    if (refused(upper)) {
      return allowed.contains(name) ? Verdict.KEEP : Verdict.REFUSE;
    }
    return Verdict.KEEP;
  }

  private static boolean refused(String upper) {
    if (REFUSED_NAMES.contains(upper)) {
      return true;
    }
    return REFUSED_PREFIXES.stream().anyMatch(upper::startsWith)
        && !HARMLESS_PYTHON.contains(upper);
  }

  /**
   * Whether no name an {@code envFrom} source with this prefix can bring is removed or refused
   * (compared without case): the prefix is set, neither begins nor extends a removed or refused
   * prefix, and begins no refused name nor HOME. {@code APP_} is safe; none, {@code PIP_}, {@code
   * U}, {@code HTTP}, {@code HO} are not.
   */
  public static boolean envFromPrefixIsSafe(String prefix) {
    if (prefix == null || prefix.isEmpty()) {
      return false;
    }
    String upper = prefix.toUpperCase(Locale.ROOT);
    return java.util.stream.Stream.concat(TOOL_PREFIXES.stream(), REFUSED_PREFIXES.stream())
            .noneMatch(p -> p.startsWith(upper) || upper.startsWith(p))
        && REFUSED_NAMES.stream().noneMatch(n -> n.startsWith(upper))
        // HOME is held to one literal entry: an envFrom key "ME" under prefix "HO" would set it
        && !ContainerEnv.HOME.startsWith(upper);
  }
}
