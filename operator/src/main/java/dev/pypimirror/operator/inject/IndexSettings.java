package dev.pypimirror.operator.inject;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The environment variables through which pip and uv choose where packages come from, read as they
 * read them. pip (its {@code configuration.py}) takes every variable whose name starts with {@code
 * PIP_} (that part exact), lower-cases the rest, treats {@code _} and {@code -} alike and drops a
 * leading {@code --}: {@code PIP_index-url}, {@code PIP_Index_URL} and {@code PIP_--index-url} all
 * set {@code --index-url}. {@code PIP_CONFIG_FILE} itself is read by its exact name. uv reads its
 * variables by exact name only.
 */
public final class IndexSettings {
  /**
   * pip options (aliases included: {@code --pypi-url} is {@code --index-url}) that name an index or
   * a source of packages, read files that can, or change where pip connects, whom it trusts or
   * which interpreter runs it. {@code allowedEnv} never keeps one of these.
   */
  public static final Set<String> PIP_OPTIONS =
      Set.of(
          "index-url",
          "pypi-url",
          "extra-index-url",
          "no-index",
          "find-links",
          "trusted-host",
          "requirement",
          "constraint",
          "build-constraint",
          "editable",
          "proxy",
          "cert",
          "client-cert",
          "python",
          "isolated");

  /**
   * uv's variables that name an index, a config file, a constraint or override, a download mirror
   * or an interpreter, or switch config files off. {@code allowedEnv} never keeps one of these.
   */
  public static final Set<String> UV_VARIABLES =
      Set.of(
          "UV_INDEX",
          "UV_DEFAULT_INDEX",
          "UV_INDEX_URL",
          "UV_EXTRA_INDEX_URL",
          "UV_FIND_LINKS",
          "UV_NO_INDEX",
          "UV_INSECURE_HOST",
          "UV_CONFIG_FILE",
          "UV_NO_CONFIG",
          "UV_TORCH_BACKEND",
          "UV_CONSTRAINT",
          "UV_OVERRIDE",
          "UV_BUILD_CONSTRAINT",
          "UV_INDEX_STRATEGY",
          "UV_PYTHON_INSTALL_MIRROR",
          "UV_PYPY_INSTALL_MIRROR",
          "UV_PYTHON_DOWNLOADS_JSON_URL",
          "UV_NATIVE_TLS",
          "UV_PYTHON",
          "UV_KEYRING_PROVIDER");

  private IndexSettings() {}

  /**
   * What Enforce sets besides the mirror's own variables, so that no config file the mirror does
   * not control (the image's, a virtualenv's, one under XDG_CONFIG_DIRS) can add an index. pip's
   * environment beats every config file but skips empty values, so each pin is a harmless real
   * value: the index again as the extra index (pip drops the duplicate), the mirror's config
   * directory (no packages in it) as find-links, /dev/null as requirement and constraint files. uv
   * reads only the mirror's uv.toml (UV_CONFIG_FILE replaces every discovered file).
   *
   * @param env the mirror's variables (PIP_INDEX_URL among them)
   */
  public static Map<String, String> enforcedPins(Map<String, String> env) {
    Map<String, String> pins = new LinkedHashMap<>();
    String index = env.get("PIP_INDEX_URL");
    if (index != null) {
      pins.put("PIP_EXTRA_INDEX_URL", index);
    }
    pins.put("PIP_FIND_LINKS", InjectedLayout.CONFIG_DIR);
    pins.put("PIP_REQUIREMENT", "/dev/null");
    pins.put("PIP_CONSTRAINT", "/dev/null");
    pins.put("PIP_BUILD_CONSTRAINT", "/dev/null");
    pins.put(InjectedLayout.UV_CONFIG_FILE_ENV, InjectedLayout.UV_CONFIG_FILE);
    return pins;
  }

  /** The pip option a variable sets, normalised as pip does; empty when pip does not read it. */
  public static Optional<String> pipOption(String variable) {
    if (!variable.startsWith("PIP_")) {
      return Optional.empty();
    }
    String name = variable.substring(4).toLowerCase(Locale.ROOT).replace('_', '-');
    return Optional.of(name.startsWith("--") ? name.substring(2) : name);
  }

  /**
   * Whether the variable can change which index pip or uv uses (or where they connect), in any
   * spelling they read.
   */
  public static boolean affectsIndex(String variable) {
    return variable.equals("PIP_CONFIG_FILE")
        || pipOption(variable).filter(PIP_OPTIONS::contains).isPresent()
        || UV_VARIABLES.contains(variable);
  }
}
