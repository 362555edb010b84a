package dev.pypimirror.operator.config;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The requirement lines a cache sync downloads: PEP 508 specifiers by name only (no direct URL
 * references), each optionally pinned by {@code --hash=sha256:HEX} options. Every other pip option
 * ({@code -i}, {@code --extra-index-url}, {@code -f}, {@code --trusted-host}, {@code -r}, {@code
 * -e}, ...) is refused: an option could name an index that no policy has seen. Pure.
 */
public final class Requirements {
  /** The largest requirements text a sync carries (it travels in one environment variable). */
  public static final int MAX_TEXT_BYTES = 120_000;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?");
  private static final Pattern EXTRAS =
      Pattern.compile("\\[\\s*(?:" + NAME + "(?:\\s*,\\s*" + NAME + ")*)?\\s*\\]");
  private static final String CLAUSE = "(?:===|==|!=|~=|<=|>=|<|>)\\s*[A-Za-z0-9_.*+!-]+";
  private static final Pattern VERSIONS =
      Pattern.compile("\\(?\\s*" + CLAUSE + "(?:\\s*,\\s*" + CLAUSE + ")*\\s*\\)?");

  /**
   * A marker is checked token by token (pip parses its grammar): variables, operators, parentheses
   * and quoted strings without spaces, so nothing in it can read as an option to pip.
   */
  private static final Pattern MARKER_TOKEN =
      Pattern.compile(
          "\\s*(?:[a-z_]+|===|==|!=|~=|<=|>=|<|>|\\(|\\)|'[A-Za-z0-9._+*!<>=~,-]*'|\"[A-Za-z0-9._+*!<>=~,-]*\")");

  private static final Pattern HASH = Pattern.compile("--hash=sha256:([0-9a-fA-F]{64})");
  private static final Pattern PINNED = Pattern.compile("===?\\s*[A-Za-z0-9_.+!-]+(?![*\\w.])");
  private static final Pattern COMMENT = Pattern.compile("(^|\\s+)#.*$");

  /** One requirement and the sha256 digests (lower-case hex) its files may have. */
  public record Line(String requirement, List<String> sha256) {
    /** The line as pip reads it in a requirements file. */
    public String text() {
      StringBuilder line = new StringBuilder(requirement);
      sha256.forEach(h -> line.append(" --hash=sha256:").append(h));
      return line.toString();
    }
  }

  /** The lines of one sync, or every problem found, each naming where. */
  public record Parsed(List<Line> lines, List<String> problems) {
    public boolean hashed() {
      return lines.stream().anyMatch(l -> !l.sha256().isEmpty());
    }

    /** Every digest any line allows; empty when no line is hashed. */
    public Set<String> allowedSha256() {
      Set<String> all = new LinkedHashSet<>();
      lines.forEach(l -> all.addAll(l.sha256()));
      return all;
    }

    /** The requirements file the download step reads. */
    public String text() {
      StringBuilder text = new StringBuilder();
      lines.forEach(l -> text.append(l.text()).append('\n'));
      return text.toString();
    }
  }

  private Requirements() {}

