package dev.pypimirror.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.testing.Python;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
}
