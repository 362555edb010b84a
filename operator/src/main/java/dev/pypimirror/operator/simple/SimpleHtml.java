package dev.pypimirror.operator.simple;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEP 503 HTML pages: rendered for {@code index} and the proxy alike, and parsed from an upstream.
 */
public final class SimpleHtml {
  public static final String CONTENT_TYPE = "text/html";

  private static final Pattern ENTITY =
      Pattern.compile("&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{1,32});");

  /** {@code name=hex}: hashlib's names (sha3_256 has an underscore). */
  private static final Pattern HASH_FRAGMENT = Pattern.compile("([a-z0-9_]+)=([0-9a-fA-F]+)");

  private SimpleHtml() {}

  /**
   * A project's page: one link per file in the given order, each with the hash {@link
   * FileHash#expected} picks from its hashes when pip and uv both read that one ({@code #sha256=}
   * when it has one), and the PEP 503/592/658/714 attributes it has. {@code marker} (may be null)
   * is a comment line after {@code <body>}.
   */
  public static String projectPage(String project, List<FileLink> files, String marker) {
    StringBuilder html = new StringBuilder(header(project, marker));
    html.append("<h1>Links for ").append(escape(project)).append("</h1>\n");
    for (FileLink file : files) {
      html.append("<a href=\"").append(escape(file.url()));
      FileHash.expected(file.hashes())
          .filter(FileHash::readByEveryClient)
          .ifPresent(hash -> html.append('#').append(hash));
      html.append('"');
      if (!file.requiresPython().isEmpty()) {
        html.append(" data-requires-python=\"").append(escape(file.requiresPython())).append('"');
      }
      if (file.yanked() != null) {
        html.append(" data-yanked=\"").append(escape(file.yanked())).append('"');
      }
      if (file.coreMetadata() != null) {
        String value = metadataAttribute(file.coreMetadata());
        html.append(" data-core-metadata=\"").append(value).append('"');
        html.append(" data-dist-info-metadata=\"").append(value).append('"');
      }
      html.append('>').append(escape(file.filename())).append("</a><br/>\n");
    }
    return html.append("</body>\n</html>\n").toString();
  }

  /** The root page: one link per project, relative ({@code name/}). */
  public static String rootPage(List<String> projects, String marker) {
    StringBuilder html = new StringBuilder(header("Simple index", marker));
    for (String project : projects) {
      html.append("<a href=\"")
          .append(encodePath(project))
          .append("/\">")
          .append(escape(project))
          .append("</a><br/>\n");
    }
    return html.append("</body>\n</html>\n").toString();
  }

  private static String header(String title, String marker) {
    return "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"1.0\">\n<title>"
        + escape(title)
        + "</title>\n</head>\n<body>\n"
        + (marker == null ? "" : marker + "\n");
  }

  private static String metadataAttribute(Map<String, String> hashes) {
    return FileHash.expected(hashes)
        .filter(FileHash::readByEveryClient)
        .map(FileHash::toString)
        .orElse("true");
  }

  /**
   * The files an upstream's PEP 503 page links to, as pip reads them: URLs made absolute against
   * the page's first {@code <base href>} (itself made absolute against {@code base}, the page's
   * URL) or else {@code base}; a file's name is the last segment of its URL's path, decoded (the
   * link's text, which PEP 503 says must be the same, is not trusted to be). Anchors without an
   * {@code href}, and links whose URL does not parse or would take {@link LinkTargets} more than
   * linear time to resolve, are dropped. Linear in the page's length, whatever it holds.
   */
  public static ProjectPage parse(String project, String html, URI base) {
    List<FileLink> files = new ArrayList<>();
    HtmlAnchors.Page page = HtmlAnchors.read(html);
    LinkTargets targets = new LinkTargets(base);
    if (page.baseHref() != null) {
      Optional<URI> declared = targets.resolve(href(page.baseHref()));
      if (declared.isPresent()) {
        targets = new LinkTargets(declared.get());
      }
    }
    for (HtmlAnchors.Anchor anchor : page.anchors()) {
      Map<String, String> attributes = anchor.attributes();
      String href = attributes.get("href");
      Optional<URI> resolved =
          href == null || href.isBlank() ? Optional.empty() : targets.resolve(href(href));
      Optional<String> filename = resolved.flatMap(SimpleHtml::filename);
      if (filename.isEmpty()) {
        continue;
      }
      URI url = resolved.get();
      Map<String, String> hashes = fragmentHashes(url.getRawFragment());
      String metadata =
          attributes.getOrDefault("data-core-metadata", attributes.get("data-dist-info-metadata"));
      files.add(
          new FileLink(
              filename.get(),
              withoutFragment(url),
              hashes,
              attributes.getOrDefault("data-requires-python", ""),
              attributes.get("data-yanked"),
              metadata == null ? null : metadataHashes(metadata)));
    }
    return new ProjectPage(project, files);
  }

