package dev.pypimirror.operator.api;

import java.util.List;

/**
 * Where the webhook mounts a mirror's configuration in a container (the contract's paths). The
 * cache may not be mounted at, above or below any of them: a pod with two mounts at one path is
 * refused by the API server.
 */
public final class MountedConfig {
  public static final String CONFIG_DIR = "/etc/pypi-mirror";
  public static final String PIP_CONF = "/etc/pip.conf";
  public static final String UV_TOML = "/etc/uv/uv.toml";

  /** In the container's HOME. */
  public static final String PYDISTUTILS_FILE = ".pydistutils.cfg";

  /** The fixed paths; the pydistutils file's depends on HOME. */
  public static final List<String> FIXED_PATHS = List.of(CONFIG_DIR, PIP_CONF, UV_TOML);

  private MountedConfig() {}

  /** Where .pydistutils.cfg goes for this HOME. */
  public static String pydistutilsPath(String home) {
    return (home.endsWith("/") ? home : home + "/") + PYDISTUTILS_FILE;
  }
}
