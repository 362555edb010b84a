package dev.pypimirror.operator.proxy;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** The proxy's background threads: daemons (they never keep the process up), named for a dump. */
final class DaemonThreads {
  private DaemonThreads() {}

  /** Threads named {@code name}, all alike. */
  static ThreadFactory named(String name) {
    return task -> daemon(task, name);
  }

  /** Threads named {@code prefix1}, {@code prefix2}, ... */
  static ThreadFactory numbered(String prefix) {
    AtomicInteger started = new AtomicInteger();
    return task -> daemon(task, prefix + started.incrementAndGet());
  }

  private static Thread daemon(Runnable task, String name) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    return thread;
  }
}
