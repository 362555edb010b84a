package dev.pypimirror.operator.proxy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Each client address's share of the upstream connections: at most {@code share} of its upstream
 * requests at once, the others waiting in its own line ({@link Permits}), so one client's burst of
 * cold downloads waits behind itself, not in front of everybody else. An address is remembered only
 * while it has upstream requests under way or waiting (its entry goes when the last one ends), so
 * memory follows the requests in flight, never every address ever seen.
 */
final class UpstreamShares {
  private final int share;
  private final ConcurrentHashMap<String, Line> lines = new ConcurrentHashMap<>();

  /** One address's permits, and how many of its requests hold or wait for one. */
  private static final class Line {
    final Permits permits;
    int users; // changed only inside the map's compute for its key

    Line(int share) {
      this.permits = new Permits(share);
    }
  }

  UpstreamShares(int share) {
    if (share < 1) {
      throw new IllegalArgumentException("a share of at least 1, got " + share);
    }
    this.share = share;
  }

  /**
   * A place in {@code client}'s share: completes with the action that gives it back (once, however
   * often it is run) when one is free, or fails with a {@link
   * java.util.concurrent.TimeoutException} after {@code patience}.
   */
  CompletableFuture<Runnable> acquire(String client, Duration patience) {
    Line line =
        lines.compute(
            client,
            (key, existing) -> {
              Line l = existing == null ? new Line(share) : existing;
              l.users++;
              return l;
            });
    AtomicBoolean left = new AtomicBoolean();
    Runnable leave =
        () -> {
          if (left.compareAndSet(false, true)) {
            lines.computeIfPresent(client, (key, l) -> --l.users == 0 ? null : l);
          }
        };
    return line.permits
        .acquire(patience)
        .handle(
            (release, error) -> {
              if (error != null) {
                leave.run();
                throw error instanceof CompletionException c ? c : new CompletionException(error);
              }
              return () -> {
                release.run(); // to the next in this client's line first, then the entry may go
                leave.run();
              };
            });
  }

  /** The upstream requests of {@code client} holding a place now. */
  int inUse(String client) {
    Line line = lines.get(client);
    return line == null ? 0 : line.permits.inUse();
  }

  /** Addresses with upstream requests under way or waiting (the entries held). */
  int clients() {
    return lines.size();
  }
}
