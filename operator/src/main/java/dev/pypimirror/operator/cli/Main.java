package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.BuildInfo;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The one jar's command line. */
@Command(
    name = "pypi-mirror-operator",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Gives image-build pods a PyPI mirror.",
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
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setParameterExceptionHandler(
        (e, a) -> {
          err.println("error: " + e.getMessage());
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
