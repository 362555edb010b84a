package dev.pypimirror.operator.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A fish completion script made from the command line itself, as picocli makes the bash one: the
 * commands with their descriptions, each command's options (values from their candidates, files
 * where a path is asked for) and positional choices.
 */
final class FishCompletion {
  private FishCompletion() {}

  static String script(CommandSpec root) {
    String name = root.name();
    List<String> lines = new ArrayList<>();
    lines.add("# fish completion for " + name + ", made by `" + name + " completion fish`");
    List<String> commands = new ArrayList<>(root.subcommands().keySet());
    String noCommandYet = "not __fish_seen_subcommand_from " + String.join(" ", commands);
    for (OptionSpec option : root.options()) {
      lines.add(option(name, "'" + noCommandYet + "'", option));
    }
    for (String command : commands) {
      CommandSpec spec = root.subcommands().get(command).getCommandSpec();
      lines.add(
          "complete -c %s -n '%s' -f -a %s -d %s"
              .formatted(
                  name,
                  noCommandYet,
                  command,
                  quote(firstSentence(spec.usageMessage().description()))));
    }
    for (String command : commands) {
      CommandSpec spec = root.subcommands().get(command).getCommandSpec();
      String seen = "'__fish_seen_subcommand_from " + command + "'";
      for (OptionSpec option : spec.options()) {
        lines.add(option(name, seen, option));
      }
      spec.positionalParameters().stream()
          .filter(p -> !candidates(p).isEmpty())
          .forEach(
              p ->
                  lines.add(
                      "complete -c %s -n %s -f -a %s -d %s"
                          .formatted(
                              name,
                              seen,
                              quote(String.join(" ", candidates(p))),
                              quote(firstSentence(p.description())))));
    }
    return String.join("\n", lines) + "\n";
  }

  private static String option(String name, String condition, OptionSpec option) {
    StringBuilder line = new StringBuilder("complete -c " + name + " -n " + condition);
    for (String each : option.names()) {
      if (each.startsWith("--")) {
        line.append(" -l ").append(each.substring(2));
      } else if (each.length() == 2) {
        line.append(" -s ").append(each.substring(1));
      } else {
        line.append(" -o ").append(each.substring(1));
      }
    }
    if (option.arity().max() > 0) {
      List<String> candidates = candidates(option);
      if (!candidates.isEmpty()) {
        line.append(" -x -a ").append(quote(String.join(" ", candidates)));
      } else if (takesPath(option)) {
        line.append(" -r -F");
      } else {
        line.append(" -x");
      }
    } else {
      line.append(" -f");
    }
    line.append(" -d ").append(quote(firstSentence(option.description())));
    return line.toString();
  }

  /**
   * The values an option takes: those its label lists ("yaml|json", what is typed), else its
   * candidates (an enum's constants).
   */
  static List<String> candidates(ArgSpec arg) {
    String label = arg.paramLabel();
    if (label.contains("|") && !label.equals(label.toUpperCase(java.util.Locale.ROOT))) {
      return List.of(label.split("\\|"));
    }
    Iterable<String> given = arg.completionCandidates();
    return given == null ? List.of() : StreamSupport.stream(given.spliterator(), false).toList();
  }

  /** A file is asked for: a Path, or a value labelled FILE or DIR. */
  private static boolean takesPath(ArgSpec arg) {
    return Path.class.isAssignableFrom(arg.type())
        || arg.paramLabel().contains("FILE")
        || arg.paramLabel().contains("DIR");
  }

  /** The description's first sentence, with picocli's ${DEFAULT-VALUE} and the like left out. */
  static String firstSentence(String[] description) {
    String text = description.length == 0 ? "" : description[0];
    text = text.replaceAll("\\s*\\([^()]*\\$\\{[^}]*}[^()]*\\)", "");
    int end = text.indexOf(". ");
    text = end < 0 ? text : text.substring(0, end + 1);
    return CommandLine.Help.Ansi.OFF.string(text).strip();
  }

  /** A fish single-quoted word: only \ and ' are special inside. */
  static String quote(String text) {
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
