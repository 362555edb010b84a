package dev.pypimirror.operator.testing;

import java.nio.file.Path;

/** Paths of the project tree, for tests that read examples or committed files. */
public final class ProjectPaths {
  /** The repository root (Maven passes it; the module's parent otherwise). */
  public static final Path ROOT =
      Path.of(System.getProperty("project.root", "..")).toAbsolutePath().normalize();

  private ProjectPaths() {}

  public static Path example(String name) {
    return ROOT.resolve("deploy/examples").resolve(name);
  }
}
