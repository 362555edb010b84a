package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class CompletionCommandTest {
  @Test
  void printsAScriptThatCompletesEverySubcommandAndItsOptions() {
    var bash = run("", "completion");
    var zsh = run("", "completion", "zsh");

    assertThat(bash.status()).isZero();
    assertThat(bash.out())
        .contains("complete -F _complete_pypi-mirror-operator")
        .contains("check")
        .contains("inject")
        .contains("--log-format")
        .contains("--operator-namespace");
    assertThat(zsh.out()).as("the same script, loading bashcompinit in zsh").isEqualTo(bash.out());
    assertThat(bash.out()).contains("bashcompinit");
    assertThat(bash.out())
        .as("the values run takes, not its enums' constants")
        .contains("(\"self-managed\" \"cert-manager\" \"files\")")
        .doesNotContain("SELF_MANAGED");
    assertThat(run("", "completion", "tcsh").status()).isEqualTo(2);
  }

  /** What fish (the real one) offers for {@code line}, with the script loaded. */
  public static String fishCompletes(Path script, String line) throws Exception {
    Process fish =
        new ProcessBuilder(
                "fish",
                "--no-config",
                "-c",
                "source $argv[1]; complete -C $argv[2]",
                "--",
                script.toString(),
                line)
            .redirectErrorStream(true)
            .start();
    String out = new String(fish.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(fish.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(fish.exitValue()).as(out).isZero();
    return out;
  }

  @Test
  void fishCompletesCommandsOptionsAndTheirValues(@TempDir Path dir) throws Exception {
    var fish = run("", "completion", "fish");
    assertThat(fish.status()).as(fish.err()).isZero();
    Path script = dir.resolve("pypi-mirror-operator.fish");
    Files.writeString(script, fish.out());

    assertThat(fishCompletes(script, "pypi-mirror-operator rend"))
        .startsWith("render\tPrint the ConfigMap");
    assertThat(fishCompletes(script, "pypi-mirror-operator "))
        .contains("demo\t", "run\t", "check\t", "completion\t", "version\t")
        .doesNotContain("--filename");
    assertThat(fishCompletes(script, "pypi-mirror-operator render --pol"))
        .isEqualTo("--policy\tRefuse a mirror that this PypiMirrorPolicy forbids.\n");
    assertThat(fishCompletes(script, "pypi-mirror-operator render -o "))
        .isEqualTo(
            "json\tOutput format: a YAML stream or a JSON List (default: yaml).\n"
                + "yaml\tOutput format: a YAML stream or a JSON List (default: yaml).\n");
    assertThat(fishCompletes(script, "pypi-mirror-operator run --injection "))
        .startsWith("admission-policy\t")
        .contains("\nauto\t", "\nwebhook\t")
        .doesNotContain("ADMISSION_POLICY");
    assertThat(fishCompletes(script, "pypi-mirror-operator check --kube"))
        .startsWith("--kubeconfig\t");
    assertThat(fishCompletes(script, "pypi-mirror-operator completion "))
        .startsWith("bash\t")
        .contains("\nfish\t", "\nzsh\t");
    // a FILE option completes files
    Files.writeString(dir.resolve("mirror.yaml"), "");
    assertThat(fishCompletes(script, "pypi-mirror-operator render -f " + dir + "/mir"))
        .isEqualTo(dir + "/mirror.yaml\n");
  }
}
