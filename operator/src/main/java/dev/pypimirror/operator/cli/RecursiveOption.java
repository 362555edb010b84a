package dev.pypimirror.operator.cli;

import java.io.InputStream;
import picocli.CommandLine.Option;

/**
 * {@code -R}: what {@code check}, {@code render} and {@code inject} read when their {@code -f}
 * names a folder. Each command declares its own {@code -f}: what it reads there, and whether it
 * must be given, differ.
 */
class RecursiveOption {
  @Option(
      names = {"-R", "--recursive"},
      description = "With -f DIR, the folder's subfolders too.")
  boolean recursive;

  /**
   * The manifests {@code file} names: a file, a folder (its subfolders with -R), or - for stdin.
   */
  ManifestReader read(String file, InputStream stdin) {
    return ManifestReader.read(file, recursive, stdin);
  }
}
