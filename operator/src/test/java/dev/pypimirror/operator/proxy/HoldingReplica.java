package dev.pypimirror.operator.proxy;

import java.nio.file.Path;
import java.time.Clock;

/**
 * Another replica on the same volume, in its own process: holds one cached file as a serve does,
 * says {@code held}, and keeps it until its standard input ends, then exits without letting go (the
 * process's end releases its locks).
 */
public final class HoldingReplica {
  private HoldingReplica() {}

  public static void main(String[] args) throws Exception {
    FileStore store = new FileStore(Path.of(args[0]), 1.0, Clock.systemUTC());
    if (store.hold(args[1]).isEmpty()) {
      System.out.println("not held");
      return;
    }
    System.out.println("held");
    System.out.flush();
    while (System.in.read() >= 0) {
      // until the test closes the pipe
    }
  }
}
