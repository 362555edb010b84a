package dev.pypimirror.operator;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version and commit this jar was built from (build-info.properties, filled in by the build). A
 * value the build could not know (no .git and no commit given) reads "unknown".
 *
 * @param dirty whether the work tree had uncommitted changes; false when unknown
 */
public record BuildInfo(String version, String commit, boolean dirty) {
  public static final String UNKNOWN = "unknown";

  private static final BuildInfo CURRENT = load();

  public static BuildInfo current() {
    return CURRENT;
  }

  /** Reads the values as the build wrote them; placeholders the build left unfilled are unknown. */
  public static BuildInfo of(Properties properties) {
    return new BuildInfo(
        known(properties.getProperty("version")),
        known(properties.getProperty("commit")),
        "true".equals(properties.getProperty("dirty")));
  }

  private static String known(String value) {
    return value == null || value.isBlank() || value.contains("${") ? UNKNOWN : value.trim();
  }

  private static BuildInfo load() {
    Properties properties = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("build-info.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return of(properties);
  }

  /** What `version` and `--version` print: the version, then the commit. */
  public String[] lines() {
    return new String[] {
      "pypi-mirror-operator " + version, "commit " + commit + (dirty ? " (modified)" : "")
    };
  }
}
