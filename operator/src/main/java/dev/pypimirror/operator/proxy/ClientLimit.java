package dev.pypimirror.operator.proxy;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * At most {@code limit} requests in flight per client, without waiting: {@link #acquire} counts one
 * more for a client, or refuses when it has the limit already. Only clients with requests in flight
 * are remembered (a client's entry goes when its count drops to 0), so memory follows the clients
 * being served now, never every address ever seen.
 */
final class ClientLimit {
  private final int limit;
  private final ConcurrentHashMap<String, Integer> inFlight = new ConcurrentHashMap<>();

  ClientLimit(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("a limit of at least 1, got " + limit);
    }
    this.limit = limit;
  }

  /**
   * Counts one more request of {@code client} and returns the action that uncounts it (once,
   * however often it is run); empty, and nothing counted, when the client has the limit in flight.
   */
  Optional<Runnable> acquire(String client) {
    AtomicBoolean counted = new AtomicBoolean();
    inFlight.compute(
        client,
        (key, count) -> {
          int now = count == null ? 0 : count;
          if (now >= limit) {
            return count;
          }
          counted.set(true);
          return now + 1;
        });
    if (!counted.get()) {
      return Optional.empty();
    }
    AtomicBoolean released = new AtomicBoolean();
    return Optional.of(
        () -> {
          if (released.compareAndSet(false, true)) {
            inFlight.computeIfPresent(client, (key, count) -> count <= 1 ? null : count - 1);
          }
        });
  }

  /** The requests of {@code client} in flight now. */
  int inFlight(String client) {
    return inFlight.getOrDefault(client, 0);
  }

  /** How many clients have requests in flight now (the entries held). */
  int clients() {
    return inFlight.size();
  }
}
