package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.testing.ProjectPaths;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** The command line itself: help with examples that work, and what a typo gets. */
class CommandLineTest {
  static final List<String> COMMANDS =
      List.copyOf(new CommandLine(new Main()).getSubcommands().keySet());

  /**
   * The example command lines of a help text: lines that run this program, "\"-continued lines
   * joined, up to a pipe or redirection; null when the text has no Examples section.
   */
  static List<List<String>> examples(String help) {
    int at = help.indexOf("\nExamples:\n");
    if (at < 0) {
      return null;
    }
    List<List<String>> examples = new ArrayList<>();
    String joined = help.substring(at).replaceAll("\\\\\n\\s*", "");
    for (String line : joined.lines().map(String::strip).toList()) {
      int start = line.indexOf("pypi-mirror-operator ");
      if (line.startsWith("#") || start < 0 || line.startsWith("source")) {
        continue;
      }
      List<String> words = new ArrayList<>();
      for (String word : line.substring(start).split("\\s+")) {
        if (word.equals("|") || word.startsWith(">")) {
          break;
        }
        words.add(word);
      }
      examples.add(words.subList(1, words.size()));
    }
    return examples;
  }

  @Test
  void everyCommandsHelpHasExamplesThatParseAndNameFilesThatExist() {
    assertThat(COMMANDS).hasSize(12);
    List<String> commands = new ArrayList<>(List.of(""));
    commands.addAll(COMMANDS);
    for (String command : commands) {
      String[] args =
          command.isEmpty() ? new String[] {"--help"} : new String[] {command, "--help"};
      var help = run("", args);
      assertThat(help.status()).isZero();
      List<List<String>> examples = examples(help.out());
      assertThat(examples).as(command + " --help: Examples").isNotNull().isNotEmpty();
      CommandLine.Model.CommandSpec spec =
          command.isEmpty()
              ? new CommandLine(new Main()).getCommandSpec()
              : new CommandLine(new Main()).getSubcommands().get(command).getCommandSpec();
      for (String line : spec.usageMessage().footer()) {
        assertThat(help.out().lines())
            .as(command + ": an example line printed unwrapped")
            .contains(line.replace("$${", "${"));
      }
      for (List<String> example : examples) {
        if (!command.isEmpty() && !example.equals(List.of("--version"))) {
          assertThat(example.get(0)).as("an example of " + command).isEqualTo(command);
        }
        // picocli parses it as the command would: every option known, every value converted
        new CommandLine(new Main()).parseArgs(example.toArray(String[]::new));
        example.stream()
            .filter(word -> word.startsWith("deploy/"))
            .forEach(
                file ->
                    assertThat(ProjectPaths.ROOT.resolve(file))
                        .as(String.join(" ", example))
                        .exists());
      }
    }
  }

  /** The examples that need no cluster, server or folder outside the checkout run and succeed. */
  @Test
  void theOfflineExamplesRun() {
    int ran = 0;
    for (String command : List.of("render", "inject", "completion", "version")) {
      for (List<String> example : examples(run("", command, "--help").out())) {
        if (example.contains("-")) {
          continue; // reads what another command pipes in
        }
        List<String> args =
            example.stream()
                .map(w -> w.startsWith("deploy/") ? ProjectPaths.ROOT.resolve(w).toString() : w)
                .toList();
        var result = run("", args.toArray(String[]::new));
        assertThat(result.status()).as(String.join(" ", example) + ": " + result.err()).isZero();
        assertThat(result.out()).isNotEmpty();
        ran++;
      }
    }
    assertThat(ran).isGreaterThanOrEqualTo(10);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "rendr | error: unknown command \"rendr\" for \"pypi-mirror-operator\"; did you mean \"render\"?",
        "chek | error: unknown command \"chek\" for \"pypi-mirror-operator\"; did you mean \"check\"?",
        "xyzzy | error: unknown command \"xyzzy\" for \"pypi-mirror-operator\"; see pypi-mirror-operator --help",
        "render --polcy p.yaml | error: unknown option \"--polcy\" for \"pypi-mirror-operator render\"; did you mean \"--policy\"?",
        "render -f m.yaml --outptu=json | error: unknown option \"--outptu\" for \"pypi-mirror-operator render\"; did you mean \"--output\"?",
        "run --leader-electon | error: unknown option \"--leader-electon\" for \"pypi-mirror-operator run\"; did you mean \"--leader-election\"?",
        "check --kubeconfg k | error: unknown option \"--kubeconfg\" for \"pypi-mirror-operator check\"; did you mean \"--kubeconfig\"?",
        "version now | error: unexpected argument \"now\" for \"pypi-mirror-operator version\"; see pypi-mirror-operator version --help",
      })
  void aTypoGetsOneLineWithWhatWasMeantAndExitTwo(String args, String expected) {
    var result = run("", args.split(" "));

    assertThat(result.status()).isEqualTo(2);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).isEqualTo(expected + "\n");
  }

  @Test
  void namesAreCloseEnoughWithinTwoEditsOrAsAPrefix() {
    assertThat(Main.closeEnough("rendr", "render")).isTrue();
    assertThat(Main.closeEnough("--pol", "--policy")).isTrue();
    assertThat(Main.closeEnough("rendr", "index")).isFalse();
    assertThat(Main.closeEnough("xyzzy", "proxy")).isFalse();
  }

  @Test
  void everyCommandsVersionOptionPrintsTheVersion() {
    for (String command : COMMANDS) {
      var result = run("", command, "--version");
      assertThat(result.status()).isZero();
      assertThat(result.out()).as(command + " --version").startsWith("pypi-mirror-operator ");
    }
  }

  @Test
  void helpTextsSayWhatTheCodeDoes() throws Exception {
    String run = run("", "run", "--help").out().replaceAll("\\s+", " ");
    assertThat(run).contains("the cache sync Job runs its `ingest`").doesNotContain("runs `index`");
    assertThat(run("", "index", "--help").out().replaceAll("\\s+", " "))
        .as("the sync Job runs ingest, not index")
        .contains("the sync Job's ingest writes it to");
    String source =
        Files.readString(
            ProjectPaths.ROOT.resolve(
                "operator/src/main/java/dev/pypimirror/operator/owned/CacheSync.java"));
    assertThat(source).contains("\"ingest\"").contains("\"/dev/termination-log\"");
  }
}
