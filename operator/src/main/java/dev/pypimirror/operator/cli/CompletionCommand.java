package dev.pypimirror.operator.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    description = {
      "Print a shell completion script for bash, zsh or fish, made from this command line. The jar"
          + " is run as a command named pypi-mirror-operator, e.g. a script on the PATH that runs"
          + " `exec java -jar .../pypi-mirror-operator.jar \"$@\"`."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  # bash, in this shell",
      "  source <(pypi-mirror-operator completion bash)",
      "  # zsh (the bash script, through bashcompinit, which it loads)",
      "  pypi-mirror-operator completion zsh > \"$${fpath[1]}/_pypi-mirror-operator\"",
      "  # fish",
      "  pypi-mirror-operator completion fish \\",
      "      > ~/.config/fish/completions/pypi-mirror-operator.fish"
    })
class CompletionCommand implements Callable<Integer> {
  enum Shell {
    bash,
    zsh,
    fish
  }

  @Spec CommandSpec spec;

  @Parameters(
      arity = "0..1",
      defaultValue = "bash",
      paramLabel = "bash|zsh|fish",
      description =
          "The shell (default: ${DEFAULT-VALUE}); bash and zsh get the same script, fish its own.")
  Shell shell;

  @Override
  public Integer call() {
    // picocli's script runs in bash, and in zsh through bashcompinit (which it loads itself)
    String script =
        shell == Shell.fish
            ? FishCompletion.script(spec.root())
            : AutoComplete.bash(spec.root().name(), spec.root().commandLine());
    spec.commandLine().getOut().print(script);
    spec.commandLine().getOut().flush();
    return 0;
  }
}
