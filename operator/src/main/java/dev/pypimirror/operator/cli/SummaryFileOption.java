package dev.pypimirror.operator.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --summary-file}: where {@code index} and {@code ingest} also write their one-line JSON
 * summary (the sync Job reads it back as the container's termination message).
 */
class SummaryFileOption {
  @Option(
      names = "--summary-file",
      paramLabel = "FILE",
      description =
          "Also write a one-line JSON summary here (the sync Job's ingest writes it to"
              + " /dev/termination-log).")
  Path file;

  /** Writes {@code json} (UTF-8) to the file, if one was given. */
  void write(String json) throws IOException {
    if (file != null) {
      Files.writeString(file, json);
    }
  }
}
