package dev.pypimirror.operator.cache;

import dev.pypimirror.operator.testing.Python;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Wheels of setuptools and wheel for a loopback index, so that pip can build an sdist's metadata
 * with build isolation, as the sync Job does, without the internet: Debian's own wheel of
 * setuptools where installed, else both repacked from the machine's installed packages.
 */
final class BuildTools {
  /** setuptools finds bdist_wheel through wheel's entry point. */
  private static final Map<String, String> ENTRY_POINTS =
      Map.of("wheel", "{'distutils.commands': ['bdist_wheel = wheel.bdist_wheel:bdist_wheel']}");

  private BuildTools() {}

  static Path setuptools(Python python, Path workDir) throws IOException, InterruptedException {
    Path debian = Path.of("/usr/share/python-wheels");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> files = Files.list(debian)) {
        var found =
            files.filter(f -> f.getFileName().toString().startsWith("setuptools-")).findFirst();
        if (found.isPresent()) {
          return found.get();
        }
      }
    }
    return repack(python, workDir, "setuptools", "setuptools", "pkg_resources", "_distutils_hack");
  }

  static Path wheel(Python python, Path workDir) throws IOException, InterruptedException {
    return repack(python, workDir, "wheel", "wheel");
  }

  /**
   * A wheel of the installed {@code packages}, named {@code project} at their installed version.
   */
  private static Path repack(Python python, Path workDir, String project, String... packages)
      throws IOException, InterruptedException {
    Path site = Path.of("/usr/lib/python3/dist-packages");
    String version =
        python
            .run(
                workDir,
                Map.of(),
                "-c",
                "import importlib.metadata as m; print(m.version('" + project + "'))")
            .assertOk()
            .output()
            .strip();
    Path src = Files.createDirectories(workDir.resolve("repack-" + project));
    for (String pkg : packages) {
      copyTree(site.resolve(pkg), src.resolve(pkg));
    }
    Files.writeString(
        src.resolve("setup.py"),
        "from setuptools import setup, find_packages\nsetup(name='%s', version='%s', packages=find_packages(), entry_points=%s)\n"
            .formatted(project, version, ENTRY_POINTS.getOrDefault(project, "{}")));
    Path out = Files.createDirectories(workDir.resolve("repacked-" + project));
    python
        .run(
            src,
            Map.of(),
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "--no-index",
            "-w",
            out.toString(),
            ".")
        .assertOk();
    try (Stream<Path> files = Files.list(out)) {
      return files.findFirst().orElseThrow();
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.filter(p -> !p.toString().contains("__pycache__")).toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
