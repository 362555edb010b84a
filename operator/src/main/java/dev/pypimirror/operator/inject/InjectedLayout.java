package dev.pypimirror.operator.inject;

/** Where injected files live in a container, and the names of injected volumes. */
public final class InjectedLayout {
  public static final String CONFIG_VOLUME = "pypi-mirror-config";
  public static final String CACHE_VOLUME = "pypi-mirror-cache";
  public static final String CONFIG_DIR = "/etc/pypi-mirror";
  public static final String PIP_CONF = "/etc/pip.conf";
  public static final String UV_TOML = "/etc/uv/uv.toml";
  public static final String PYDISTUTILS_FILE = ".pydistutils.cfg";
  public static final String PIP_CONFIG_FILE_ENV = "PIP_CONFIG_FILE";
  public static final String PIP_CONFIG_FILE = CONFIG_DIR + "/pip.conf";
  public static final String UV_CONFIG_FILE_ENV = "UV_CONFIG_FILE";
  public static final String UV_CONFIG_FILE = CONFIG_DIR + "/uv.toml";

  private InjectedLayout() {}
}
