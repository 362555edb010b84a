package dev.pypimirror.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;

/**
 * CPU time of this process's threads, by who they work for: the mock API server (its Vert.x
 * threads) or the rest (the operator under test). Threads that end between two readings are missed,
 * so the operator's figure is a lower bound; its pools live as long as it does.
 */
final class ThreadCpu {
  static final String MOCK = "mock";
  static final String OPERATOR = "operator";

  private ThreadCpu() {}

  /** CPU nanoseconds per thread id, with each thread's group. */
  private static Map<Long, Map.Entry<String, Long>> threads() {
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    Map<Long, Map.Entry<String, Long>> byThread = new HashMap<>();
    for (var info : bean.getThreadInfo(bean.getAllThreadIds())) {
      if (info == null) {
        continue;
      }
      long cpu = bean.getThreadCpuTime(info.getThreadId());
      if (cpu >= 0) {
        String group = info.getThreadName().startsWith("vert.x-") ? MOCK : OPERATOR;
        byThread.put(info.getThreadId(), Map.entry(group, cpu));
      }
    }
    return byThread;
  }

  /** A reading to pass to {@link #since}. */
  static Map<String, Long> reading() {
    Map<String, Long> perThread = new HashMap<>();
    threads().forEach((id, entry) -> perThread.put(String.valueOf(id), entry.getValue()));
    return perThread;
  }

  /** CPU nanoseconds per group since {@code before} (threads started since then count whole). */
  static Map<String, Long> since(Map<String, Long> before) {
    Map<String, Long> groups = new HashMap<>();
    threads()
        .forEach(
            (id, entry) ->
                groups.merge(
                    entry.getKey(),
                    entry.getValue() - before.getOrDefault(String.valueOf(id), 0L),
                    Long::sum));
    return groups;
  }

  /** The whole process's CPU nanoseconds (all threads, the JVM's own included). */
  static long process() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }
}
