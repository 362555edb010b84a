package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CompletionCommandTest {
  @Test
  void printsAScriptThatCompletesEverySubcommandAndItsOptions() {
    var bash = run("", "completion");
    var zsh = run("", "completion", "zsh");
    var fish = run("", "completion", "fish");

    assertThat(bash.status()).isZero();
    assertThat(bash.out())
        .contains("complete -F _complete_pypi-mirror-operator")
        .contains("check")
        .contains("inject")
        .contains("--log-format")
        .contains("--operator-namespace");
    assertThat(zsh.out()).as("the same script, loading bashcompinit in zsh").isEqualTo(bash.out());
    assertThat(bash.out()).contains("bashcompinit");
    assertThat(fish.status()).isEqualTo(2);
  }
}