  private static String href(String value) {
    return value.strip().replace(" ", "%20");
  }

  /**
   * A file's name as pip takes it from its URL: the last segment of the path (trailing slashes left
   * out), percent-decoded; empty when there is none.
   */
  public static Optional<String> filename(URI url) {
    String path = url.getPath();
    if (path == null) {
      return Optional.empty();
    }
    int end = path.length();
    while (end > 0 && path.charAt(end - 1) == '/') {
      end--;
    }
    String name = path.substring(path.lastIndexOf('/', end - 1) + 1, end);
    return name.isEmpty() ? Optional.empty() : Optional.of(name);
  }

  /** The project names a root page links to. */
  public static List<String> parseRoot(String html) {
    List<String> names = new ArrayList<>();
    for (HtmlAnchors.Anchor anchor : HtmlAnchors.in(html)) {
      ProjectName.parse(anchor.text()).ifPresent(names::add);
    }
    return names;
  }

  private static Map<String, String> metadataHashes(String value) {
    Matcher hash = HASH_FRAGMENT.matcher(value.strip());
    return hash.matches()
        ? Map.of(hash.group(1).toLowerCase(Locale.ROOT), hash.group(2).toLowerCase(Locale.ROOT))
        : Map.of();
  }

  /**
   * The hashes a link's fragment gives: each {@code &}-separated {@code name=hex} part (the first
   * of a name counts), as pip reads {@code #sha256=...} also beside other parts ({@code
   * #egg=foo&sha256=...}, {@code #sha256=...&subdirectory=...}).
   */
  static Map<String, String> fragmentHashes(String fragment) {
    Map<String, String> hashes = new LinkedHashMap<>();
    if (fragment == null) {
      return hashes;
    }
    for (String part : fragment.split("&", -1)) {
      Matcher hash = HASH_FRAGMENT.matcher(part);
      if (hash.matches()) {
        hashes.putIfAbsent(
            hash.group(1).toLowerCase(Locale.ROOT), hash.group(2).toLowerCase(Locale.ROOT));
      }
    }
    return hashes;
  }

  private static String withoutFragment(URI url) {
    String s = url.toString();
    int hash = s.indexOf('#');
    return hash < 0 ? s : s.substring(0, hash);
  }

  static String unescape(String s) {
    if (s.indexOf('&') < 0) {
      return s;
    }
    Matcher entity = ENTITY.matcher(s);
    StringBuilder out = new StringBuilder();
    while (entity.find()) {
      String name = entity.group(1);
      String replacement;
      if (name.startsWith("#x") || name.startsWith("#X")) {
        replacement = codePoint(Integer.parseInt(name.substring(2), 16), entity.group());
      } else if (name.startsWith("#")) {
        replacement = codePoint(Integer.parseInt(name.substring(1)), entity.group());
      } else {
        replacement =
            switch (name) {
              case "amp" -> "&";
              case "lt" -> "<";
              case "gt" -> ">";
              case "quot" -> "\"";
              case "apos" -> "'";
              default -> entity.group();
            };
      }
      entity.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    entity.appendTail(out);
    return out.toString();
  }

  private static String codePoint(int c, String literal) {
    return Character.isValidCodePoint(c) && c != 0 ? new String(Character.toChars(c)) : literal;
  }

  /** Text for HTML content and double-quoted attributes. */
  public static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&#39;");
  }

  /**
   * A relative path as an href: every byte but unreserved characters and '/' percent-encoded, so a
   * name can neither end the attribute, start a fragment or query, nor read as a scheme.
   */
  public static String encodePath(String path) {
    StringBuilder out = new StringBuilder();
    for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c >= 'a' && c <= 'z'
          || c >= 'A' && c <= 'Z'
          || c >= '0' && c <= '9'
          || "-._~/".indexOf(c) >= 0) {
        out.append((char) c);
      } else {
        out.append('%').append(String.format("%02X", c));
      }
    }
    return out.toString();
  }
}
