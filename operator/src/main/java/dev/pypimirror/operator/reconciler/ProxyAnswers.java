package dev.pypimirror.operator.reconciler;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The caching proxies' last answers, asked off the reconcile thread: {@link #look} returns what a
 * proxy last said (at once, without I/O) and starts a new ask in the background when that answer is
 * missing, older than {@code refreshAfter}, or from before the mirror's current generation.
 * Bounded: one ask per proxy at a time, at most {@value #THREADS} at once with {@value #QUEUE}
 * waiting (more are skipped: the last answer stays), and the answers of at most {@value #KEPT}
 * proxies kept.
 */
final class ProxyAnswers implements AutoCloseable {
  static final int THREADS = 2;
  static final int QUEUE = 64;
  static final int KEPT = 4096;

  /** What a look found: the last answer (empty: none yet), and whether a new ask is under way. */
  record Look(Optional<ProxyProbe.Answer> answer, boolean asking) {}

  private record Entry(ProxyProbe.Answer answer, Instant askedAt, long generation) {}

  private final ProxyProbe probe;
  private final Clock clock;
  private final Duration refreshAfter;
  private final ExecutorService askers;
  private final Map<URI, Entry> answers =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<URI, Entry> eldest) {
          return size() > KEPT;
        }
      };
  private final Map<URI, Long> asking = new java.util.HashMap<>();

  ProxyAnswers(ProxyProbe probe, Clock clock, Duration refreshAfter) {
    this.probe = probe;
    this.clock = clock;
    this.refreshAfter = refreshAfter;
    AtomicInteger n = new AtomicInteger();
    this.askers =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUE),
            r -> {
              Thread t = new Thread(r, "proxy-probe-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    ((ThreadPoolExecutor) askers).allowCoreThreadTimeOut(true);
  }

  /** The last answer of the proxy at {@code url}, asking it again in the background if due. */
  synchronized Look look(URI url, long generation) {
    Entry last = answers.get(url);
    boolean due =
        last == null
            || last.generation() != generation
            || !last.askedAt().plus(refreshAfter).isAfter(clock.instant());
    if (due && !asking.containsKey(url)) {
      start(url, generation);
    }
    return new Look(Optional.ofNullable(last).map(Entry::answer), asking.containsKey(url));
  }

  private void start(URI url, long generation) {
    Instant askedAt = clock.instant();
    asking.put(url, generation);
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
