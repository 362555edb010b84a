package dev.pypimirror.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code pypimirror_sync_jobs_total{namespace,mirror,result}}: each finished sync Job counted once.
 * A Job is counted the first time it is seen finished, if it finished at or after the time given
 * (the start of this replica's leadership, to the second, as Jobs report it); the Jobs that are
 * gone from the cluster are forgotten, and a mirror's series go with the mirror.
 */
final class SyncJobCounts {
  private final MeterRegistry registry;
  private final Map<String, Set<String>> seenByMirror = new ConcurrentHashMap<>();
  private final Map<String, Counter[]> counters = new ConcurrentHashMap<>();

  SyncJobCounts(MeterRegistry registry) {
    this.registry = registry;
  }

  /**
   * Which of these Jobs are counted now: not seen before, and finished at or after {@code since}.
   */
  static List<FinishedSyncJob> newlyFinished(
      Set<String> seen, List<FinishedSyncJob> jobs, Instant since) {
    Instant from = since.truncatedTo(ChronoUnit.SECONDS);
    return jobs.stream()
        .filter(j -> !seen.contains(j.uid()))
        .filter(j -> j.finishedAt() != null && !j.finishedAt().isBefore(from))
        .toList();
  }

  synchronized void seen(
      String namespace, String mirror, List<FinishedSyncJob> jobs, Instant since) {
    String key = namespace + '/' + mirror;
    Counter[] byResult =
        counters.computeIfAbsent(
            key,
            k ->
                new Counter[] {
                  counter(namespace, mirror, "failed"), counter(namespace, mirror, "succeeded")
                });
    for (FinishedSyncJob job :
        newlyFinished(seenByMirror.getOrDefault(key, Set.of()), jobs, since)) {
      byResult[job.succeeded() ? 1 : 0].increment();
    }
    Set<String> now = new HashSet<>();
    jobs.forEach(j -> now.add(j.uid()));
    seenByMirror.put(key, now);
  }

  /** Drops the series and memory of mirrors that are gone. */
  synchronized void keepOnly(Set<String> mirrorKeys) {
    counters.keySet().stream()
        .filter(k -> !mirrorKeys.contains(k))
        .toList()
        .forEach(
            k -> {
              for (Counter c : counters.remove(k)) {
                registry.remove(c);
              }
              seenByMirror.remove(k);
            });
  }

  private Counter counter(String namespace, String mirror, String result) {
    return Counter.builder("pypimirror.sync.jobs")
        .description(
            "Cache sync Jobs that finished, by result, counted by the leader that saw them")
        .tag("namespace", namespace)
        .tag("mirror", mirror)
        .tag("result", result)
        .register(registry);
  }
}
