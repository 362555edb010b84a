package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.simple.FileLink;
import dev.pypimirror.operator.simple.PageFormat;
import dev.pypimirror.operator.simple.ProjectPage;
import dev.pypimirror.operator.simple.SimpleHtml;
import dev.pypimirror.operator.simple.SimpleJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * A project page as the proxy serves it, rendered once: its file links rewritten to the proxy
 * ({@code ../../files/<project>/<file>}), the bytes of each format, plain and gzipped, with their
 * validators; and, per file name, where the file comes from.
 */
public final class ServedPage {
  /**
   * Where a listed file comes from: an upstream's URL, or the cache alone ({@code upstream -1}).
   */
  public record Source(FileLink link, int upstream) {}

  private final String project;
  private final Map<String, Source> sources;
  private final byte[][] bodies = new byte[PageFormat.values().length * 2][];
  private final String tag;
  private final String lastModified;

  /**
   * @param page the files, with the URLs they are fetched at
   * @param upstreamOf for each file name, the upstream whose page listed it (-1: only the cache)
   */
  static ServedPage project(ProjectPage page, Map<String, Integer> upstreamOf, Instant changed) {
    String project = page.name();
    Map<String, Source> sources = new LinkedHashMap<>();
    List<FileLink> links = new ArrayList<>();
    for (FileLink f : page.files()) {
      sources.put(f.filename(), new Source(f, upstreamOf.getOrDefault(f.filename(), -1)));
      links.add(
          f.at(
              "../../files/"
                  + SimpleHtml.encodePath(project)
                  + "/"
                  + SimpleHtml.encodePath(f.filename())));
    }
    return new ServedPage(
        project,
        sources,
        SimpleHtml.projectPage(project, links, null),
        SimpleJson.projectPage(new ProjectPage(project, links)),
        changed);
  }

  /** A root page: the projects, by name. */
  static ServedPage root(List<String> projects, Instant changed) {
    return new ServedPage(
        "", Map.of(), SimpleHtml.rootPage(projects, null), SimpleJson.rootPage(projects), changed);
  }

  private ServedPage(
      String project, Map<String, Source> sources, String html, byte[] json, Instant changed) {
    this.project = project;
    this.sources = Map.copyOf(sources);
    byte[] htmlBytes = html.getBytes(StandardCharsets.UTF_8);
    for (PageFormat format : PageFormat.values()) {
      byte[] plain = format.json() ? json : htmlBytes;
      bodies[format.ordinal() * 2] = plain;
      bodies[format.ordinal() * 2 + 1] = gzip(plain);
    }
    this.tag = HexFormat.of().formatHex(FileStore.sha256().digest(json), 0, 12);
    this.lastModified =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(changed.atOffset(ZoneOffset.UTC));
  }

  public String project() {
    return project;
  }

  public Source source(String filename) {
    return sources.get(filename);
  }

  public int files() {
    return sources.size();
  }

  public byte[] body(PageFormat format, boolean gzip) {
    return bodies[format.ordinal() * 2 + (gzip ? 1 : 0)];
  }

  /** The bytes of every representation (each format, plain and gzipped). */
  public long bytes() {
    long bytes = 0;
    for (byte[] body : bodies) {
      bytes += body.length;
    }
    return bytes;
  }

  /** A strong validator per representation (format and encoding). */
  public String etag(PageFormat format, boolean gzip) {
    return "\"" + tag + "-" + format.ordinal() + (gzip ? "-gz" : "") + "\"";
  }

  public String lastModified() {
    return lastModified;
  }

  private static byte[] gzip(byte[] plain) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(plain.length / 4 + 64);
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(plain);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
