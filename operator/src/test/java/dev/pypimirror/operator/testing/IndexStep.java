package dev.pypimirror.operator.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs the {@code index} command in a JVM of its own as the sync Job's index container runs it: as
 * a given uid (no supplementary groups) under a given umask. Switching uid needs root and
 * util-linux's {@code setpriv}; the JVM's class path is copied once to a folder every uid can read.
 */
public final class IndexStep {
  /** The uid and gid of the sync Job's pod. */
  public static final int SYNC_UID = 65532;

  /** Some other uid, as a build image's USER may be. */
  public static final int BUILD_UID = 4321;

  private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
  private static Path classPath;

  public record Result(int status, String out, String err) {}

  private IndexStep() {}

  /** Whether this machine can run a step as another uid (root with setpriv). */
  public static boolean canSwitchUid() {
    return Files.isExecutable(SETPRIV) && "root".equals(System.getProperty("user.name"));
  }

  /** The command prefix that runs what follows as {@code uid} (and gid), no other groups. */
  public static List<String> as(int uid) {
    return List.of(SETPRIV.toString(), "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--");
  }

  /** {@code java ... Main index <args>} as {@code uid} under {@code umask} (e.g. "077"). */
  public static Result index(int uid, String umask, String... args)
      throws IOException, InterruptedException {
    List<String> all = new ArrayList<>(List.of("index"));
    all.addAll(List.of(args));
    return cli(uid, umask, all.toArray(String[]::new));
  }

  /** {@code java ... Main <args>}: any command, as {@code uid} under {@code umask}. */
  public static Result cli(int uid, String umask, String... args)
      throws IOException, InterruptedException {
    Path jars = readableClassPath();
    List<String> command = new ArrayList<>(as(uid));
    command.addAll(
        List.of(
            "/bin/sh",
            "-c",
            "umask " + umask + " && exec \"$0\" \"$@\"",
            System.getProperty("java.home") + "/bin/java",
            "-cp",
            readableClassPath()
                + File.separator
                + "*"
                + File.pathSeparator
                + classPath.resolve("classes"),
            "dev.pypimirror.operator.cli.Main"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).directory(new File("/")).start();
    process.getOutputStream().close();
    var err = new java.io.ByteArrayOutputStream();
    Thread errReader =
        new Thread(
            () -> {
              try {
                process.getErrorStream().transferTo(err);
              } catch (IOException e) {
                // the process ended
              }
            });
    errReader.start();
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("index timed out: " + command);
    }
    errReader.join();
    return new Result(
        process.exitValue(),
        new String(out, StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  /**
   * Makes {@code path} and every folder above it reachable by every uid (o+x), as a PVC is. Only
   * folders lacking o+x are changed (a mode set from Java drops the sticky bit, which /tmp needs).
   */
  public static void openUpTo(Path path) throws IOException {
    for (Path p = path.toAbsolutePath(); p != null && p.getParent() != null; p = p.getParent()) {
      var mode = Files.getPosixFilePermissions(p);
      if (mode.add(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
        Files.setPosixFilePermissions(p, mode);
      }
    }
  }

  /** Copies this JVM's class path (jars and the main classes) to a folder every uid can read. */
  private static synchronized Path readableClassPath() throws IOException {
    if (classPath == null) {
      Path copy =
          Files.createTempDirectory(
              "index-step-cp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
      Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
      Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(copy)));
      for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
        Path source = Path.of(entry);
        if (entry.endsWith(".jar") && Files.isRegularFile(source)) {
          Path target = copy.resolve(source.getFileName());
          if (!Files.exists(target)) {
            Files.copy(source, target);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
          }
        } else if (Files.isDirectory(source) && source.endsWith("classes")) {
          copyTree(source, copy.resolve("classes"));
        }
      }
      classPath = copy;
    }
    return classPath;
  }

  private static void copyTree(Path source, Path target) throws IOException {
    try (Stream<Path> all = Files.walk(source)) {
      for (Path p : all.toList()) {
        Path to = target.resolve(source.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
          Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
        } else {
          Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
          Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
    }
  }

  private static void delete(Path root) {
    try (Stream<Path> all = Files.walk(root)) {
      all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort at exit
    }
  }
}
