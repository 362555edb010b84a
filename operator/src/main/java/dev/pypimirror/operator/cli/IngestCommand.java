package dev.pypimirror.operator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.cache.CacheIntake;
import dev.pypimirror.operator.config.Requirements;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description =
        "The trusted step of a cache sync: check the files a download left in DOWNLOADS and add"
            + " the good ones to CACHE/_files (never overwriting or deleting a file there), then"
            + " index CACHE as the index command does. Exit 1 when a hash-pinned sync refused a"
            + " file (then nothing is added).",
    footerHeading = "%nExamples:%n",
    footer = {
      "  # as the sync Job runs it: the download's scratch volume into the cache",
      "  pypi-mirror-operator ingest /scratch /cache \\",
      "      --summary-file /dev/termination-log",
      "  # only files whose sha256 a --hash line lists; sdists too",
      "  pypi-mirror-operator ingest downloads/ cache/ \\",
      "      --requirements requirements.txt --allow-source-distributions"
    })
class IngestCommand implements Callable<Integer> {
  /** The kubelet keeps at most 4096 bytes of a termination message. */
  static final int SUMMARY_LIMIT = 4096;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DOWNLOADS", description = "Where pip download wrote.")
  Path downloads;

  @Parameters(index = "1", paramLabel = "CACHE", description = "The cache to add to and index.")
  Path cache;

  @Mixin SummaryFileOption summaryFile;

  @Option(
      names = "--max-file-size",
      paramLabel = "BYTES",
      defaultValue = "2147483648",
      description = "Refuse larger files (default: ${DEFAULT-VALUE}).")
  long maxFileSize;

  @Option(
      names = "--allow-source-distributions",
      description = "Also take sdists (default: wheels only).")
  boolean allowSourceDistributions;

  static class RequirementsSource {
    @Option(
        names = "--requirements",
        paramLabel = "FILE",
        description = "The requirements file of the sync: with --hash lines, only listed files.")
    Path file;

    @Option(
        names = "--requirements-env",
        paramLabel = "VAR",
        description = "The same, read from this environment variable.")
    String variable;
  }

  @ArgGroup(exclusive = true)
  RequirementsSource requirements;

  @Override
  public Integer call() throws IOException {
    for (Path dir : new Path[] {downloads, cache}) {
      if (!Files.isDirectory(dir)) {
        throw new CliException(dir + ": not a directory");
      }
    }
    Set<String> sha256 = Set.of();
    if (requirements != null) {
      Requirements.Parsed parsed = Requirements.ofFile("requirements", requirementsText());
      if (!parsed.problems().isEmpty()) {
        throw new CliException(String.join("; ", parsed.problems()));
      }
      sha256 = parsed.allowedSha256();
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    CacheIntake.Result result =
        CacheIntake.accept(
            downloads,
            cache,
            new CacheIntake.Options(maxFileSize, allowSourceDistributions, sha256));
    result.refused().forEach(r -> err.println("refused " + r));
    result.added().forEach((name, hash) -> out.println("added " + name + " sha256=" + hash));
    ObjectNode summary = JSON.createObjectNode();
    if (result.failed()) {
      summary.put(
          "error",
          "hash-pinned sync refused %d files: nothing was added"
              .formatted(result.refused().size()));
    } else {
      summary = (ObjectNode) JSON.readTree(IndexCommand.indexAndReport(cache, out, err).json());
    }
    summary.put("added", result.added().size());
    summary.put("alreadyPresent", result.present().size());
    summary.put("refused", result.refused().size());
    ArrayNode refusals = summary.putArray("refusals");
    out.printf(
        "added %d, already present %d, refused %d%n",
        result.added().size(), result.present().size(), result.refused().size());
    for (CacheIntake.Refusal refusal : result.refused()) {
      refusals.add(refusal.toString());
      if (JSON.writeValueAsBytes(summary).length > SUMMARY_LIMIT) {
        refusals.remove(refusals.size() - 1);
        break;
      }
    }
    out.flush();
    err.flush();
    summaryFile.write(JSON.writeValueAsString(summary));
    return result.failed() ? 1 : 0;
  }

  /** The requirements, held to the limit every input of the command line has (3 MiB). */
  private String requirementsText() {
    if (requirements.file != null) {
      return ManifestReader.readBounded(requirements.file.toString(), null);
    }
    String source = "environment variable " + requirements.variable;
    String text = System.getenv(requirements.variable);
    if (text == null) {
      throw new CliException(source + " is not set");
    }
    return ManifestReader.bounded(source, text);
  }
}
