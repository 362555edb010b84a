package dev.pypimirror.operator.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The proxy's Prometheus metrics: requests by kind and outcome, upstream latency and errors by
 * upstream number (never its URL, which may carry a secret path), bytes served, the cache's size
 * and whether it is full. Every series of a fixed label set exists from the start at zero. Gauges
 * hold their suppliers strongly: a method reference held by nothing else is collected, and the
 * gauge reads NaN from then on.
 */
public final class ProxyMetrics {
  public enum Kind {
    ROOT,
    PAGE,
    FILE,
    METADATA,
    OTHER
  }

  public enum Outcome {
    HIT,
    MISS,
    REVALIDATED,
    STALE,
    NOT_FOUND,
    ERROR,
    PASSTHROUGH,
    NOT_MODIFIED,
    REDIRECT,
    BUSY,
    CLIENT_LIMIT
  }

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, Counter> requests = new ConcurrentHashMap<>();
  private final Map<Kind, Counter> bytes = new ConcurrentHashMap<>();
  private final Map<Integer, Timer> latency = new ConcurrentHashMap<>();
  private final Map<Integer, Counter> upstreamErrors = new ConcurrentHashMap<>();

  public ProxyMetrics(int upstreams, LongSupplier cacheBytes, BooleanSupplier full) {
    for (Kind kind : Kind.values()) {
      for (Outcome outcome : Outcome.values()) {
        requests.put(
            key(kind, outcome),
            Counter.builder("pypimirror_proxy_requests")
                .description("Requests by kind and how they were answered")
                .tag("kind", name(kind))
                .tag("outcome", name(outcome))
                .register(registry));
      }
      bytes.put(
          kind,
          Counter.builder("pypimirror_proxy_served_bytes")
              .description("Body bytes sent to clients")
              .tag("kind", name(kind))
              .register(registry));
    }
    for (int i = 0; i < upstreams; i++) {
      latency.put(
          i,
          Timer.builder("pypimirror_proxy_upstream_duration")
              .description("Time until an upstream page answered, by upstream number")
              .tag("upstream", Integer.toString(i))
              .serviceLevelObjectives(
                  List.of(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0).stream()
                      .map(s -> Duration.ofMillis((long) (s * 1000)))
                      .toArray(Duration[]::new))
              .register(registry));
      upstreamErrors.put(
          i,
          Counter.builder("pypimirror_proxy_upstream_errors")
              .description("Upstream requests that failed or timed out, by upstream number")
              .tag("upstream", Integer.toString(i))
              .register(registry));
    }
    Gauge.builder("pypimirror_proxy_cache_bytes", cacheBytes, s -> s.getAsLong())
        .description("Bytes of the files the proxy fetched into the cache")
        .strongReference(true)
        .register(registry);
    Gauge.builder("pypimirror_proxy_cache_full", full, f -> f.getAsBoolean() ? 1 : 0)
        .description("1 while files pass through unstored because the volume is full")
        .strongReference(true)
        .register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  /** Gauges of what the proxy is taking on now against its limits. */
  void load(IntSupplier clients, IntSupplier clientAddresses, IntSupplier upstreamConnections) {
    Gauge.builder("pypimirror_proxy_clients", clients, IntSupplier::getAsInt)
        .description("Requests being served now (probes aside); more than --max-clients get 503")
        .strongReference(true)
        .register(registry);
    Gauge.builder("pypimirror_proxy_client_addresses", clientAddresses, IntSupplier::getAsInt)
        .description(
            "Client addresses with requests being served now; more than --max-per-client from"
                + " one get 429")
        .strongReference(true)
        .register(registry);
    Gauge.builder(
            "pypimirror_proxy_upstream_connections", upstreamConnections, IntSupplier::getAsInt)
        .description("Requests to upstreams under way; at most --max-upstream-connections")
        .strongReference(true)
        .register(registry);
  }

  private static String key(Kind kind, Outcome outcome) {
    return kind.name() + "/" + outcome.name();
  }

  private static String name(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  public void request(Kind kind, Outcome outcome) {
    requests.get(key(kind, outcome)).increment();
  }

  public void served(Kind kind, long count) {
    bytes.get(kind).increment(count);
  }

  void upstreamLatency(int upstream, long nanos) {
    Timer timer = latency.get(upstream);
    if (timer != null) {
      timer.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  void upstreamError(int upstream) {
    Counter counter = upstreamErrors.get(upstream);
    if (counter != null) {
      counter.increment();
    }
  }

  public String scrape() {
    return registry.scrape();
  }
}
