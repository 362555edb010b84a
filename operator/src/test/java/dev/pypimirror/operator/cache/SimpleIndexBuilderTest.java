package dev.pypimirror.operator.cache;

import static dev.pypimirror.operator.testing.IndexStep.BUILD_UID;
import static dev.pypimirror.operator.testing.IndexStep.SYNC_UID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pypimirror.operator.testing.IndexServer;
import dev.pypimirror.operator.testing.IndexStep;
import dev.pypimirror.operator.testing.Python;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The index over a tree of awkwardly named packages, consumed by real pip over file://. */
class SimpleIndexBuilderTest {
  @TempDir static Path scratch;
  static Python python;
  static List<Path> packages = new ArrayList<>();

  /** name, version, and whether it is an sdist. */
  static final List<String[]> PROJECTS =
      List.of(
          new String[] {"zope.interface", "5.0", "wheel"},
          new String[] {"Foo_Bar", "1.0", "wheel"},
          new String[] {"pmo-2fa", "1.0", "wheel"},
          new String[] {"Dash-Name", "2.0", "sdist"},
          new String[] {"dotted.sdist.pkg", "0.3", "sdist"});

  @BeforeAll
  static void buildPackages() throws Exception {
    python = new Python(scratch);
    for (String[] p : PROJECTS) {
      packages.add(
          p[2].equals("wheel")
              ? python.buildWheel(scratch, p[0], p[1])
              : python.buildSdist(scratch, p[0], p[1]));
    }
  }

  /**
   * A tree with the packages scattered over nested directories, as a sync or a user leaves them.
   */
  static Path tree(Path dir) throws Exception {
    String[] places = {"_files", "deep/er", "", "_files", "x"};
    for (int i = 0; i < packages.size(); i++) {
      Path target = Files.createDirectories(dir.resolve(places[i]));
      Files.copy(packages.get(i), target.resolve(packages.get(i).getFileName()));
    }
    return dir;
  }

