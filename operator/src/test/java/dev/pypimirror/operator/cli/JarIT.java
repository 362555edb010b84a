package dev.pypimirror.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.testing.ProjectPaths;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The packaged jar, run as a user runs it. */
class JarIT {
  static final Path JAR =
      Path.of(System.getProperty("operator.jar", "target/pypi-mirror-operator.jar"));

  record Run(int status, String out, String err) {}

  static Run java(String stdin, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(javaBinary(), "-jar", JAR.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(ProjectPaths.ROOT.toFile()).start();
    p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    var out = p.getInputStream().readAllBytes();
    var err = p.getErrorStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(
        p.exitValue(),
        new String(out, StandardCharsets.UTF_8),
        new String(err, StandardCharsets.UTF_8));
  }

  static String javaBinary() {
    return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
  }

  @Test
  void versionIsTheOneBuiltIn() throws Exception {
    Run run = java("", "version");

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out())
        .startsWith("pypi-mirror-operator " + System.getProperty("operator.version") + "\n")
        .contains("\ncommit ");
    String head = VersionCommandTest.gitHead();
    if (head != null) {
      assertThat(run.out()).contains("commit " + head);
    }
  }

  @Test
  void rendersTheReadmeExample() throws Exception {
    Run run = java("", "render", "-f", "deploy/examples/pypimirror.yaml");

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out())
        .startsWith("apiVersion: v1\nkind: ConfigMap\n")
        .contains(
            "\n  name: pypi-mirror-corp\n", "\n---\napiVersion: v1\nkind: PersistentVolumeClaim\n")
        .contains("index-url = https://devpi.corp.example/root/pypi/+simple/");
  }

  @Test
  void theDemoRunsFromTheJarAndExits() throws Exception {
    Run run = java("", "demo");

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("PypiMirror builds/corp", "+ annotation pypimirror.dev/injected: corp@", "Done:");
    assertThat(run.err()).as("the demo is quiet unless --verbose").doesNotContain("INFO");
  }

  @Test
  void injectFromTheJar() throws Exception {
    Run run =
        java(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n",
            "inject",
            "-f",
            "-",
            "--mirror",
            "deploy/examples/pypimirror.yaml");

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out()).contains("pypimirror.dev/injected", "mountPath: /etc/pip.conf\n");
  }

  @Test
  void badInputIsOneLineAndExitTwoWithoutStackTrace() throws Exception {
    Run run =
        java(
            "apiVersion: pypimirror.dev/v1alpha1\nkind: PypiMirror\nmetadata: {name: x}\nspec: {indexes: [{url: 'http://h/'}]}\n",
            "render",
            "-f",
            "-");

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .isEqualTo(
            "error: <stdin>: invalid PypiMirror x: spec.indexes[0].url: plain http index http://h/ needs trustedHost: true\n");
  }
}
