package dev.pypimirror.operator.cache;

import dev.pypimirror.operator.cache.ConfinedFolder.LeftAlone;
import dev.pypimirror.operator.simple.FileLink;
import dev.pypimirror.operator.simple.SimpleHtml;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Makes a directory a PEP 503 simple index in place: {@code DIR/index.html} and {@code
 * DIR/<normalized-project>/index.html} linking, relatively and with {@code #sha256=} and {@code
 * data-requires-python}, to every wheel and sdist found anywhere under DIR.
 *
 * <p>It never harms what it finds: no package file is moved, changed or deleted; a page that is not
 * ours (no {@link #MARKER}), a symbolic link or anything written through one is left alone; nothing
 * is written outside DIR. Pages are written to a temporary file and renamed into place, only when
 * their bytes change, with mode 0644 in folders of mode 0755 whatever the umask, so a build pod of
 * any uid can read them. What cannot be read is skipped with a warning; the rest is indexed.
 */
public final class SimpleIndexBuilder {
  /** Marks the pages this builder writes, so it may rewrite them and nothing else. */
  static final String MARKER = "<!-- pypi-mirror-operator simple index -->";

  /** How much of an existing page is read to tell whether it is ours. */
  private static final int PAGE_PROBE = 4096;

  private static final int CACHE_LIMIT = 64 << 20;

  /**
   * What a build found and did. {@code skipped}: one message for each file or folder left out of
   * the index or left alone, of which {@code unreadable} could not be read; {@code warnings}: what
   * was indexed but deserves a look (e.g. a package file other uids cannot read).
   */
  public record Summary(
      int projects,
      int files,
      long bytes,
      int pagesWritten,
      List<String> skipped,
      int unreadable,
      List<String> warnings) {
    /** The one-line JSON the sync Job leaves as its termination message. */
    public String json() {
      return ("{\"projects\":%d,\"files\":%d,\"bytes\":%d,\"pagesWritten\":%d,\"skipped\":%d,"
              + "\"unreadable\":%d}")
          .formatted(projects, files, bytes, pagesWritten, skipped.size(), unreadable);
    }
  }

  /** A package file found under DIR. */
  private record Found(
      Path path, DistributionFile distribution, FileFacts.Key key, String notReadableByAll) {}

  /** A package file with what reading it told us: one link on its project's page. */
  record Link(String relativePath, String fileName, FileFacts facts) {}

  /** What the run has to say, gathered as it goes. */
  private static final class Report {
    final List<String> skipped = new ArrayList<>();
    final List<String> warnings = new ArrayList<>();
    final Set<String> unreadablePaths = new java.util.HashSet<>();
    int unreadable;

    void unreadable(String what, IOException e) {
      skipped.add(what + ": cannot read it (" + reason(e) + ")");
      unreadablePaths.add(what);
      unreadable++;
    }
  }

  private SimpleIndexBuilder() {}

  public static Summary build(Path root) throws IOException {
    Path dir = root.toRealPath();
    Report report = new Report();
    List<Found> found = scan(dir, report);
    try (ConfinedFolder index = ConfinedFolder.openRoot(dir)) {
      Projects projects = read(dir, found, readCache(index, report), report);
      Pages pages = writeProjectPages(index, projects, report);
      int written = pages.written() + emptyStalePages(index, projects.links().keySet());
      try {
        written += writePage(index, rootPage(pages.listed())) ? 1 : 0;
      } catch (LeftAlone e) {
        report.skipped.add(e.getMessage() + ": left alone (not written by index)");
      }
      writeCache(index, projects.facts(), report);
      return new Summary(
          pages.listed().size(),
          pages.files(),
          pages.bytes(),
          written,
          List.copyOf(report.skipped),
          report.unreadable,
          List.copyOf(report.warnings));
    }
  }

  /**
   * The package files found, read: each project's links (by normalized name, in name order), its
   * bytes, and the facts of every file for the cache.
   */
  private record Projects(
      Map<String, List<Link>> links,
      Map<String, Long> bytes,
      Map<FileFacts.Key, FileFacts> facts) {}

  /** What writing the project pages did: pages written, projects listed, their files and bytes. */
  private record Pages(int written, List<String> listed, int files, long bytes) {}

  /**
   * Reads each file found (from {@code cached} when its name, size and time are known); a second
   * file of a name already seen, and a file that cannot be read, is skipped.
   */
  private static Projects read(
      Path dir, List<Found> found, Map<FileFacts.Key, FileFacts> cached, Report report) {
    Map<FileFacts.Key, FileFacts> facts = new HashMap<>();
    Map<String, List<Link>> projects = new TreeMap<>();
    Map<String, Path> seenNames = new HashMap<>();
    Map<String, Long> projectBytes = new HashMap<>();
    for (Found file : found) {
      String name = file.distribution().fileName();
      Path relative = dir.relativize(file.path());
      Path earlier = seenNames.putIfAbsent(name, relative);
      if (earlier != null) {
        report.skipped.add(relative + ": same file name as " + earlier);
        continue;
      }
      FileFacts known = cached.get(file.key());
      if (known == null) {
        try {
          known = read(file.path(), name);
        } catch (IOException e) {
          seenNames.remove(name);
          report.unreadable(relative.toString(), e);
          continue;
        }
      }
      facts.put(file.key(), known);
      if (file.notReadableByAll() != null) {
        report.warnings.add(file.notReadableByAll());
      }
      String project = file.distribution().normalizedProject();
      projects
          .computeIfAbsent(project, k -> new ArrayList<>())
          .add(new Link(relative.toString().replace('\\', '/'), name, known));
      projectBytes.merge(project, file.key().size(), Long::sum);
    }
    return new Projects(projects, projectBytes, facts);
  }

  /**
   * Writes each project's page in its folder; a folder or page that is not ours, or that this uid
   * may not write, leaves the project unlisted.
   */
  private static Pages writeProjectPages(ConfinedFolder index, Projects projects, Report report)
      throws IOException {
    int written = 0;
    List<String> listed = new ArrayList<>();
    int files = 0;
    long bytes = 0;
    for (var project : projects.links().entrySet()) {
      try (ConfinedFolder folder = index.folder(project.getKey(), true)) {
        written += writePage(folder, projectPage(project.getKey(), project.getValue())) ? 1 : 0;
        makeReadableByAll(folder, report);
        listed.add(project.getKey());
        files += project.getValue().size();
        bytes += projects.bytes().get(project.getKey());
      } catch (LeftAlone e) {
        report.skipped.add(
            e.getMessage() + ": left alone, so project " + project.getKey() + " is not indexed");
      } catch (AccessDeniedException e) {
        // e.g. a folder an earlier run left owner-only under another uid: the rest goes on
        if (!report.unreadablePaths.contains(project.getKey())) { // else said already
          report.skipped.add(
              project.getKey()
                  + ": permission denied on its folder or page, so its page is not updated");
        }
      }
    }
    return new Pages(written, listed, files, bytes);
  }

  /**
   * Every wheel and sdist under DIR, in path order (the same tree gives the same bytes). Links are
   * not followed; hidden files and folders are not looked at; what cannot be read is reported.
   */
  private static List<Found> scan(Path dir, Report report) throws IOException {
    PackageWalk walk = new PackageWalk(dir, report);
    Files.walkFileTree(dir, walk);
    walk.found.sort(Comparator.comparing(Found::path));
    return walk.found;
  }

  /** The walk of {@link #scan}: what it found, and whether every uid can reach where it is. */
  private static final class PackageWalk extends SimpleFileVisitor<Path> {
    private final Path dir;
    private final Report report;
    private final List<Found> found = new ArrayList<>();

    /** Whether every uid can reach into the folder being walked (each ancestor has o+x). */
    private final Deque<Boolean> reachable = new ArrayDeque<>();

    PackageWalk(Path dir, Report report) {
      this.dir = dir;
      this.report = report;
    }

    @Override
    public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
      if (!d.equals(dir) && d.getFileName().toString().startsWith(".")) {
        return FileVisitResult.SKIP_SUBTREE;
      }
      boolean parent = reachable.isEmpty() || reachable.peek();
      var permissions = permissions(d);
      boolean self = permissions.contains(PosixFilePermission.OTHERS_EXECUTE);
      if (parent && !self) {
        report.warnings.add(
            (d.equals(dir) ? d.toString() : dir.relativize(d).toString())
                + " is mode "
                + mode(permissions)
                + ": build pods of another uid cannot read what is in it");
      }
      reachable.push(parent && self);
      return FileVisitResult.CONTINUE;
    }

    @Override
    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
      String name = file.getFileName().toString();
      var distribution = DistributionFile.parse(name);
      if (attrs.isRegularFile() && !name.startsWith(".") && distribution.isPresent()) {
        var permissions = permissions(file);
        boolean readableByAll =
            !reachable.peek() || permissions.contains(PosixFilePermission.OTHERS_READ);
        found.add(
            new Found(
                file,
                distribution.get(),
                new FileFacts.Key(
                    name, attrs.size(), attrs.lastModifiedTime().to(TimeUnit.NANOSECONDS)),
                readableByAll
                    ? null
                    : dir.relativize(file)
                        + " is mode "
                        + mode(permissions)
                        + ": build pods of another uid cannot install it"));
      }
      return FileVisitResult.CONTINUE;
    }

    @Override
    public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
      if (file.equals(dir)) {
        throw e;
      }
      if (!(e instanceof NoSuchFileException)) { // gone since listed: nothing to index
        report.unreadable(dir.relativize(file).toString(), e);
      }
      return FileVisitResult.CONTINUE;
    }

    @Override
    public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
      reachable.pop();
      if (e != null) { // the listing broke off part way
        if (d.equals(dir)) {
          throw e;
        }
        report.unreadable(dir.relativize(d).toString(), e);
      }
      return FileVisitResult.CONTINUE;
    }
  }

  private static FileFacts read(Path file, String name) throws IOException {
    return new FileFacts(sha256(file), CoreMetadata.requiresPython(file, name));
  }

  /** A project's page: one link per file, in file-name order. */
  static String projectPage(String project, List<Link> links) {
    return SimpleHtml.projectPage(
        project,
        links.stream()
            .sorted(Comparator.comparing(Link::fileName))
            .map(
                link ->
                    new FileLink(
                        link.fileName(),
                        "../" + SimpleHtml.encodePath(link.relativePath()),
                        Map.of("sha256", link.facts().sha256()),
                        link.facts().requiresPython(),
                        null,
                        null))
            .toList(),
        MARKER);
  }

  /** The root page: one link per project. */
  static String rootPage(List<String> projects) {
    return SimpleHtml.rootPage(projects, MARKER);
  }

  /**
   * Writes {@code index.html} in {@code folder} when its bytes or its mode differ. A page there
   * that is not ours, or is not a regular file, is left alone.
   */
  private static boolean writePage(ConfinedFolder folder, String content) throws IOException {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    var attributes = folder.attributes("index.html");
    if (attributes.isPresent()) {
      byte[] existing =
          folder.read("index.html", Math.max(bytes.length + 1, PAGE_PROBE)).orElse(new byte[0]);
      if (!isOurs(existing)) {
        throw new LeftAlone(folder.path().resolve("index.html") + " was not written by index");
      }
      if (Arrays.equals(existing, bytes)
          && attributes.get().permissions().equals(ConfinedFolder.FILE_MODE)) {
        return false;
      }
    }
    folder.writeAtomically("index.html", bytes);
    return true;
  }

  private static boolean isOurs(byte[] page) {
    return new String(page, 0, Math.min(page.length, PAGE_PROBE), StandardCharsets.UTF_8)
        .contains(MARKER);
  }

  private static void makeReadableByAll(ConfinedFolder folder, Report report) {
    try {
      folder.makeReadableByAll();
    } catch (IOException e) {
      report.warnings.add(
          folder.path()
              + ": cannot make it readable by every uid ("
              + reason(e)
              + "); build pods of another uid may not read its page");
    }
  }

  /** A project page of ours whose files are all gone lists nothing, so pip gets no dead link. */
  private static int emptyStalePages(ConfinedFolder index, Set<String> projects)
      throws IOException {
    List<String> names = new ArrayList<>();
    try (var children = Files.newDirectoryStream(index.path())) {
      children.forEach(c -> names.add(c.getFileName().toString()));
    }
    names.sort(null);
    int written = 0;
    for (String name : names) {
      if (projects.contains(name) || name.startsWith(".")) {
        continue;
      }
      try (ConfinedFolder folder = index.folder(name, false)) {
        var page = folder.read("index.html", PAGE_PROBE);
        if (page.isPresent() && isOurs(page.get())) {
          written += writePage(folder, projectPage(name, List.of())) ? 1 : 0;
        }
      } catch (LeftAlone | AccessDeniedException | NoSuchFileException e) {
        // not a folder of ours
      }
    }
    return written;
  }

  private static Map<FileFacts.Key, FileFacts> readCache(ConfinedFolder index, Report report) {
    try {
      var content = index.read(FileFacts.FILE_NAME, CACHE_LIMIT);
      if (content.isPresent() && FileFacts.isOurs(content.get())) {
        return FileFacts.parse(content.get());
      }
    } catch (IOException e) {
      // read below as if there were no cache; writeCache says what is wrong
    }
    return Map.of();
  }

  private static void writeCache(
      ConfinedFolder index, Map<FileFacts.Key, FileFacts> facts, Report report) {
    byte[] content = FileFacts.format(facts);
    try {
      var existing = index.read(FileFacts.FILE_NAME, content.length + 1);
      if (existing.isPresent() && !FileFacts.isOurs(existing.get())) {
        throw new LeftAlone(
            index.path().resolve(FileFacts.FILE_NAME) + " was not written by index");
      }
      if (existing.isEmpty() || !Arrays.equals(existing.get(), content)) {
        index.writeAtomically(FileFacts.FILE_NAME, content);
      }
    } catch (IOException e) {
      report.warnings.add(
          "the metadata cache is not kept ("
              + reason(e)
              + "): the next run reads every file again");
    }
  }

  static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
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

  /** The entry's permissions, not following a link; all of them where there are none to read. */
  private static Set<PosixFilePermission> permissions(Path path) {
    try {
      return Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .permissions();
    } catch (IOException | UnsupportedOperationException e) {
      return EnumSet.allOf(PosixFilePermission.class);
    }
  }

  private static String mode(Set<PosixFilePermission> permissions) {
    int mode = 0;
    for (PosixFilePermission p : permissions) {
      mode |= 1 << (8 - p.ordinal());
    }
    return String.format("%04o", mode);
  }

  private static String reason(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }
}
