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

  /** CPU nanoseconds per thread id, with each thread's kind or group. */
  private static Map<Long, Map.Entry<String, Long>> threads() {
    return threads(false);
  }

  /**
   * CPU milliseconds since {@code before} per kind of thread: its name without numbers (pools
   * number their threads), largest first.
   */
  static String byKind(Map<String, Long> before) {
    Map<String, Long> kinds = new HashMap<>();
    threads(true)
        .forEach(
            (id, entry) ->
                kinds.merge(
                    entry.getKey(),
                    (entry.getValue() - before.getOrDefault(String.valueOf(id), 0L)) / 1_000_000,
                    Long::sum));
    return kinds.entrySet().stream()
        .filter(e -> e.getValue() > 0)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .map(e -> e.getKey() + "=" + e.getValue())
        .collect(java.util.stream.Collectors.joining(", ", "{", "}"));
  }

  private static Map<Long, Map.Entry<String, Long>> threads(boolean byKind) {
    ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    Map<Long, Map.Entry<String, Long>> byThread = new HashMap<>();
    for (var info : bean.getThreadInfo(bean.getAllThreadIds())) {
      if (info == null) {
        continue;
      }
      long cpu = bean.getThreadCpuTime(info.getThreadId());
      if (cpu >= 0) {
        String name = info.getThreadName();
        String group =
            byKind ? name.replaceAll("[0-9]+", "#") : name.startsWith("vert.x-") ? MOCK : OPERATOR;
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
