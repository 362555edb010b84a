package dev.pypimirror.operator.cache;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Makes a directory a PEP 503 simple index in place: {@code DIR/index.html} and {@code
 * DIR/<normalized-project>/index.html} linking, relatively and with {@code #sha256=}, to every
 * wheel and sdist found anywhere under DIR. Each page is written to a temporary file and renamed
 * into place, and only when its bytes change; no package file is ever moved or deleted.
 */
public final class SimpleIndexBuilder {
  /** Marks the pages this builder writes, so it may rewrite them and nothing else. */
  static final String MARKER = "<!-- pypi-mirror-operator simple index -->";

  /** What a build found and did. */
  public record Summary(
      int projects, int files, long bytes, int pagesWritten, List<String> skipped) {
    /** The one-line JSON the sync Job leaves as its termination message. */
    public String json() {
      return "{\"projects\":%d,\"files\":%d,\"bytes\":%d,\"pagesWritten\":%d,\"skipped\":%d}"
          .formatted(projects, files, bytes, pagesWritten, skipped.size());
    }
  }

  private record Found(Path path, DistributionFile distribution) {}

  private SimpleIndexBuilder() {}

  public static Summary build(Path root) throws IOException {
    Path dir = root.toRealPath();
    List<Path> candidates = new ArrayList<>();
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
            return !d.equals(dir) && d.getFileName().toString().startsWith(".")
                ? FileVisitResult.SKIP_SUBTREE
                : FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            String name = file.getFileName().toString();
            if (attrs.isRegularFile()
                && !name.startsWith(".")
                && DistributionFile.parse(name).isPresent()) {
              candidates.add(file);
            }
            return FileVisitResult.CONTINUE;
          }
        });
    // path order, not the file system's listing order: the same tree gives the same bytes
    candidates.sort(null);
    Map<String, List<Found>> projects = new TreeMap<>();
    Map<String, Path> seenNames = new TreeMap<>();
    List<String> skipped = new ArrayList<>();
    long bytes = 0;
    for (Path file : candidates) {
      String name = file.getFileName().toString();
      Path earlier = seenNames.putIfAbsent(name, file);
      if (earlier != null) {
        skipped.add(dir.relativize(file) + " (same file name as " + dir.relativize(earlier) + ")");
        continue;
      }
      DistributionFile distribution = DistributionFile.parse(name).orElseThrow();
      projects
          .computeIfAbsent(distribution.normalizedProject(), k -> new ArrayList<>())
          .add(new Found(file, distribution));
      bytes += Files.size(file);
    }
    int written = 0;
    for (var project : projects.entrySet()) {
      Path page = dir.resolve(project.getKey()).resolve("index.html");
      List<Found> files = new ArrayList<>(project.getValue());
      files.sort((a, b) -> a.distribution().fileName().compareTo(b.distribution().fileName()));
      StringBuilder html = new StringBuilder(header(project.getKey()));
      html.append("<h1>Links for ").append(escape(project.getKey())).append("</h1>\n");
      for (Found found : files) {
        String href = page.getParent().relativize(found.path()).toString().replace('\\', '/');
        html.append("<a href=\"")
            .append(escapeHref(href))
            .append("#sha256=")
            .append(sha256(found.path()))
            .append("\">")
            .append(escape(found.distribution().fileName()))
            .append("</a><br/>\n");
      }
      html.append("</body>\n</html>\n");
      written += writeIfChanged(page, html.toString()) ? 1 : 0;
    }
    written += emptyStalePages(dir, projects.keySet());
    StringBuilder rootPage = new StringBuilder(header("Simple index"));
    for (String project : projects.keySet()) {
      rootPage
          .append("<a href=\"")
          .append(project)
          .append("/\">")
          .append(project)
          .append("</a><br/>\n");
    }
    rootPage.append("</body>\n</html>\n");
    written += writeIfChanged(dir.resolve("index.html"), rootPage.toString()) ? 1 : 0;
    int fileCount = projects.values().stream().mapToInt(List::size).sum();
    return new Summary(projects.size(), fileCount, bytes, written, List.copyOf(skipped));
  }

  /** A project page of ours whose files are all gone lists nothing, so pip gets no dead link. */
  private static int emptyStalePages(Path dir, java.util.Set<String> projects) throws IOException {
    int written = 0;
    try (var children = Files.list(dir)) {
      for (Path child : children.sorted().toList()) {
        Path page = child.resolve("index.html");
        String name = child.getFileName().toString();
        if (Files.isDirectory(child)
            && !projects.contains(name)
            && Files.isRegularFile(page)
            && Files.readString(page).contains(MARKER)) {
          written +=
              writeIfChanged(
                      page,
                      header(name) + "<h1>Links for " + escape(name) + "</h1>\n</body>\n</html>\n")
                  ? 1
                  : 0;
        }
      }
    }
    return written;
  }

  private static String header(String title) {
    return "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"1.0\">\n<title>"
        + escape(title)
        + "</title>\n</head>\n<body>\n"
        + MARKER
        + "\n";
  }

  /** Writes {@code content} to a temporary file beside {@code page} and renames it into place. */
  static boolean writeIfChanged(Path page, String content) throws IOException {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    if (Files.isRegularFile(page) && Arrays.equals(Files.readAllBytes(page), bytes)) {
      return false;
    }
    Files.createDirectories(page.getParent());
    Path temporary = Files.createTempFile(page.getParent(), ".index-", ".html.tmp");
    try {
      Files.write(temporary, bytes);
      try {
        Files.move(
            temporary, page, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, page, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
    return true;
  }

  static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  /** Percent-encodes what may not stand in a URL path (a '+' in a local version, spaces, '#'). */
  private static String escapeHref(String path) {
    StringBuilder out = new StringBuilder();
    for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if (Character.isLetterOrDigit(c) && c < 128 || "-._~/!$'()*,;=:@".indexOf(c) >= 0) {
        out.append(c);
      } else {
        out.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return out.toString();
  }
}
