package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.api.MountedConfig;

/** Where injected files live in a container, and the names of injected volumes. */
public final class InjectedLayout {
  public static final String CONFIG_VOLUME = "pypi-mirror-config";
  public static final String CACHE_VOLUME = "pypi-mirror-cache";
  public static final String CONFIG_DIR = MountedConfig.CONFIG_DIR;
  public static final String PIP_CONF = MountedConfig.PIP_CONF;
  public static final String UV_TOML = MountedConfig.UV_TOML;
  public static final String PYDISTUTILS_FILE = MountedConfig.PYDISTUTILS_FILE;
  public static final String PIP_CONFIG_FILE_ENV = "PIP_CONFIG_FILE";
  public static final String PIP_CONFIG_FILE = CONFIG_DIR + "/pip.conf";
  public static final String UV_CONFIG_FILE_ENV = "UV_CONFIG_FILE";
  public static final String UV_CONFIG_FILE = CONFIG_DIR + "/uv.toml";

  private InjectedLayout() {}
}