  static Map<String, byte[]> pages(Path dir) throws Exception {
    Map<String, byte[]> pages = new TreeMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.filter(f -> f.getFileName().toString().equals("index.html")).toList()) {
        pages.put(dir.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return pages;
  }

  static List<String> packageFiles(Path dir) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .filter(f -> DistributionFile.parse(f.getFileName().toString()).isPresent())
          .map(f -> dir.relativize(f).toString())
          .sorted()
          .toList();
    }
  }

  @Test
  void realPipInstallsEveryPackageOverFileUrls(@TempDir Path dir) throws Exception {
    tree(dir);

    SimpleIndexBuilder.Summary summary = SimpleIndexBuilder.build(dir);

    assertThat(summary.projects()).isEqualTo(5);
    assertThat(summary.files()).isEqualTo(5);
    assertThat(pages(dir).keySet())
        .containsExactlyInAnyOrder(
            "index.html",
            "zope-interface/index.html",
            "foo-bar/index.html",
            "pmo-2fa/index.html",
            "dash-name/index.html",
            "dotted-sdist-pkg/index.html");
    assertThat(Files.readString(dir.resolve("foo-bar/index.html")))
        .containsPattern(
            "href=\"\\.\\./deep/er/Foo_Bar-1\\.0-py3-none-any\\.whl#sha256=[0-9a-f]{64}\"");
    for (String[] p : PROJECTS) {
      Path out = Files.createTempDirectory(scratch, "out");
      python
          .run(
              out,
              Map.of("PIP_CONFIG_FILE", "/dev/null", "PIP_INDEX_URL", "file://" + dir),
              "-m",
              "pip",
              "download",
              "--no-deps",
              "--no-build-isolation",
              "-d",
              out.toString(),
              p[0] + "==" + p[1])
          .assertOk();
      try (var files = Files.list(out)) {
        assertThat(files.count()).as(p[0]).isEqualTo(1);
      }
    }
  }

  @Test
  void pipRefusesAFileWhoseHashDoesNotMatch(@TempDir Path dir) throws Exception {
    tree(dir);
    SimpleIndexBuilder.build(dir);
    Path wheel = dir.resolve("_files").resolve(packages.get(0).getFileName());
    Files.write(wheel, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);

    Path out = Files.createTempDirectory(scratch, "out");
    var result =
        python.run(
            out,
            Map.of("PIP_CONFIG_FILE", "/dev/null", "PIP_INDEX_URL", "file://" + dir),
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-d",
            out.toString(),
            "zope.interface==5.0");

    assertThat(result.status()).isNotZero();
    assertThat(result.output()).containsIgnoringCase("hash");
  }

  @Test
  void rebuildingIsIdempotentAndDeletesNothing(@TempDir Path dir) throws Exception {
    tree(dir);
    Files.writeString(dir.resolve("_files/README.txt"), "keep me");
    SimpleIndexBuilder.build(dir);
    Map<String, byte[]> first = pages(dir);
    List<String> filesBefore = packageFiles(dir);

    SimpleIndexBuilder.Summary again = SimpleIndexBuilder.build(dir);

    assertThat(again.pagesWritten()).isZero();
    Map<String, byte[]> second = pages(dir);
    assertThat(second.keySet()).isEqualTo(first.keySet());
    first.forEach((page, bytes) -> assertThat(second.get(page)).as(page).isEqualTo(bytes));
    assertThat(packageFiles(dir)).isEqualTo(filesBefore);
    assertThat(dir.resolve("_files/README.txt")).hasContent("keep me");
  }

  @Test
  void aProjectWhoseFilesAreGoneGetsAnEmptyPageNotADeadLink(@TempDir Path dir) throws Exception {
    tree(dir);
    SimpleIndexBuilder.build(dir);
    Files.delete(dir.resolve("x").resolve(packages.get(4).getFileName()));

    SimpleIndexBuilder.build(dir);

    assertThat(Files.readString(dir.resolve("dotted-sdist-pkg/index.html"))).doesNotContain("href");
    assertThat(Files.readString(dir.resolve("index.html"))).doesNotContain("dotted-sdist-pkg");
  }

  @Test
  void aReaderDuringRebuildsNeverSeesAPartialPage(@TempDir Path dir) throws Exception {
    tree(dir);
    SimpleIndexBuilder.build(dir);
    Path page = dir.resolve("foo-bar/index.html");
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger reads = new AtomicInteger();
    List<String> torn = new ArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              while (!done.get()) {
                try {
                  String content = Files.readString(page);
                  reads.incrementAndGet();
                  if (!content.startsWith("<!DOCTYPE html>") || !content.endsWith("</html>\n")) {
                    torn.add(content);
                  }
                } catch (Exception e) {
                  torn.add("read failed: " + e);
                }
              }
            });
    reader.start();
    Path extra = Files.createDirectories(dir.resolve("more"));
    for (int i = 0; i < 150; i++) {
      // each round adds a Foo_Bar build, so the page really changes every time
      Files.copy(
          packages.get(1),
          extra.resolve("Foo_Bar-1.0." + i + "-py3-none-any.whl"),
          StandardCopyOption.REPLACE_EXISTING);
      SimpleIndexBuilder.build(dir);
    }
    done.set(true);
    reader.join();

    assertThat(torn).isEmpty();
    assertThat(reads.get()).isGreaterThan(100);
    assertThat(Files.readString(page)).contains("Foo_Bar-1.0.149-py3-none-any.whl");
  }

  static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
  }

  static void chown(Path p, int uid) throws Exception {
    Files.setAttribute(p, "unix:uid", uid);
    Files.setAttribute(p, "unix:gid", uid);
  }

  /** A fresh tree in a folder every uid can reach, owned by the sync Job's uid as its PVC is. */
  static Path treeForAnotherUid() throws Exception {
    Path dir = tree(Files.createTempDirectory(scratch, "tree"));
    IndexStep.openUpTo(dir);
    chown(dir, SYNC_UID);
    return dir;
  }

  @Test
  void pipAsAnotherUidInstallsFromATreeIndexedUnderUmask077() throws Exception {
    assumeTrue(IndexStep.canSwitchUid(), "needs root and setpriv");
    Path dir = treeForAnotherUid();

    var indexed = IndexStep.index(SYNC_UID, "077", dir.toString());

    assertThat(indexed.status()).as(indexed.err()).isZero();
    Path out = Files.createDirectories(scratch.resolve("out-" + BUILD_UID));
    chown(out, BUILD_UID);
    List<String> download =
        new ArrayList<>(
            List.of("-m", "pip", "download", "--no-deps", "--no-build-isolation", "-d", "."));
    PROJECTS.forEach(p -> download.add(p[0] + "==" + p[1]));
    python
        .as(BUILD_UID)
        .run(
            out,
            Map.of("PIP_CONFIG_FILE", "/dev/null", "PIP_INDEX_URL", "file://" + dir),
            download.toArray(String[]::new))
        .assertOk();
    try (var files = Files.list(out)) {
      assertThat(files.count()).isEqualTo(PROJECTS.size());
    }
    for (String page : pages(dir).keySet()) {
      assertThat(mode(dir.resolve(page))).as(page).isEqualTo("rw-r--r--");
      if (!page.equals("index.html")) {
        assertThat(mode(dir.resolve(page).getParent())).as(page).isEqualTo("rwxr-xr-x");
      }
    }
  }

  @Test
  void aRootOwned0700FolderDoesNotFailARunAsAnotherUid() throws Exception {
    assumeTrue(IndexStep.canSwitchUid(), "needs root and setpriv");
    Path dir = treeForAnotherUid();
    Path lostAndFound = Files.createDirectory(dir.resolve("lost+found"));
    Files.setPosixFilePermissions(lostAndFound, PosixFilePermissions.fromString("rwx------"));
    Path secret = dir.resolve("_files/Secret_Pkg-1.0-py3-none-any.whl");
    Files.copy(packages.get(1), secret);
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
    // a project folder an earlier run as root left owner-only
    Files.createDirectory(
        dir.resolve("dash-name"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path summary = Files.createFile(scratch.resolve("summary-" + System.nanoTime()));
    chown(summary, SYNC_UID);

    var indexed =
        IndexStep.index(SYNC_UID, "022", dir.toString(), "--summary-file", summary.toString());

    assertThat(indexed.status()).as(indexed.err()).isZero();
    assertThat(indexed.err().lines().filter(l -> l.contains("lost+found"))).hasSize(1);
    assertThat(indexed.err().lines().filter(l -> l.contains("Secret_Pkg"))).hasSize(1);
    assertThat(indexed.err().lines().filter(l -> l.contains("dash-name"))).hasSize(1);
    assertThat(indexed.out()).contains("indexed 4 files of 4 projects", "3 skipped (3 unreadable)");
    assertThat(Files.readString(summary)).contains("\"files\":4", "\"unreadable\":3");
    assertThat(pages(dir))
        .containsKeys("index.html", "foo-bar/index.html", "zope-interface/index.html");
    assertThat(dir.resolve("secret-pkg")).doesNotExist();
  }

  @Test
  void aSymlinkedProjectFolderPointingOutsideIsLeftAlone(@TempDir Path dir) throws Exception {
    tree(dir);
    Path outside = Files.createDirectories(scratch.resolve("outside-" + System.nanoTime()));
    Files.writeString(outside.resolve("index.html"), "theirs");
    Files.writeString(outside.resolve("page.html"), "theirs too");
    Files.createSymbolicLink(dir.resolve("foo-bar"), outside);
    Files.createDirectory(dir.resolve("zope-interface"));
    Files.createSymbolicLink(
        dir.resolve("zope-interface/index.html"), outside.resolve("page.html"));
    Files.createDirectory(dir.resolve("pmo-2fa"));
    Files.writeString(dir.resolve("pmo-2fa/index.html"), "<html>hand-written</html>");
    // a package "file" that is a link out of DIR is neither read nor linked
    Files.createSymbolicLink(
        dir.resolve("_files/Linked_Pkg-1.0-py3-none-any.whl"), outside.resolve("page.html"));

    SimpleIndexBuilder.Summary summary = SimpleIndexBuilder.build(dir);

    try (var entries = Files.list(outside)) {
      assertThat(entries.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("index.html", "page.html");
    }
    assertThat(outside.resolve("index.html")).hasContent("theirs");
    assertThat(outside.resolve("page.html")).hasContent("theirs too");
    assertThat(Files.isSymbolicLink(dir.resolve("foo-bar"))).isTrue();
    assertThat(Files.isSymbolicLink(dir.resolve("zope-interface/index.html"))).isTrue();
    assertThat(dir.resolve("pmo-2fa/index.html")).hasContent("<html>hand-written</html>");
    assertThat(summary.skipped())
        .hasSize(3)
        .anySatisfy(s -> assertThat(s).contains("foo-bar is a symbolic link"))
        .anySatisfy(s -> assertThat(s).contains("zope-interface/index.html is not a regular"))
        .anySatisfy(s -> assertThat(s).contains("pmo-2fa/index.html was not written by index"));
    assertThat(summary.projects()).isEqualTo(2);
    assertThat(dir.resolve("linked-pkg")).doesNotExist();
    assertThat(Files.readString(dir.resolve("index.html")))
        .contains("href=\"dash-name/\"", "href=\"dotted-sdist-pkg/\"")
        .doesNotContain("foo-bar", "zope-interface", "pmo-2fa");
  }

  @Test
  void aHostileFileNameIsEscapedOnEveryPage(@TempDir Path dir) throws Exception {
    byte[] wheel = Files.readAllBytes(packages.get(1));
    Path files = Files.createDirectories(dir.resolve("_files"));
    Files.write(files.resolve("x\"><img src=x onerror=alert(1)>-1.0-py3-none-any.whl"), wheel);
    Files.write(files.resolve("javascript:alert(1)-1.0-py3-none-any.whl"), wheel);
    Files.write(files.resolve("Quote_Pkg-1.0'\"<b>&amp;-py3-none-any.whl"), wheel);
    Path odd = Files.createDirectories(dir.resolve("we\"ird <b>&#?folder"));
    Path foo = Files.copy(packages.get(1), odd.resolve(packages.get(1).getFileName()));

    SimpleIndexBuilder.build(dir);

    Pattern href = Pattern.compile("href=\"([^\"]*)\"");
    for (var page : pages(dir).entrySet()) {
      String html = new String(page.getValue(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(html).as(page.getKey()).doesNotContain("<img", "<b>", "'", "&amp;-");
      Matcher m = href.matcher(html);
      while (m.find()) {
        assertThat(m.group(1))
            .as(page.getKey())
            .matches("[A-Za-z0-9._~/%-]+(#sha256=[0-9a-f]{64})?");
      }
    }
    assertThat(Files.readString(dir.resolve("index.html")))
        .contains("x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</a>")
        .contains("href=\"javascript%3Aalert%281%29/\"");
    assertThat(Files.readString(dir.resolve("quote-pkg/index.html")))
        .contains(">Quote_Pkg-1.0&#39;&quot;&lt;b&gt;&amp;amp;-py3-none-any.whl</a>");
    assertThat(Files.readString(dir.resolve("foo-bar/index.html")))
        .contains("href=\"../we%22ird%20%3Cb%3E%26%23%3Ffolder/Foo_Bar-1.0-py3-none-any.whl#");
    // the encoded href still leads pip to the file
    Path out = Files.createTempDirectory(scratch, "out");
    python
        .pipDownload(
            out,
            Map.of("PIP_CONFIG_FILE", "/dev/null", "PIP_INDEX_URL", "file://" + dir),
            "foo-bar")
        .assertOk();
    assertThat(out.resolve(foo.getFileName())).hasSameBinaryContentAs(foo);
  }

  @Test
  void pipSkipsAVersionWhoseRequiresPythonExcludesItWithoutDownloadingIt(@TempDir Path dir)
      throws Exception {
    Path files = Files.createDirectories(dir.resolve("_files"));
    Path fits = python.buildWheel(scratch, "Py_Probe", "1.0");
    Path oldPython = python.buildWheel(scratch, "Py_Probe", "2.0", "python_requires='<3'");
    Path futurePython = python.buildSdist(scratch, "Py_Probe", "3.0", "python_requires='>=3.99'");
    for (Path p : List.of(fits, oldPython, futurePython)) {
      Files.copy(p, files.resolve(p.getFileName()));
    }

    SimpleIndexBuilder.build(dir);

    String page = Files.readString(dir.resolve("py-probe/index.html"));
    assertThat(page.lines().filter(l -> l.contains("data-requires-python")))
        .containsExactly(linkLine(page, oldPython), linkLine(page, futurePython));
    assertThat(linkLine(page, oldPython)).contains(" data-requires-python=\"&lt;3\">");
    assertThat(linkLine(page, futurePython)).contains(" data-requires-python=\"&gt;=3.99\">");
    Path out = Files.createTempDirectory(scratch, "out");
    try (IndexServer server = IndexServer.http(dir)) {
      python
          .pipDownload(
              out,
              Map.of(
                  "PIP_CONFIG_FILE", "/dev/null",
                  "PIP_INDEX_URL", server.url(),
                  "PIP_TRUSTED_HOST", "127.0.0.1"),
              "py-probe")
          .assertOk();
      assertThat(server.requests())
          .contains("/simple/py-probe/", "/simple/_files/" + fits.getFileName())
          .noneMatch(r -> r.contains("-2.0") || r.contains("-3.0"));
    }
    try (var downloaded = Files.list(out)) {
      assertThat(downloaded.map(p -> p.getFileName().toString()))
          .containsExactly(fits.getFileName().toString());
    }
  }

  static String linkLine(String page, Path file) {
    return page.lines()
        .filter(l -> l.contains(file.getFileName().toString()))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void aRebuildReadsOnlyWhatChanged(@TempDir Path dir) throws Exception {
    tree(dir);
    SimpleIndexBuilder.build(dir);
    Path page = dir.resolve("foo-bar/index.html");
    String before = Files.readString(page);
    Path wheel = dir.resolve("deep/er").resolve(packages.get(1).getFileName());
    FileTime modified = Files.getLastModifiedTime(wheel);
    byte[] bytes = Files.readAllBytes(wheel);
    bytes[bytes.length - 1] ^= 1; // other bytes, same size and time: taken as unchanged
    Files.write(wheel, bytes);
    Files.setLastModifiedTime(wheel, modified);

    assertThat(SimpleIndexBuilder.build(dir).pagesWritten()).isZero();
    assertThat(page).hasContent(before);

    Files.setLastModifiedTime(wheel, FileTime.fromMillis(modified.toMillis() + 1000));
    assertThat(SimpleIndexBuilder.build(dir).pagesWritten()).isEqualTo(1);
    assertThat(Files.readString(page))
        .isNotEqualTo(before)
        .contains("#sha256=" + SimpleIndexBuilder.sha256(wheel));
    Path cache = dir.resolve(FileFacts.FILE_NAME);
    assertThat(mode(cache)).isEqualTo("rw-r--r--");
    assertThat(Files.readString(cache)).startsWith(FileFacts.HEADER);
  }

  @Test
  void pagesOfAnOlderRunWithAnotherModeAreMadeReadableByAll(@TempDir Path dir) throws Exception {
    tree(dir);
    SimpleIndexBuilder.build(dir);
    Files.setPosixFilePermissions(
        dir.resolve("foo-bar/index.html"), PosixFilePermissions.fromString("rw-------"));
    Files.setPosixFilePermissions(
        dir.resolve("foo-bar"), PosixFilePermissions.fromString("rwx------"));

    assertThat(SimpleIndexBuilder.build(dir).pagesWritten()).isEqualTo(1);

    assertThat(mode(dir.resolve("foo-bar/index.html"))).isEqualTo("rw-r--r--");
    assertThat(mode(dir.resolve("foo-bar"))).isEqualTo("rwxr-xr-x");
  }
}
