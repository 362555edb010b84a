package dev.pypimirror.operator.cluster;

import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Work a replica repeats on a daemon thread of its own while it leads: started on gaining the
 * lease, stopped on losing it. Starting a running schedule or stopping a stopped one does nothing.
 * The work catches its own failures: an exception would end the repetition.
 */
public final class LeaderSchedule {
  private final String threadName;
  private volatile ScheduledExecutorService executor;

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
                return t;
              });
      executor.scheduleWithFixedDelay(work, initialDelay, period, unit);
    }
  }

  /** Runs the work once, soon, on the schedule's thread; false when it is not running. */
  public boolean runSoon(Runnable work) {
    ScheduledExecutorService running = executor;
    if (running == null) {
      return false;
    }
    try {
      running.execute(work);
      return true;
    } catch (RejectedExecutionException e) {
      return false; // stopped meanwhile
    }
  }

  public synchronized void stop() {
    if (executor != null) {
      executor.shutdownNow();
      executor = null;
    }
  }
}
