package dev.pypimirror.operator.proxy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Concurrent asks for the same key share one piece of work: the first starts it, the others get the
 * same result, and the key is free again once it completes.
 */
public final class SingleFlight<K, V> {
  /** A share of the work for one key: the leader does it, the others wait for its result. */
  public record Ticket<V>(CompletableFuture<V> result, boolean leader) {}

  private final ConcurrentHashMap<K, CompletableFuture<V>> inFlight = new ConcurrentHashMap<>();

  /** Joins the work under way for {@code key}, or makes the caller its leader. */
  public Ticket<V> join(K key) {
    return join(key, CompletableFuture::new);
  }

  /**
   * As {@link #join(Object)}, the work's future made by {@code fresh} when the caller leads: a
   * subclass can carry what the leader shares before the result (such as a file being written).
   */
  public Ticket<V> join(K key, Supplier<? extends CompletableFuture<V>> fresh) {
    CompletableFuture<V> mine = fresh.get();
    CompletableFuture<V> existing = inFlight.putIfAbsent(key, mine);
    if (existing != null) {
      return new Ticket<>(existing, false);
    }
    mine.whenComplete((v, e) -> inFlight.remove(key, mine));
    return new Ticket<>(mine, true);
  }

  /** The result of {@code work} for {@code key}, started only when none is under way. */
  public CompletableFuture<V> run(K key, Supplier<CompletableFuture<V>> work) {
    Ticket<V> ticket = join(key);
    if (ticket.leader()) {
      try {
        work.get()
            .whenComplete(
                (v, e) -> {
                  // free before anyone sees the result: a later ask starts new work
                  inFlight.remove(key, ticket.result());
                  if (e == null) {
                    ticket.result().complete(v);
                  } else {
                    ticket.result().completeExceptionally(e);
                  }
                });
      } catch (RuntimeException e) {
        ticket.result().completeExceptionally(e);
      }
    }
    return ticket.result();
  }

  /** How many keys have work under way. */
  public int size() {
    return inFlight.size();
  }
}
