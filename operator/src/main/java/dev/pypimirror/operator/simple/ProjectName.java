package dev.pypimirror.operator.simple;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** Project names as the Simple Repository API uses them (PEP 503 normalization, PEP 508 names). */
public final class ProjectName {
  private static final Pattern SEPARATORS = Pattern.compile("[-_.]+");

  /** A PEP 508 name: letters and digits, with '.', '_' or '-' inside. */
  private static final Pattern VALID =
      Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]{0,198}[A-Za-z0-9])?");

  private ProjectName() {}

  /** PEP 503 normalized name: runs of -, _ and . become one -, lower case. */
  public static String normalize(String name) {
    return SEPARATORS.matcher(name).replaceAll("-").toLowerCase(Locale.ROOT);
  }

  /** The normalized name of a valid project name, or empty for anything else. */
  public static Optional<String> parse(String name) {
    return VALID.matcher(name).matches() ? Optional.of(normalize(name)) : Optional.empty();
  }
}
