package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IndexCommandTest {
  @Test
  void anEmptyDirectoryGetsAnEmptyRootPage(@TempDir Path dir) throws Exception {
    var result = run("", "index", dir.toString());

    assertThat(result.status()).isZero();
    assertThat(result.out()).startsWith("indexed 0 files of 0 projects (0 bytes) in " + dir);
    assertThat(Files.readString(dir.resolve("index.html")))
        .contains("<body>")
        .doesNotContain("href");
  }

  @Test
  void notADirectoryExitsTwo(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("f"), "x");

    var missing = run("", "index", dir.resolve("nope").toString());
    var notDir = run("", "index", file.toString());
    var noArgument = run("", "index");

    assertThat(missing.status()).isEqualTo(2);
    assertThat(missing.err()).isEqualTo("error: " + dir.resolve("nope") + ": not a directory\n");
    assertThat(notDir.status()).isEqualTo(2);
    assertThat(noArgument.status()).isEqualTo(2);
    assertThat(noArgument.err().lines()).singleElement();
  }

  @Test
  void whatIsLeftAloneIsOneWarningEachAndCountedInTheSummary(@TempDir Path dir) throws Exception {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path files = Files.createDirectories(dir.resolve("_files"));
    Files.write(files.resolve("Left_Alone-1.0-py3-none-any.whl"), new byte[] {1});
    Files.write(files.resolve("Indexed-1.0.tar.gz"), new byte[] {2});
    Path elsewhere = Files.createDirectories(dir.resolve(".elsewhere"));
    Files.createSymbolicLink(dir.resolve("left-alone"), elsewhere);
    Path summary = dir.resolve(".summary.json");

    var result = run("", "index", dir.toString(), "--summary-file", summary.toString());

    assertThat(result.status()).isZero();
    assertThat(result.err().lines())
        .singleElement()
        .asString()
        .startsWith("warning: skipped " + dir.resolve("left-alone") + " is a symbolic link");
    assertThat(result.out()).contains("indexed 1 files of 1 projects", "1 skipped (0 unreadable)");
    assertThat(summary)
        .hasContent(
            "{\"projects\":1,\"files\":1,\"bytes\":1,\"pagesWritten\":2,\"skipped\":1,"
                + "\"unreadable\":0}");
    try (var entries = Files.list(elsewhere)) {
      assertThat(entries).isEmpty();
    }
  }
}
