package dev.pypimirror.operator.cache;

import dev.pypimirror.operator.simple.ProjectName;
import java.util.Optional;

/** A wheel or sdist file name, parsed into its project name and version (PEP 427, PEP 625). */
public record DistributionFile(String fileName, String project, String version) {
  private static final String[] SDIST_SUFFIXES = {
    ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar"
  };

  /** PEP 503 normalized name: runs of -, _ and . become one -, lower case. */
  public static String normalize(String name) {
    return ProjectName.normalize(name);
  }

  public String normalizedProject() {
    return normalize(project);
  }

  /** The distribution a file name describes, or empty when it is not a wheel or sdist name. */
  public static Optional<DistributionFile> parse(String fileName) {
    if (fileName.endsWith(".whl")) {
      // {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl
      String[] parts = fileName.substring(0, fileName.length() - 4).split("-");
      if (parts.length != 5 && parts.length != 6) {
        return Optional.empty();
      }
      if (parts[0].isEmpty() || !startsWithDigit(parts[1])) {
        return Optional.empty();
      }
      return Optional.of(new DistributionFile(fileName, parts[0], parts[1]));
    }
    for (String suffix : SDIST_SUFFIXES) {
      if (fileName.endsWith(suffix)) {
        String stem = fileName.substring(0, fileName.length() - suffix.length());
        // the version begins after the last '-' that is followed by a digit: legacy sdist names
        // keep their dashes (python-dateutil-2.8.2), and a name may hold "-<digit>" (foo-2fa-1.0)
        for (int i = stem.length() - 2; i > 0; i--) {
          if (stem.charAt(i) == '-' && Character.isDigit(stem.charAt(i + 1))) {
            return Optional.of(
                new DistributionFile(fileName, stem.substring(0, i), stem.substring(i + 1)));
          }
        }
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  private static boolean startsWithDigit(String s) {
    return !s.isEmpty() && Character.isDigit(s.charAt(0));
  }
}