  /** {@code spec.cache.packages}: one requirement per entry. */
  public static Parsed ofPackages(String field, List<String> packages) {
    List<String> entries = packages == null ? List.of() : packages;
    List<Line> lines = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      String entry = entries.get(i) == null ? "" : entries.get(i).strip();
      if (!entry.isEmpty()) {
        parseLine(field + "[" + i + "]", entry, lines, problems);
      }
    }
    return finish(new Parsed(lines, problems));
  }

  /**
   * A requirements file: comments, blank lines and backslash continuations as pip reads them; every
   * other line one requirement.
   */
  public static Parsed ofFile(String where, String text) {
    List<Line> lines = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    String[] physical = (text == null ? "" : text).split("\r?\n", -1);
    StringBuilder logical = new StringBuilder();
    int start = 0;
    for (int i = 0; i < physical.length; i++) {
      if (logical.isEmpty()) {
        start = i + 1;
      }
      String line = physical[i];
      boolean continued = line.endsWith("\\") && !COMMENT.matcher(line).find();
      logical.append(continued ? line.substring(0, line.length() - 1) : line);
      if (continued && i + 1 < physical.length) {
        logical.append(' ');
        continue;
      }
      String content = COMMENT.matcher(logical.toString()).replaceAll("").strip();
      logical.setLength(0);
      if (!content.isEmpty()) {
        parseLine(where + " line " + start, content, lines, problems);
      }
    }
    return finish(new Parsed(lines, problems));
  }

  /** Both sources of one sync, in order: the packages, then the requirements file. */
  public static Parsed concat(Parsed first, Parsed second) {
    List<Line> lines = new ArrayList<>(first.lines());
    lines.addAll(second.lines());
    List<String> problems = new ArrayList<>(first.problems());
    problems.addAll(second.problems());
    return finish(new Parsed(lines, problems));
  }

  private static void parseLine(String where, String line, List<Line> lines, List<String> out) {
    if (line.contains("$")) {
      // pip expands ${VAR} in requirement files: a value could hide an option
      out.add(where + ": '$' is not allowed (pip would expand environment variables): " + line);
      return;
    }
    List<String> hashes = new ArrayList<>();
    String requirement = line;
    int option = optionStart(line);
    if (option >= 0) {
      requirement = line.substring(0, option).strip();
      for (String token : line.substring(option).strip().split("\\s+")) {
        Matcher hash = HASH.matcher(token);
        if (!hash.matches()) {
          out.add(
              where
                  + ": only requirement specifiers and --hash=sha256:<64 hex> are allowed, not pip"
                  + " options such as "
                  + quoted(token));
          return;
        }
        hashes.add(hash.group(1).toLowerCase(Locale.ROOT));
      }
    }
    String problem = specifierProblem(requirement);
    if (problem != null) {
      out.add(where + ": " + problem + ": " + quoted(requirement));
      return;
    }
    lines.add(new Line(requirement, List.copyOf(new LinkedHashSet<>(hashes))));
  }

  /** Where pip would see options begin: the first whitespace-separated token starting with '-'. */
  private static int optionStart(String line) {
    Matcher token = Pattern.compile("(?:^|\\s)(-)").matcher(line);
    return token.find() ? token.start(1) : -1;
  }

  /** Why {@code requirement} is not a PEP 508 specifier by name, or null when it is one. */
  static String specifierProblem(String requirement) {
    if (requirement.isEmpty()) {
      return "no requirement before the options";
    }
    Matcher name = NAME.matcher(requirement);
    if (!name.lookingAt()) {
      return "not a requirement specifier (it must start with a project name)";
    }
    int at = skipSpaces(requirement, name.end());
    Matcher extras = EXTRAS.matcher(requirement).region(at, requirement.length());
    if (extras.lookingAt()) {
      at = skipSpaces(requirement, extras.end());
    }
    if (at < requirement.length() && requirement.charAt(at) == '@') {
      return "direct URL references are not allowed (the cache is filled from indexes only)";
    }
    Matcher versions = VERSIONS.matcher(requirement).region(at, requirement.length());
    if (versions.lookingAt()) {
      at = skipSpaces(requirement, versions.end());
    }
    if (at == requirement.length()) {
      return null;
    }
    if (requirement.charAt(at) != ';') {
      return "not a requirement specifier (unexpected " + quoted(requirement.substring(at)) + ")";
    }
    String marker = requirement.substring(at + 1);
    Matcher token = MARKER_TOKEN.matcher(marker);
    int pos = 0;
    while (pos < marker.length() && token.region(pos, marker.length()).lookingAt()) {
      pos = token.end();
    }
    if (marker.isBlank() || !marker.substring(pos).isBlank()) {
      return "environment marker not understood (variables, operators and quoted values without"
          + " spaces only)";
    }
    return null;
  }

  /** pip's hash-checking mode: once one line is hashed, every line must be, and pinned with ==. */
  private static Parsed finish(Parsed parsed) {
    List<String> problems = new ArrayList<>(parsed.problems());
    if (parsed.hashed()) {
      for (Line line : parsed.lines()) {
        if (line.sha256().isEmpty()) {
          problems.add(
              "hash-checking mode (some lines carry --hash): every requirement needs one; "
                  + quoted(line.requirement())
                  + " has none");
        } else if (!PINNED.matcher(versionPart(line.requirement())).find()) {
          problems.add(
              "hash-checking mode: every requirement must be pinned with ==; "
                  + quoted(line.requirement())
                  + " is not");
        }
      }
    }
    if (problems.isEmpty()
        && parsed.text().getBytes(java.nio.charset.StandardCharsets.UTF_8).length
            > MAX_TEXT_BYTES) {
      problems.add(
          "the requirements of one sync are at most %d bytes, got %d"
              .formatted(
                  MAX_TEXT_BYTES,
                  parsed.text().getBytes(java.nio.charset.StandardCharsets.UTF_8).length));
    }
    return new Parsed(parsed.lines(), List.copyOf(new LinkedHashSet<>(problems)));
  }

  private static String versionPart(String requirement) {
    int marker = requirement.indexOf(';');
    return marker < 0 ? requirement : requirement.substring(0, marker);
  }

  private static int skipSpaces(String s, int from) {
    while (from < s.length() && Character.isWhitespace(s.charAt(from))) {
      from++;
    }
    return from;
  }

  private static String quoted(String s) {
    return "'" + (s.length() > 200 ? s.substring(0, 200) + "..." : s) + "'";
  }
}
