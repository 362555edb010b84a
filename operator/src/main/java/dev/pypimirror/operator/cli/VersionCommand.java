package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.BuildInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
    name = "version",
    mixinStandardHelpOptions = true,
    description = "Print the version and the commit this jar was built from.",
    footerHeading = "%nExamples:%n",
    footer = {"  pypi-mirror-operator version", "  pypi-mirror-operator --version"})
class VersionCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    for (String line : BuildInfo.current().lines()) {
      spec.commandLine().getOut().println(line);
    }
    spec.commandLine().getOut().flush();
  }
}
