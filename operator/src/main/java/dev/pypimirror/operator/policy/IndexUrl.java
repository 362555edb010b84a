package dev.pypimirror.operator.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An index URL parsed and normalised for comparison with {@code allowedIndexPrefixes}: scheme and
 * host lower-cased, the scheme's default port dropped, the path as percent-decoded segments. What a
 * client or server might read differently from the way it is written is refused rather than guessed
 * at: dot segments (also percent-encoded), userinfo, backslashes, encoded slashes, control and
 * non-ASCII characters, query strings and fragments, hosts ending in a dot.
 *
 * @param segments the path's segments, decoded; a trailing slash adds no segment
 */
public record IndexUrl(String scheme, String host, int port, List<String> segments) {

  /** A URL that cannot be compared safely; the message says why. */
  public static final class UnsafeUrlException extends IllegalArgumentException {
    UnsafeUrlException(String message) {
      super(message);
    }
  }

  /**
   * @throws UnsafeUrlException when the URL is not one that can be compared safely
   */
  public static IndexUrl parse(String url) {
    if (url == null || url.isEmpty()) {
      throw new UnsafeUrlException("empty");
    }
    for (int i = 0; i < url.length(); i++) {
      char c = url.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        throw new UnsafeUrlException("it contains a space, control or non-ASCII character");
      }
      if (c == '\\') {
        throw new UnsafeUrlException("it contains a backslash");
      }
    }
    if (url.contains("$(")) {
      throw new UnsafeUrlException("it contains $(, which Kubernetes expands in env values");
    }
    int colon = url.indexOf("://");
    if (colon <= 0 || !url.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
      throw new UnsafeUrlException("it has no scheme://");
    }
    String scheme = url.substring(0, colon).toLowerCase(Locale.ROOT);
    String rest = url.substring(colon + 3);
    if (rest.indexOf('?') >= 0 || rest.indexOf('#') >= 0) {
      throw new UnsafeUrlException("it has a query or fragment");
    }
    int slash = rest.indexOf('/');
    String authority = slash < 0 ? rest : rest.substring(0, slash);
    String path = slash < 0 ? "" : rest.substring(slash);
    if (authority.indexOf('@') >= 0) {
      throw new UnsafeUrlException("it has userinfo (user@host)");
    }
    if (authority.indexOf('%') >= 0) {
      throw new UnsafeUrlException("its host is percent-encoded");
    }
    String host = authority;
    int port = defaultPort(scheme);
    int portColon = authority.lastIndexOf(':');
    if (portColon >= 0 && portColon > authority.lastIndexOf(']')) {
      host = authority.substring(0, portColon);
      String digits = authority.substring(portColon + 1);
      if (!digits.isEmpty()) {
        if (!digits.matches("[0-9]{1,5}") || Integer.parseInt(digits) > 65535) {
          throw new UnsafeUrlException("its port is not a number from 0 to 65535");
        }
        port = Integer.parseInt(digits);
      }
    }
    host = host.toLowerCase(Locale.ROOT);
    if (host.endsWith(".")) {
      throw new UnsafeUrlException("its host ends with a dot");
    }
    if (!host.isEmpty() && !host.matches("\\[[0-9a-f:.]+\\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?")) {
      throw new UnsafeUrlException("its host is not a DNS name or IP address");
    }
    if (host.isEmpty() && !scheme.equals("file")) {
      throw new UnsafeUrlException("it has no host");
    }
    return new IndexUrl(scheme, host, port, segments(path));
  }

  /**
   * Whether this URL is {@code prefix} or lies below it: same scheme, host and port, and the
   * prefix's path segments begin this one's (so {@code /root/pypi} covers {@code /root/pypi/x} but
   * not {@code /root/pypi-other}).
   */
  public boolean isUnder(IndexUrl prefix) {
    return scheme.equals(prefix.scheme)
        && host.equals(prefix.host)
        && port == prefix.port
        && segments.size() >= prefix.segments.size()
        && segments.subList(0, prefix.segments.size()).equals(prefix.segments);
  }

  private static int defaultPort(String scheme) {
    return switch (scheme) {
      case "http" -> 80;
      case "https" -> 443;
      default -> -1;
    };
  }

  private static List<String> segments(String path) {
    List<String> segments = new ArrayList<>();
    if (path.isEmpty()) {
      return segments;
    }
    String[] raw = path.substring(1).split("/", -1);
    for (int i = 0; i < raw.length; i++) {
      String segment = decode(raw[i]);
      if (segment.equals(".") || segment.equals("..")) {
        throw new UnsafeUrlException("its path has a dot segment (" + raw[i] + ")");
      }
      if (i == raw.length - 1 && segment.isEmpty()) {
        break; // the trailing slash
      }
      segments.add(segment);
    }
    return segments;
  }

  /** Percent-decodes one segment; an encoded slash, backslash or control character is refused. */
  private static String decode(String segment) {
    StringBuilder decoded = new StringBuilder(segment.length());
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c != '%') {
        decoded.append(c);
        continue;
      }
      if (i + 2 >= segment.length()
          || Character.digit(segment.charAt(i + 1), 16) < 0
          || Character.digit(segment.charAt(i + 2), 16) < 0) {
        throw new UnsafeUrlException("it has a malformed percent-encoding");
      }
      char value = (char) Integer.parseInt(segment.substring(i + 1, i + 3), 16);
      if (value == '/' || value == '\\' || value == '%' || value < 0x20 || value >= 0x7f) {
        throw new UnsafeUrlException(
            "its path encodes a slash, backslash, percent sign or control character");
      }
      decoded.append(value);
      i += 2;
    }
    return decoded.toString();
  }
}
