package dev.pypimirror.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.BuildInfo;
import dev.pypimirror.operator.testing.ProjectPaths;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class VersionCommandTest {
  @Test
  void versionPrintsTheVersionAndTheCommitTheBuildSaw() throws Exception {
    RenderCommandTest.Run run = RenderCommandTest.run("", "version");

    assertThat(run.status()).isZero();
    String[] lines = run.out().split("\n");
    assertThat(lines).hasSize(2);
    assertThat(lines[0])
        .isEqualTo("pypi-mirror-operator " + System.getProperty("operator.version"));
    String head = gitHead();
    if (head != null) {
      assertThat(lines[1]).startsWith("commit " + head);
    } else {
      assertThat(lines[1]).startsWith("commit unknown");
    }
  }

  @Test
  void theVersionOptionPrintsTheSame() {
    assertThat(RenderCommandTest.run("", "--version").out())
        .isEqualTo(RenderCommandTest.run("", "version").out());
  }

  @Test
  void whatTheBuildCouldNotKnowIsUnknown() {
    Properties unfilled = new Properties();
    unfilled.setProperty("version", "0.1.0");
    unfilled.setProperty("commit", "${git.commit.id}");
    unfilled.setProperty("dirty", "${git.dirty}");

    assertThat(BuildInfo.of(unfilled).lines())
        .containsExactly("pypi-mirror-operator 0.1.0", "commit unknown");
    unfilled.setProperty("commit", "0123abc");
    unfilled.setProperty("dirty", "true");
    assertThat(BuildInfo.of(unfilled).lines()[1]).isEqualTo("commit 0123abc (modified)");
    assertThat(BuildInfo.of(new Properties()).version()).isEqualTo(BuildInfo.UNKNOWN);
  }

  /** The commit checked out, or null without git or a repository (a source tarball). */
  static String gitHead() throws Exception {
    try {
      Process git =
          new ProcessBuilder("git", "-C", ProjectPaths.ROOT.toString(), "rev-parse", "HEAD")
              .redirectErrorStream(true)
              .start();
      String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return git.waitFor(30, TimeUnit.SECONDS) && git.exitValue() == 0 ? out : null;
    } catch (java.io.IOException noGit) {
      return null;
    }
  }
}
