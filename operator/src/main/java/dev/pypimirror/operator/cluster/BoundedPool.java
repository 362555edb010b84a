package dev.pypimirror.operator.cluster;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed number of daemon workers with a bounded queue, for I/O kept off the event loop and the
 * reconcile threads: a task beyond the queue is refused ({@code RejectedExecutionException}), never
 * queued without bound; the caller decides what a refusal means.
 */
public final class BoundedPool {
  private BoundedPool() {}

  /**
   * @param name the workers are called {@code name-1}, {@code name-2}, ...
   */
  public static ThreadPoolExecutor of(String name, int threads, int queue) {
    AtomicInteger started = new AtomicInteger();
    return new ThreadPoolExecutor(
        threads,
        threads,
        0,
        TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(queue),
        task -> {
          Thread thread = new Thread(task, name + "-" + started.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        });
  }
}
