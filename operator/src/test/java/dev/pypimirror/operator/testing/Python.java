package dev.pypimirror.operator.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the machine's real python3 and pip in a clean environment: nothing but what a test passes,
 * with HOME and XDG_CONFIG_DIRS pointing at empty directories, so no user or /etc/xdg pip.conf and
 * no PIP_* variable of the machine takes part. (/etc/pip.conf is always read by pip; here it only
 * sets a CA bundle, which a test that needs one overrides with PIP_CERT.)
 */
public final class Python {
  /** Debian's python3: it has pip, setuptools and wheel, which building a wheel offline needs. */
  public static final String PYTHON =
      Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

  public record Result(int status, String output) {
    public Result assertOk() {
      if (status != 0) {
        throw new AssertionError("exit " + status + ":\n" + output);
      }
      return this;
    }
  }

  private final Path home;
  private final Path emptyXdg;
  private final List<String> prefix;

  public Python(Path scratch) throws IOException {
    this(
        Files.createDirectories(scratch.resolve("home")),
        Files.createDirectories(scratch.resolve("xdg")),
        List.of());
  }

  private Python(Path home, Path emptyXdg, List<String> prefix) {
    this.home = home;
    this.emptyXdg = emptyXdg;
    this.prefix = prefix;
  }

  /** The same clean python3, run as {@code uid} (see {@link IndexStep#as}). */
  public Python as(int uid) {
    return new Python(home, emptyXdg, IndexStep.as(uid));
  }

  public Path home() {
    return home;
  }

  /**
   * Runs python3 with {@code args} in {@code dir}, with exactly {@code env} on top of the clean
   * base.
   */
  public Result run(Path dir, Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(prefix);
    command.add(PYTHON);
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    builder.environment().clear();
    Map<String, String> base = new LinkedHashMap<>();
    base.put("PATH", "/usr/local/bin:/usr/bin:/bin");
    base.put("HOME", home.toString());
    base.put("XDG_CONFIG_DIRS", emptyXdg.toString());
    base.put("XDG_CONFIG_HOME", home.resolve(".config").toString());
    base.put("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    base.put("PIP_NO_CACHE_DIR", "1");
    base.put("PYTHONDONTWRITEBYTECODE", "1");
    builder.environment().putAll(base);
    builder.environment().putAll(env);
    Process process = builder.start();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("python timed out: " + command);
    }
    return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
  }

  /**
   * pip download of one requirement into {@code dest}, no dependencies, verbose enough to debug.
   */
  public Result pipDownload(Path dest, Map<String, String> env, String requirement)
      throws IOException, InterruptedException {
    return run(dest, env, "-m", "pip", "download", "--no-deps", "-d", dest.toString(), requirement);
  }

  /**
   * Builds a wheel of a tiny pure-Python project offline and returns it. {@code name} may be any
   * PEP 508 name (dots, dashes, underscores, mixed case).
   */
  public Path buildWheel(Path workDir, String name, String version)
      throws IOException, InterruptedException {
    return buildWheel(workDir, name, version, "");
  }

  /** A wheel whose setup() also gets {@code setupArguments}, e.g. {@code python_requires='<3'}. */
  public Path buildWheel(Path workDir, String name, String version, String setupArguments)
      throws IOException, InterruptedException {
    Path src = Files.createDirectories(workDir.resolve("src-" + name + "-" + version));
    String module = name.toLowerCase().replaceAll("[-_.]+", "_");
    Files.createDirectories(src.resolve(module));
    Files.writeString(src.resolve(module).resolve("__init__.py"), "VERSION = '" + version + "'\n");
    Files.writeString(
        src.resolve("setup.py"),
        "from setuptools import setup\nsetup(name=%s, version=%s, packages=[%s]%s)\n"
            .formatted(
                quote(name),
                quote(version),
                quote(module),
                setupArguments.isEmpty() ? "" : ", " + setupArguments));
    Path out = Files.createDirectories(workDir.resolve("wheel-" + name + "-" + version));
    run(
            src,
            Map.of(),
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "--no-index",
            "--ignore-requires-python",
            "-w",
            out.toString(),
            ".")
        .assertOk();
    try (var files = Files.list(out)) {
      return files.findFirst().orElseThrow(() -> new AssertionError("no wheel for " + name));
    }
  }

  /** Builds an sdist of a tiny project offline (legacy setup.py, as old projects still ship). */
  public Path buildSdist(Path workDir, String name, String version)
      throws IOException, InterruptedException {
    return buildSdist(workDir, name, version, "");
  }

  /** An sdist whose setup() also gets {@code setupArguments}. */
  public Path buildSdist(Path workDir, String name, String version, String setupArguments)
      throws IOException, InterruptedException {
    // writes the project sources too
    Path wheel = buildWheel(workDir, name, version, setupArguments);
    Path src = workDir.resolve("src-" + name + "-" + version);
    Path out = Files.createDirectories(workDir.resolve("sdist-" + name + "-" + version));
    run(src, Map.of(), "setup.py", "-q", "sdist", "-d", out.toString()).assertOk();
    Files.delete(wheel);
    try (var files = Files.list(out)) {
      return files.findFirst().orElseThrow(() -> new AssertionError("no sdist for " + name));
    }
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "") + "'";
  }
}
