package dev.pypimirror.operator.proxy;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * At most {@code limit} things at once, without blocking a thread: {@link #acquire} completes with
 * a release action at once when a permit is free, else when one is released, in turn, or fails with
 * a {@link TimeoutException} after the patience given. Each release action frees its permit once,
 * however often it is run.
 */
final class Permits {
  private final int limit;
  private final ArrayDeque<CompletableFuture<Runnable>> waiting = new ArrayDeque<>();
  private int inUse;

  Permits(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("a limit of at least 1, got " + limit);
    }
    this.limit = limit;
  }

  CompletableFuture<Runnable> acquire(Duration patience) {
    CompletableFuture<Runnable> ticket;
    synchronized (this) {
      if (inUse < limit) {
        inUse++;
        return CompletableFuture.completedFuture(release());
      }
      ticket = new CompletableFuture<>();
      waiting.add(ticket);
    }
    CompletableFuture<Runnable> waiter = ticket;
    ticket
        .orTimeout(patience.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete(
            (permit, error) -> {
              if (error != null) {
                synchronized (this) {
                  waiting.remove(waiter); // gave up: no longer in the line
                }
              }
            });
    return ticket;
  }

  synchronized int inUse() {
    return inUse;
  }

  private Runnable release() {
    AtomicBoolean released = new AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        handOver();
      }
    };
  }

  /** Gives the freed permit to the first waiter still waiting, or returns it. */
  private void handOver() {
    while (true) {
      CompletableFuture<Runnable> next;
      synchronized (this) {
        next = waiting.poll();
        if (next == null) {
          inUse--;
          return;
        }
      }
      Runnable permit = release();
      if (next.complete(permit)) {
        return;
      }
      // that waiter gave up meanwhile: the permit goes to the next one
    }
  }
}
