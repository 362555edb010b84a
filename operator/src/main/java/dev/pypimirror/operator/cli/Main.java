package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.BuildInfo;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one jar's command line. */
@Command(
    name = "pypi-mirror-operator",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Gives image-build pods a PyPI mirror.",
    footerHeading = "%nExamples:%n",
    footer = {
      "  # the whole flow, with no cluster",
      "  pypi-mirror-operator demo",
      "  # what a mirror becomes, and what the webhook does to a build Job",
      "  pypi-mirror-operator render -f deploy/examples/pypimirror.yaml",
      "  pypi-mirror-operator inject -f deploy/examples/build-job.yaml \\",
      "      --mirror deploy/examples/pypimirror.yaml",
      "  # why a pod of the cluster was, or was not, injected",
      "  pypi-mirror-operator check -n builds kaniko-build",
      "  # every command's options and examples",
      "  pypi-mirror-operator render --help"
    },
    subcommands = {
      DemoCommand.class,
      RunCommand.class,
      UninstallCommand.class,
      PreUpgradeCommand.class,
      RenderCommand.class,
      InjectCommand.class,
      IndexCommand.class,
      IngestCommand.class,
      ProxyCommand.class,
      CheckCommand.class,
      CompletionCommand.class,
      VersionCommand.class
    })
public class Main implements Runnable {
  static final int EXIT_BAD_INPUT = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(
        execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /**
   * Runs one command line; returns the exit status. Bad input is one line on {@code err}, status 2.
   */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine commandLine = new CommandLine(new Main());
    // every command's -V, --version prints what the root's does
    commandLine
        .getSubcommands()
        .values()
        .forEach(c -> c.getCommandSpec().versionProvider(new Version()));
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setParameterExceptionHandler(
        (e, a) -> {
          err.println("error: " + badArguments(e));
          err.flush();
          return EXIT_BAD_INPUT;
        });
    commandLine.setExecutionExceptionHandler(
        (e, cl, parsed) -> {
          if (e instanceof CliException) {
            err.println("error: " + e.getMessage());
            err.flush();
            return EXIT_BAD_INPUT;
          }
          err.println("error: " + causes(e));
          err.flush();
          return 1;
        });
    return commandLine.execute(args);
  }

  /**
   * What is wrong with the command line, in one line; for a misspelt command or option, what was
   * meant (picocli's suggestions: the most similar names).
   */
  static String badArguments(CommandLine.ParameterException e) {
    CommandLine.UnmatchedArgumentException unmatched;
    if (e instanceof CommandLine.UnmatchedArgumentException u) {
      unmatched = u;
    } else if (!e.getCommandLine().getUnmatchedArguments().isEmpty()) {
      // a misspelt option also leaves a required one missing: the misspelling is the news
      unmatched =
          new CommandLine.UnmatchedArgumentException(
              e.getCommandLine(), e.getCommandLine().getUnmatchedArguments());
    } else {
      return e.getMessage();
    }
    if (unmatched.getUnmatched().isEmpty()) {
      return e.getMessage();
    }
    CommandLine.Model.CommandSpec command = e.getCommandLine().getCommandSpec();
    String argument = unmatched.getUnmatched().get(0);
    String what =
        argument.startsWith("-")
            ? "unknown option"
            : command.subcommands().isEmpty() ? "unexpected argument" : "unknown command";
    String typed = argument.replaceFirst("=.*", "");
    List<String> suggestions =
        unmatched.getSuggestions().stream().filter(n -> closeEnough(typed, n)).toList();
    return "%s \"%s\" for \"%s\"%s"
        .formatted(
            what,
            typed,
            command.qualifiedName(),
            suggestions.isEmpty()
                ? "; see " + command.qualifiedName() + " --help"
                : "; did you mean "
                    + suggestions.stream()
                        .limit(3)
                        .map(n -> "\"" + n + "\"")
                        .collect(java.util.stream.Collectors.joining(" or "))
                    + "?");
  }

  /**
   * A name close enough to what was typed to be what was meant, as cobra (kubectl) suggests: at
   * most two edits apart, or one starts with the other.
   */
  static boolean closeEnough(String typed, String name) {
    String a = typed.replaceFirst("^-+", "");
    String b = name.replaceFirst("^-+", "");
    if (a.length() >= 2 && (b.startsWith(a) || a.startsWith(b))) {
      return true;
    }
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()] <= 2;
  }

  /** A message and its causes, each once: "what failed: why: why that". */
  static String causes(Throwable e) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = e; t != null && t != t.getCause(); t = t.getCause()) {
      if (t.getCause() != null && String.valueOf(t.getCause()).equals(t.getMessage())) {
        continue; // a wrapper that only repeats its cause
      }
      String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
      if (text.indexOf(message) < 0) {
        text.append(text.isEmpty() ? "" : ": ").append(message);
      }
    }
    return text.toString();
  }

  static class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return BuildInfo.current().lines();
    }
  }
}
