package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.cluster.BoundedPool;
import dev.pypimirror.operator.settings.Defaults;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * The caching proxies' last answers, asked off the reconcile thread: {@link #look} returns what a
 * proxy last said (at once, without I/O) and starts a new ask in the background when that answer is
 * missing, older than {@code refreshAfter}, or from before the mirror's current generation. Bounded
 * by settings: one ask per proxy at a time, {@code reconcile.proxy-probe-threads} at once with
 * {@code reconcile.proxy-probe-queue} waiting (more are skipped: the last answer stays), and the
 * answers of {@code reconcile.proxy-answers-kept} proxies kept.
 */
final class ProxyAnswers implements AutoCloseable {
  /** What a look found: the last answer (empty: none yet), and whether a new ask is under way. */
  record Look(Optional<ProxyProbe.Answer> answer, boolean asking) {}

  private record Entry(ProxyProbe.Answer answer, Instant askedAt, long generation) {}

  private final ProxyProbe probe;
  private final Clock clock;
  private final Duration refreshAfter;
  private final ThreadPoolExecutor askers =
      BoundedPool.of(
          "proxy-probe",
          Defaults.PROXY_PROBE_THREADS.defaultValue(),
          Defaults.PROXY_PROBE_QUEUE.defaultValue());
  private final Map<URI, Entry> answers =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<URI, Entry> eldest) {
          return size() > Defaults.PROXY_ANSWERS_KEPT.defaultValue();
        }
      };
  private final Set<URI> asking = new HashSet<>();

  ProxyAnswers(ProxyProbe probe, Clock clock, Duration refreshAfter) {
    this.probe = probe;
    this.clock = clock;
    this.refreshAfter = refreshAfter;
  }

  /** The last answer of the proxy at {@code url}, asking it again in the background if due. */
  synchronized Look look(URI url, long generation) {
    Entry last = answers.get(url);
    boolean due =
        last == null
            || last.generation() != generation
            || !last.askedAt().plus(refreshAfter).isAfter(clock.instant());
    if (due && !asking.contains(url)) {
      start(url, generation);
    }
    return new Look(Optional.ofNullable(last).map(Entry::answer), asking.contains(url));
  }

  private void start(URI url, long generation) {
    Instant askedAt = clock.instant();
    asking.add(url);
    try {
      askers.execute(() -> answered(url, new Entry(ask(url), askedAt, generation)));
    } catch (RejectedExecutionException busy) {
      asking.remove(url); // too many asks queued: the last answer stays until the next look
    }
  }

  private ProxyProbe.Answer ask(URI url) {
    try {
      return probe.ask(url);
    } catch (RuntimeException e) { // a probe never throws; if one did, the ask still ends
      return ProxyProbe.Answer.unknown("cannot ask it (" + e.getClass().getSimpleName() + ")");
    }
  }

  private synchronized void answered(URI url, Entry entry) {
    asking.remove(url);
    answers.put(url, entry);
  }

  @Override
  public void close() {
    askers.shutdownNow();
  }
}
