package dev.pypimirror.operator.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.stream.Stream;

/**
 * Another replica on the same cache volume, in its own process (a second JVM, as a second pod's
 * would be): {@code hold CACHE NAME} holds one cached file as a serve does, says {@code held} (or
 * {@code not held}), and keeps it until its standard input ends, then exits without letting go (the
 * process's end releases its locks); {@code evict CACHE} evicts every fetched file it may and says
 * which files are left.
 */
public final class OtherReplica {
  private OtherReplica() {}

  public static void main(String[] args) throws Exception {
    Path cache = Path.of(args[1]);
    if (args[0].equals("evict")) {
      // any use is above a mark of 0: everything evictable goes
      new FileStore(cache, 0.0, Clock.systemUTC()).begin("evicting-1.0.tar.gz", 1);
      try (Stream<Path> files = Files.list(cache.resolve("_files"))) {
        System.out.println(
            String.join(" ", files.map(f -> f.getFileName().toString()).sorted().toList()));
      }
      return;
    }
    FileStore store = new FileStore(cache, 1.0, Clock.systemUTC());
    if (store.hold(args[2]).isEmpty()) {
      System.out.println("not held");
      return;
    }
    System.out.println("held");
    System.out.flush();
    while (System.in.read() >= 0) {
      // until the test closes the pipe
    }
  }

  /** Another replica's process, and the first line it said. */
  record Running(Process process, String said) {}

  /** Starts another replica with {@code args}; returns once it said its first line. */
  static Running start(String... args) throws IOException {
    String java = ProcessHandle.current().info().command().orElseThrow();
    String[] command = new String[args.length + 4];
    command[0] = java;
    command[1] = "-cp";
    command[2] = System.getProperty("java.class.path");
    command[3] = OtherReplica.class.getName();
    System.arraycopy(args, 0, command, 4, args.length);
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    var out = new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8));
    return new Running(process, out.readLine());
  }

  /** What another replica's eviction leaves in the cache's files (it runs to its end). */
  static String evict(Path cache) throws Exception {
    Running replica = start("evict", cache.toString());
    replica.process().waitFor();
    return replica.said();
  }
}
