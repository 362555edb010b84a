package dev.pypimirror.operator.cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * The trusted half of a cache sync: takes what the untrusted download step left in a scratch
 * directory and adds to {@code <cache>/_files/} only what it has checked. It reads the scratch
 * directory, never runs anything from it, and never overwrites or deletes a file in the cache.
 *
 * <p>A file is taken when it is a regular file directly in the scratch directory (no link, no
 * directory), has a wheel or sdist name of plain characters, is within the size limit, is a source
 * distribution only where the mirror allows them, is (for a wheel or a zip sdist) a readable zip
 * whose member names stay inside it (no absolute, {@code ..}, backslash or drive-letter names, no
 * duplicates) and whose wheel has its project's {@code .dist-info} with METADATA and WHEEL, and,
 * when the requirements carry hashes, has a sha256 they list. A file of the same name already in
 * the cache with the same bytes is "present"; with other bytes it is refused and the cached one
 * kept. With hashes, any refusal adds nothing at all: a pinned sync is all or nothing.
 */
public final class CacheIntake {
  /** Wheel and sdist names use these characters only (PEP 427 and PEP 625 escaping). */
  private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+!-]*");

  public record Options(long maxFileSize, boolean allowSourceDistributions, Set<String> sha256) {
    /** Whether the sync is hash-pinned: every file must have a listed digest. */
    public boolean pinned() {
      return !sha256.isEmpty();
    }
  }

  public record Refusal(String file, String reason) {
    @Override
    public String toString() {
      return file + ": " + reason;
    }
  }

  /** What was added (name and sha256), already present, and refused. */
  public record Result(
      TreeMap<String, String> added, List<String> present, List<Refusal> refused, boolean failed) {}

  private record Staged(String name, Path temporary, String sha256) {}

  /** What became of the entries so far: staged for the cache, already present, refused. */
  private static final class Tally {
    final List<Staged> staged = new ArrayList<>();
    final List<String> present = new ArrayList<>();
    final List<Refusal> refused = new ArrayList<>();

    void refuse(String name, String reason) {
      refused.add(new Refusal(name, reason));
    }
  }

  private CacheIntake() {}

  public static Result accept(Path downloads, Path cacheRoot, Options options) throws IOException {
    Path files = filesDirectory(cacheRoot);
    Tally tally = new Tally();
    try {
      for (Path entry : sortedEntries(downloads)) {
        take(entry, files, options, tally);
      }
      boolean failed = options.pinned() && !tally.refused.isEmpty();
      TreeMap<String, String> added = failed ? new TreeMap<>() : publishAll(tally, files);
      return new Result(added, List.copyOf(tally.present), List.copyOf(tally.refused), failed);
    } finally {
      for (Staged file : tally.staged) {
        Files.deleteIfExists(file.temporary());
      }
    }
  }

  /**
   * Checks one downloaded entry and copies it next to the cache's files: staged when it may be
   * added, else present or refused (and the copy deleted).
   */
  private static void take(Path entry, Path files, Options options, Tally tally)
      throws IOException {
    String name = entry.getFileName().toString();
    String problem = nameProblem(name, entry, options);
    if (problem != null) {
      tally.refuse(name, problem);
      return;
    }
    Path temporary = Files.createTempFile(files, ".intake-", ".part");
    boolean staged = false;
    try {
      String sha256 = copy(entry, temporary, options.maxFileSize());
      if (sha256 == null) {
        tally.refuse(name, "larger than the limit of " + options.maxFileSize());
        return;
      }
      problem = contentProblem(name, temporary, sha256, options);
      if (problem != null) {
        tally.refuse(name, problem);
        return;
      }
      Path cached = files.resolve(name);
      if (Files.exists(cached, LinkOption.NOFOLLOW_LINKS)) {
        compareWithCached(name, sha256, cached, tally);
        return;
      }
      tally.staged.add(new Staged(name, temporary, sha256));
      staged = true;
    } finally {
      if (!staged) {
        Files.deleteIfExists(temporary);
      }
    }
  }

  /** A file of the name is in the cache: present when its bytes are the same, else refused. */
  private static void compareWithCached(String name, String sha256, Path cached, Tally tally)
      throws IOException {
    String existing =
        Files.isRegularFile(cached, LinkOption.NOFOLLOW_LINKS)
            ? SimpleIndexBuilder.sha256(cached)
            : "not a regular file";
    if (existing.equals(sha256)) {
      tally.present.add(name);
    } else {
      tally.refuse(
          name,
          "differs from the file of that name already in the cache (sha256 %s, cached %s); the cached file is kept"
              .formatted(sha256, existing));
    }
  }

  /** Adds every staged file to the cache: its name and sha256 for each one added. */
  private static TreeMap<String, String> publishAll(Tally tally, Path files) throws IOException {
    TreeMap<String, String> added = new TreeMap<>();
    for (Staged file : tally.staged) {
      if (publish(file, files.resolve(file.name()))) {
        added.put(file.name(), file.sha256());
      } else {
        tally.refuse(file.name(), "appeared in the cache meanwhile; the cached file is kept");
      }
    }
    return added;
  }

  /** {@code <cache>/_files}, created if absent; never followed through a link. */
  private static Path filesDirectory(Path cacheRoot) throws IOException {
    Path root = cacheRoot.toRealPath();
    Path files = root.resolve(CacheLayout.FILES_DIR);
    if (!Files.exists(files, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectory(files);
      Files.setPosixFilePermissions(files, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    if (!Files.isDirectory(files, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(files + " is not a directory (a link or a file): refusing to write");
    }
    // copies an interrupted run left behind (hidden: never indexed); only one sync runs at a time
    try (DirectoryStream<Path> stale = Files.newDirectoryStream(files, ".intake-*.part")) {
      for (Path temporary : stale) {
        Files.deleteIfExists(temporary);
      }
    }
    return files;
  }

  private static List<Path> sortedEntries(Path downloads) throws IOException {
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(downloads)) {
      stream.forEach(entries::add);
    }
    entries.sort(null);
    return entries;
  }

  private static String nameProblem(String name, Path entry, Options options) throws IOException {
    BasicFileAttributes attributes =
        Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!attributes.isRegularFile()) {
      return attributes.isSymbolicLink()
          ? "a symbolic link, not a regular file"
          : attributes.isDirectory() ? "a directory, not a file" : "not a regular file";
    }
    Optional<DistributionFile> distribution = DistributionFile.parse(name);
    if (!PLAIN_NAME.matcher(name).matches() || distribution.isEmpty()) {
      return "not a wheel or source distribution name";
    }
    if (!name.endsWith(".whl") && !options.allowSourceDistributions()) {
      return "a source distribution, and the mirror takes wheels only (sync.allowSourceBuilds is false)";
    }
    if (attributes.size() > options.maxFileSize()) {
      return "%d bytes, larger than the limit of %d"
          .formatted(attributes.size(), options.maxFileSize());
    }
    return null;
  }

  /** Copies at most {@code limit} bytes; the copy's sha256, or null when the file is larger. */
  private static String copy(Path from, Path to, long limit) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
    long total = 0;
    try (InputStream in = Files.newInputStream(from, LinkOption.NOFOLLOW_LINKS);
        OutputStream out = Files.newOutputStream(to)) {
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        total += n;
        if (total > limit) {
          return null;
        }
        digest.update(buffer, 0, n);
        out.write(buffer, 0, n);
      }
    }
    Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
    return HexFormat.of().formatHex(digest.digest());
  }

  /** Checks the copy, never the scratch file: what is checked is what is published. */
  private static String contentProblem(String name, Path copy, String sha256, Options options)
      throws IOException {
    if (options.pinned() && !options.sha256().contains(sha256)) {
      return "sha256 " + sha256 + " is not listed by any --hash of the requirements";
    }
    if (name.endsWith(".whl")) {
      return zipProblem(copy, DistributionFile.parse(name).orElseThrow().normalizedProject());
    }
    if (name.endsWith(".zip")) {
      return zipProblem(copy, null);
    }
    return SdistArchive.problem(copy, name);
  }

  /** Why the zip is unsafe or not a wheel of {@code project} (null: any zip), or null when fine. */
  static String zipProblem(Path zip, String project) throws IOException {
    Set<String> names = new HashSet<>();
    Set<String> distInfo = new HashSet<>();
    try (ZipFile file = new ZipFile(zip.toFile())) {
      Enumeration<? extends ZipEntry> entries = file.entries();
      while (entries.hasMoreElements()) {
        String member = entries.nextElement().getName();
        String problem = memberProblem(member);
        if (problem != null) {
          return problem;
        }
        if (!names.add(member)) {
          return "member " + printable(member) + " appears twice";
        }
        String top = member.contains("/") ? member.substring(0, member.indexOf('/')) : "";
        if (top.endsWith(".dist-info")) {
          distInfo.add(top);
        }
      }
    } catch (ZipException e) {
      return "not a valid zip file (" + e.getMessage() + ")";
    }
    if (project == null) {
      return null;
    }
    if (distInfo.size() != 1) {
      return "a wheel needs exactly one .dist-info directory, found " + distInfo.size();
    }
    String dir = distInfo.iterator().next();
    String stem = dir.substring(0, dir.length() - ".dist-info".length());
    int dash = stem.lastIndexOf('-');
    if (dash <= 0 || !DistributionFile.normalize(stem.substring(0, dash)).equals(project)) {
      return "its .dist-info directory " + printable(dir) + " is not for project " + project;
    }
    for (String required : List.of("METADATA", "WHEEL")) {
      if (!names.contains(dir + "/" + required)) {
        return "its .dist-info has no " + required;
      }
    }
    return null;
  }

  /** Why an archive member name could land outside the directory it is unpacked in, or null. */
  static String memberProblem(String member) {
    if (member.isEmpty()
        || member.startsWith("/")
        || member.contains("\\")
        || member.indexOf('\0') >= 0
        || member.matches("^[A-Za-z]:.*")) {
      return "member name " + printable(member) + " is absolute or not portable";
    }
    for (String segment : member.split("/")) {
      if (segment.equals("..")) {
        return "member name " + printable(member) + " climbs out of the archive (..)";
      }
    }
    return null;
  }

  static String printable(String s) {
    String shown = s.length() > 120 ? s.substring(0, 120) + "..." : s;
    return "'" + shown.replaceAll("\\p{Cntrl}", "?") + "'";
  }

  /**
   * Adds the checked copy under its name without ever replacing a file: a hard link fails when the
   * name exists. False when it does.
   */
  private static boolean publish(Staged file, Path target) throws IOException {
    try {
      Files.createLink(target, file.temporary());
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (UnsupportedOperationException | FileSystemException e) {
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
      Files.move(file.temporary(), target);
      return true;
    }
  }
}
