package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.simple.ProjectName;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * What a request path asks for. The raw path is checked before anything is decoded: no encoded
 * separator, dot or NUL, no backslash, no empty, "." or ".." segment; anything else is {@link
 * NotFound}. A project name spelt otherwise than normalized redirects to the normalized one.
 */
public sealed interface Route {
  /** What the operator asks: whether the cache's volume is full (JSON). */
  record Status() implements Route {}

  record Root() implements Route {}

  record Project(String name) implements Route {}

  /** A page under another spelling: answered with a redirect to {@code location} (relative). */
  record Redirect(String location) implements Route {}

  /** A file of a project's page, or its core metadata ({@code <file>.metadata}, PEP 658). */
  record File(String project, String filename, boolean metadata) implements Route {}

  record NotFound() implements Route {}

  String METADATA_SUFFIX = ".metadata";

  static Route of(String rawPath) {
    if (rawPath == null
        || !rawPath.startsWith("/")
        || rawPath.length() < 2
        || rawPath.length() > 1024) {
      return new NotFound();
    }
    if (rawPath.equals("/-/status")) {
      return new Status();
    }
    if (rawPath.equals("/simple/")) {
      return new Root();
    }
    if (encodesWhatMustNotBe(rawPath)) {
      return new NotFound();
    }
    boolean trailingSlash = rawPath.endsWith("/");
    String[] segments =
        decodedSegments(
            rawPath.substring(1, trailingSlash ? rawPath.length() - 1 : rawPath.length()));
    if (segments == null) {
      return new NotFound();
    }
    if (segments.length == 2 && segments[0].equals("simple")) {
      return project(segments[1], trailingSlash);
    }
    if (segments.length == 3 && segments[0].equals("files") && !trailingSlash) {
      return file(segments[1], segments[2]);
    }
    return new NotFound();
  }

  /** A backslash, or an encoded separator, dot, NUL or percent sign. */
  private static boolean encodesWhatMustNotBe(String rawPath) {
    String lower = rawPath.toLowerCase(Locale.ROOT);
    return rawPath.indexOf('\\') >= 0
        || lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("%2e")
        || lower.contains("%00")
        || lower.contains("%25");
  }

  /** The path's segments decoded; null when one is malformed, empty, "." or "..", or controls. */
  private static String[] decodedSegments(String path) {
    String[] segments = path.split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      String segment = decode(segments[i]);
      if (segment == null
          || segment.isEmpty()
          || segment.equals(".")
          || segment.equals("..")
          || segment.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        return null;
      }
      segments[i] = segment;
    }
    return segments;
  }

  /** {@code /simple/<name>/}: the project, or a redirect to its normalized name. */
  private static Route project(String name, boolean trailingSlash) {
    var normalized = ProjectName.parse(name);
    if (normalized.isEmpty()) {
      return new NotFound();
    }
    if (!trailingSlash) {
      return new Redirect(normalized.get() + "/");
    }
    return normalized.get().equals(name)
        ? new Project(name)
        : new Redirect("../" + normalized.get() + "/");
  }

  /** {@code /files/<project>/<file>}: only under the normalized name, a plain file name. */
  private static Route file(String project, String name) {
    var normalized = ProjectName.parse(project);
    boolean metadata = name.endsWith(METADATA_SUFFIX);
    String filename = metadata ? name.substring(0, name.length() - METADATA_SUFFIX.length()) : name;
    if (normalized.isEmpty()
        || !normalized.get().equals(project)
        || !FileStore.plainName(filename)) {
      return new NotFound();
    }
    return new File(project, filename, metadata);
  }

  /** Percent-decoding of one segment as UTF-8; null when malformed. */
  private static String decode(String segment) {
    if (segment.indexOf('%') < 0) {
      return segment;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c == '%') {
        if (i + 2 >= segment.length()) {
          return null;
        }
        int hi = Character.digit(segment.charAt(i + 1), 16);
        int lo = Character.digit(segment.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else if (c < 0x80) {
        out.write(c);
      } else {
        return null;
      }
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(out.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
