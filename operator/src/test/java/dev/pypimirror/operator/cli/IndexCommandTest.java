package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
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
}
