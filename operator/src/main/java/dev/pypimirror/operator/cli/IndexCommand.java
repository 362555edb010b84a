package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.cache.SimpleIndexBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "index",
    mixinStandardHelpOptions = true,
    description =
        "Make DIR a PEP 503 simple index in place over every wheel and sdist under it, so that pip"
            + " with index-url = file://DIR installs them, whatever uid it runs as. Idempotent;"
            + " never changes a package file, a page it did not write, or anything through a"
            + " symbolic link; what it cannot read is skipped with a warning.",
    footerHeading = "%nExamples:%n",
    footer = {
      "  pypi-mirror-operator index /var/cache/pypi",
      "  pip install --index-url file:///var/cache/pypi requests",
      "  pypi-mirror-operator index /var/cache/pypi --summary-file summary.json"
    })
class IndexCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "The directory to index.")
  Path dir;

  @Mixin SummaryFileOption summaryFile;

  @Override
  public Integer call() throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new CliException(dir + ": not a directory");
    }
    SimpleIndexBuilder.Summary summary =
        indexAndReport(dir, spec.commandLine().getOut(), spec.commandLine().getErr());
    summaryFile.write(summary.json());
    return 0;
  }

  /**
   * (Re)builds the pages over DIR and says what happened: one warning per entry skipped or left
   * alone, then one line of figures. The sync's ingest step reports its index the same way.
   */
  static SimpleIndexBuilder.Summary indexAndReport(Path dir, PrintWriter out, PrintWriter err)
      throws IOException {
    SimpleIndexBuilder.Summary summary = SimpleIndexBuilder.build(dir);
    summary.skipped().forEach(s -> err.println("warning: skipped " + s));
    summary.warnings().forEach(w -> err.println("warning: " + w));
    out.printf(
        "indexed %d files of %d projects (%d bytes) in %s; %d pages written%s%n",
        summary.files(),
        summary.projects(),
        summary.bytes(),
        dir,
        summary.pagesWritten(),
        summary.skipped().isEmpty()
            ? ""
            : "; %d skipped (%d unreadable)"
                .formatted(summary.skipped().size(), summary.unreadable()));
    out.flush();
    err.flush();
    return summary;
  }
}
