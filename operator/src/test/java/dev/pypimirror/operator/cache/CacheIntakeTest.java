package dev.pypimirror.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trusted step: only checked files reach the cache; nothing there is ever replaced. */
class CacheIntakeTest {
  private static final CacheIntake.Options WHEELS =
      new CacheIntake.Options(1 << 20, false, Set.of());

  @TempDir Path dir;
  Path downloads;
  Path cache;

  @BeforeEach
  void dirs() throws IOException {
    downloads = Files.createDirectories(dir.resolve("scratch"));
    cache = Files.createDirectories(dir.resolve("cache"));
  }

  static Path wheel(Path dir, String file, Map<String, String> members) throws IOException {
    Path path = dir.resolve(file);
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(path))) {
      for (var member : members.entrySet()) {
        zip.putNextEntry(new ZipEntry(member.getKey()));
        zip.write(member.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    }
    return path;
  }

  static Map<String, String> goodMembers(String project, String body) {
    Map<String, String> members = new LinkedHashMap<>();
    members.put(project + "/__init__.py", body);
    members.put(project + "-1.0.dist-info/METADATA", "Name: " + project + "\nVersion: 1.0\n");
    members.put(project + "-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n");
    return members;
  }

  /** Every file under the cache with its bytes. */
  Map<String, String> snapshot() throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(cache)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        files.put(cache.relativize(p).toString(), SimpleIndexBuilder.sha256(p));
      }
    }
    return files;
  }

  @Test
  void goodWheelsAreAddedWithTheirHashAndAgainArePresent() throws IOException {
    Path good = wheel(downloads, "good-1.0-py3-none-any.whl", goodMembers("good", "X = 1\n"));
    String sha = SimpleIndexBuilder.sha256(good);

    var first = CacheIntake.accept(downloads, cache, WHEELS);
    var second = CacheIntake.accept(downloads, cache, WHEELS);

    assertThat(first.added()).containsExactly(Map.entry("good-1.0-py3-none-any.whl", sha));
    assertThat(first.refused()).isEmpty();
    assertThat(cache.resolve("_files/good-1.0-py3-none-any.whl")).hasSameBinaryContentAs(good);
    assertThat(second.added()).isEmpty();
    assertThat(second.present()).containsExactly("good-1.0-py3-none-any.whl");
    try (Stream<Path> files = Files.list(cache.resolve("_files"))) {
      assertThat(files).hasSize(1); // no temporary left behind
    }
  }

  @Test
  void aWheelWithAClimbingMemberIsRefused() throws IOException {
    Map<String, String> members = goodMembers("evil", "");
    members.put("../../index.html", "owned");
    wheel(downloads, "evil-1.0-py3-none-any.whl", members);

    var result = CacheIntake.accept(downloads, cache, WHEELS);

    assertThat(result.added()).isEmpty();
    assertThat(result.refused())
        .singleElement()
        .hasToString(
            "evil-1.0-py3-none-any.whl: member name '../../index.html' climbs out of the archive (..)");
    assertThat(snapshot()).isEmpty();
  }

  @Test
  void everyOtherUncheckableFileIsRefusedWithItsReason() throws IOException {
    Map<String, String> absolute = goodMembers("abs", "");
    absolute.put("/etc/cron.d/x", "");
    wheel(downloads, "abs-1.0-py3-none-any.whl", absolute);
    Map<String, String> backslash = goodMembers("bs", "");
    backslash.put("bs\\..\\..\\x", "");
    wheel(downloads, "bs-1.0-py3-none-any.whl", backslash);
    wheel(downloads, "nodist-1.0-py3-none-any.whl", Map.of("nodist/__init__.py", ""));
    wheel(downloads, "other-1.0-py3-none-any.whl", goodMembers("someone_else", ""));
    Files.writeString(downloads.resolve("notzip-1.0-py3-none-any.whl"), "not a zip");
    Files.writeString(downloads.resolve("index.html"), "owned");
    Files.createDirectories(downloads.resolve("proj"));
    Files.createSymbolicLink(downloads.resolve("link-1.0-py3-none-any.whl"), cache);
    Files.writeString(downloads.resolve("src-1.0.tar.gz"), "x");
    Files.write(downloads.resolve("big-1.0-py3-none-any.whl"), new byte[(1 << 20) + 1]);

    var result = CacheIntake.accept(downloads, cache, WHEELS);

    assertThat(result.added()).isEmpty();
    assertThat(result.refused())
        .extracting(Object::toString)
        .containsExactlyInAnyOrder(
            "abs-1.0-py3-none-any.whl: member name '/etc/cron.d/x' is absolute or not portable",
            "bs-1.0-py3-none-any.whl: member name 'bs\\..\\..\\x' is absolute or not portable",
            "nodist-1.0-py3-none-any.whl: a wheel needs exactly one .dist-info directory, found 0",
            "other-1.0-py3-none-any.whl: its .dist-info directory 'someone_else-1.0.dist-info' is"
                + " not for project other",
            "notzip-1.0-py3-none-any.whl: not a valid zip file (zip END header not found)",
            "index.html: not a wheel or source distribution name",
            "proj: a directory, not a file",
            "link-1.0-py3-none-any.whl: a symbolic link, not a regular file",
            "src-1.0.tar.gz: a source distribution, and the mirror takes wheels only"
                + " (sync.allowSourceBuilds is false)",
            "big-1.0-py3-none-any.whl: 1048577 bytes, larger than the limit of 1048576");
    assertThat(result.failed()).isFalse();
    assertThat(snapshot()).isEmpty();
  }

  @Test
  void aSameNameFileWithOtherBytesIsReportedAndNotReplaced() throws IOException {
    wheel(downloads, "probe-1.0-py3-none-any.whl", goodMembers("probe", "GOOD = 1\n"));
    CacheIntake.accept(downloads, cache, WHEELS);
    Map<String, String> before = snapshot();
    Path other = dir.resolve("other");
    Files.createDirectories(other);
    wheel(other, "probe-1.0-py3-none-any.whl", goodMembers("probe", "OWNED = 1\n"));

    var result = CacheIntake.accept(other, cache, WHEELS);

    assertThat(result.added()).isEmpty();
    assertThat(result.refused())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.file()).isEqualTo("probe-1.0-py3-none-any.whl");
              assertThat(r.reason())
                  .startsWith("differs from the file of that name already in the cache")
                  .endsWith("the cached file is kept");
            });
    assertThat(snapshot()).isEqualTo(before);
  }

  @Test
  void aPinnedSyncIsAllOrNothing() throws IOException {
    Path listed = wheel(downloads, "a-1.0-py3-none-any.whl", goodMembers("a", ""));
    wheel(downloads, "b-1.0-py3-none-any.whl", goodMembers("b", ""));
    var pinned = new CacheIntake.Options(1 << 20, false, Set.of(SimpleIndexBuilder.sha256(listed)));

    var result = CacheIntake.accept(downloads, cache, pinned);

    assertThat(result.failed()).isTrue();
    assertThat(result.added()).isEmpty();
    assertThat(result.refused())
        .singleElement()
        .satisfies(
            r ->
                assertThat(r.reason()).endsWith("is not listed by any --hash of the requirements"));
    assertThat(snapshot()).isEmpty();
  }

  @Test
  void sdistsAreTakenWithTheOptInWhenTheirMembersStayInside() throws IOException {
    Path good = tarGz(downloads, "good-1.0.tar.gz", "good-1.0/setup.py");
    tarGz(downloads, "climb-1.0.tar.gz", "climb-1.0/../../../etc/x");
    Files.writeString(downloads.resolve("old-1.0.tar.bz2"), "x");

    var result =
        CacheIntake.accept(downloads, cache, new CacheIntake.Options(1 << 20, true, Set.of()));

    assertThat(result.added()).containsOnlyKeys("good-1.0.tar.gz");
    assertThat(cache.resolve("_files/good-1.0.tar.gz")).hasSameBinaryContentAs(good);
    assertThat(result.refused())
        .extracting(Object::toString)
        .containsExactlyInAnyOrder(
            "climb-1.0.tar.gz: member name 'climb-1.0/../../../etc/x' climbs out of the archive (..)",
            "old-1.0.tar.bz2: only .tar.gz and .zip source distributions are taken (PEP 625)");
  }

  /** A minimal ustar archive with one empty regular file, gzipped. */
  static Path tarGz(Path dir, String file, String member) throws IOException {
    byte[] header = new byte[512];
    byte[] name = member.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(name, 0, header, 0, name.length);
    put(header, 100, "0000644\0");
    put(header, 108, "0000000\0");
    put(header, 116, "0000000\0");
    put(header, 124, "00000000000\0");
    put(header, 136, "00000000000\0");
    header[156] = '0';
    put(header, 257, "ustar\0");
    put(header, 263, "00");
    put(header, 148, "        ");
    int sum = 0;
    for (byte b : header) {
      sum += b & 0xff;
    }
    put(header, 148, String.format("%06o\0 ", sum));
    Path path = dir.resolve(file);
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(path))) {
      out.write(header);
      out.write(new byte[1024]);
    }
    return path;
  }

  private static void put(byte[] header, int offset, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(bytes, 0, header, offset, bytes.length);
  }
}
