package dev.pypimirror.operator.cluster;

import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Work a replica repeats on a daemon thread of its own while it leads: started on gaining the
 * lease, stopped on losing it. Starting a running schedule or stopping a stopped one does nothing.
 * Whatever the work throws, {@link Error}s included, is logged and the repetition goes on: a
 * scheduled executor would otherwise swallow it and silently cancel every later run. Stopping waits
 * for a run in flight, so nothing the work does happens after {@link #stop} returns (the client it
 * uses may be closed next).
 */
public final class LeaderSchedule {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderSchedule.class);
  private static final long STOP_WAIT_SECONDS = 10;

  private final String threadName;
  private volatile ScheduledExecutorService executor;
  private volatile Thread thread;

  public LeaderSchedule(String threadName) {
    this.threadName = threadName;
  }

  public synchronized void start(Runnable work, long initialDelay, long period, TimeUnit unit) {
    if (executor == null) {
      executor =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, threadName);
                t.setDaemon(true);
                thread = t;
                return t;
              });
      executor.scheduleWithFixedDelay(guarded(work), initialDelay, period, unit);
    }
  }

  /** Runs the work once, soon, on the schedule's thread; false when it is not running. */
  public boolean runSoon(Runnable work) {
    return runLater(work, 0, TimeUnit.MILLISECONDS);
  }

  /** Runs the work once after the delay, on the schedule's thread; false when it is not running. */
  public boolean runLater(Runnable work, long delay, TimeUnit unit) {
    ScheduledExecutorService running = executor;
    if (running == null) {
      return false;
    }
    try {
      running.schedule(guarded(work), delay, unit);
      return true;
    } catch (RejectedExecutionException e) {
      return false; // stopped meanwhile
    }
  }

  /**
   * Cancels what is scheduled, interrupts the run in flight and waits for it to end (not when
   * called from the work itself).
   */
  public void stop() {
    ScheduledExecutorService stopping;
    synchronized (this) {
      stopping = executor;
      executor = null;
    }
    if (stopping == null) {
      return;
    }
    stopping.shutdownNow();
    if (Thread.currentThread() == thread) {
      return;
    }
    try {
      if (!stopping.awaitTermination(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
        LOG.warn("{}: a run was still going {} s after stop", threadName, STOP_WAIT_SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Runnable guarded(Runnable work) {
    return () -> {
      try {
        work.run();
      } catch (Throwable t) { // an uncaught Error would cancel the schedule without a word
        LOG.error("{} failed; it runs again at its next turn", threadName, t);
      }
    };
  }
}
