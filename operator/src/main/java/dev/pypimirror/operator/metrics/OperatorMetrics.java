package dev.pypimirror.operator.metrics;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.Reason;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.monitoring.AggregatedMetrics;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The operator's Prometheus metrics: admissions, their latency, reconciles, mirrors, missed
 * injections; and the JVM's and the process's (Micrometer's binders). Every series with a fixed set
 * of labels exists from the start, at zero, so that rate() and absence alerts work before the first
 * event.
 */
public final class OperatorMetrics {
  /**
   * Admission latency buckets: from the mutation's own tens of microseconds on a warm JVM to the
   * API server's webhook timeout (10 s by default, 30 s at most).
   */
  static final Duration[] LATENCY_BUCKETS = {
    Duration.ofNanos(100_000),
    Duration.ofNanos(250_000),
    Duration.ofNanos(500_000),
    Duration.ofMillis(1),
    Duration.ofNanos(2_500_000),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(100),
    Duration.ofMillis(500),
    Duration.ofMillis(2500),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30)
  };

  /** The kinds the reconcilers count, registered at zero. */
  static final List<String> RECONCILED_KINDS = List.of("PypiMirror", "PypiMirrorPolicy");

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Timer admissionLatency =
      Timer.builder("pypimirror.admission.duration")
          .description("Time to answer one AdmissionReview, parse to serialized answer")
          .serviceLevelObjectives(LATENCY_BUCKETS)
          .register(registry);
  private final Counter missedInjections =
      Counter.builder("pypimirror.missed.injections")
          .description("Pods that asked for a mirror but were admitted without one")
          .register(registry);
  private final JvmGcMetrics gc = new JvmGcMetrics();

  public OperatorMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmInfoMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    for (String kind : RECONCILED_KINDS) {
      reconcileCounter(kind, "success");
      reconcileCounter(kind, "error");
    }
    // the admission series whose labels do not depend on a pod
    admissionCounter("injected", Reason.INJECTED.label());
    Reason.DENIALS.forEach(reason -> admissionCounter("denied", reason.label()));
    admissionCounter(ERROR, BAD_REQUEST);
  }

  /** The outcome and reason of an AdmissionReview that could not be decided. */
  private static final String ERROR = "error";

  private static final String BAD_REQUEST = "bad-request";

  private final Map<String, Counter> admissionCounters = new ConcurrentHashMap<>();

  /**
   * Counts one admission by outcome and reason. Private: the values come from {@link InjectionPlan}
   * (closed sets) or are the one error pair, never from a message or a pod.
   */
  private void admission(String outcome, String reason, long nanos) {
    admissionCounter(outcome, reason).increment();
    admissionLatency.record(nanos, TimeUnit.NANOSECONDS);
  }

  private Counter admissionCounter(String outcome, String reason) {
    return admissionCounters.computeIfAbsent(
        outcome + '\n' + reason,
        key ->
            Counter.builder("pypimirror.admissions")
                .description("Pod admissions by outcome")
                .tag("outcome", outcome)
                .tag("reason", reason)
                .register(registry));
  }

  /**
   * One answered pod admission, counted by outcome and reason (both closed sets: the reason is
   * {@code Reason}'s label) and timed.
   *
   * @param plan the decision, or null when the request was refused as malformed (400)
   */
  public void admission(InjectionPlan plan, long nanos) {
    if (plan == null) {
      admission(ERROR, BAD_REQUEST, nanos);
    } else {
      admission(plan.outcome().name().toLowerCase(), plan.reason().label(), nanos);
    }
  }

  /** A pod that asked for a mirror but runs without one (webhook down, fail-open). */
  public void missedInjection() {
    missedInjections.increment();
  }

  private final AtomicInteger leader = new AtomicInteger();

  /** Since when this replica leads; before it first does, when the metrics were made. */
  private final AtomicReference<Instant> leadingSince = new AtomicReference<>(Instant.now());

  {
    Gauge.builder("pypimirror.leader", leader, AtomicInteger::get)
        .description("1 while this replica holds the leader Lease and does the leader's work")
        .register(registry);
  }

  /** Whether this replica leads now. */
  public void leading(boolean leading) {
    if (leading && leader.get() == 0) {
      leadingSince.set(Instant.now());
    }
    leader.set(leading ? 1 : 0);
  }

  /**
   * The expiry of a certificate the operator manages ({@code certificate}: serving, ca), read when
   * scraped; NaN while unknown.
   */
  public void certificateExpiry(String certificate, Supplier<Optional<Instant>> notAfter) {
    Gauge.builder(
            "pypimirror.certificate.expiration.timestamp.seconds",
            () -> notAfter.get().map(t -> (double) t.getEpochSecond()).orElse(Double.NaN))
        .description("When the certificate expires, in seconds since the epoch")
        .tag("certificate", certificate)
        .register(registry);
  }

  /** Mirrors by Ready status, read from a cache when scraped. */
  public void mirrors(Supplier<Map<Boolean, Long>> readyCounts) {
    for (boolean ready : new boolean[] {true, false}) {
      Gauge.builder("pypimirror.mirrors", () -> readyCounts.get().getOrDefault(ready, 0L))
          .description("PypiMirrors by Ready condition")
          .tag("ready", String.valueOf(ready))
          .register(registry);
    }
  }

  /**
   * java-operator-sdk's hook: its own Micrometer metrics (reconcile time, queue, executions,
   * retries, failures per controller; {@code operator_sdk_*}) and this operator's reconcile
   * counter, both in this registry. Per kind, not per resource: no series outlives its object.
   */
  public Metrics reconcileMetrics() {
    return new AggregatedMetrics(
        List.of(
            BoundedRetryLabels.around(MicrometerMetrics.withoutPerResourceMetrics(registry)),
            reconcileCounters()));
  }

  private Metrics reconcileCounters() {
    return new Metrics() {
      @Override
      public void finishedReconciliation(HasMetadata resource, Map<String, Object> metadata) {
        reconcile(resource, "success");
      }

      @Override
      public void failedReconciliation(
          HasMetadata resource, Exception exception, Map<String, Object> metadata) {
        reconcile(resource, "error");
      }
    };
  }

  private void reconcile(HasMetadata resource, String result) {
    reconcileCounter(
            resource.getKind() == null ? resource.getClass().getSimpleName() : resource.getKind(),
            result)
        .increment();
  }

  private Counter reconcileCounter(String kind, String result) {
    return Counter.builder("pypimirror.reconciles")
        .description("Reconciles by kind and result")
        .tag("kind", kind)
        .tag("result", result)
        .register(registry);
  }

  private final MultiGauge cacheSize =
      MultiGauge.builder("pypimirror.cache.size")
          .baseUnit("bytes")
          .description("Bytes of distribution files in the cache, as the last sync counted them")
          .register(registry);
  private final MultiGauge cacheRequested =
      MultiGauge.builder("pypimirror.cache.requested")
          .baseUnit("bytes")
          .description("The size the mirror requests for its cache PVC (spec.cache.size)")
          .register(registry);
  private final MultiGauge lastSync =
      MultiGauge.builder("pypimirror.sync.last.success.timestamp.seconds")
          .description("When the last successful cache sync finished, in seconds since the epoch")
          .register(registry);
  private final MultiGauge syncFailing =
      MultiGauge.builder("pypimirror.sync.failing")
          .description("1 while the mirror's last finished cache sync failed, else 0")
          .register(registry);
  private final MultiGauge proxyCacheFull =
      MultiGauge.builder("pypimirror.mirror.proxy.cache.full")
          .description(
              "1 while the mirror's caching proxy says its volume is full (files pass through"
                  + " unstored), else 0; as the operator last asked it")
          .register(registry);
  private Supplier<? extends Collection<PypiMirror>> mirrorObjects = List::of;

  /** The per-mirror series, read from these mirrors (an informer's cache) at each scrape. */
  public void perMirror(Supplier<? extends Collection<PypiMirror>> mirrors) {
    this.mirrorObjects = mirrors;
  }

  private final SyncJobCounts syncJobs = new SyncJobCounts(registry);

  /**
   * The cache sync's finished Jobs: each counted once, by mirror and result, if it finished while
   * this replica leads (a Job the previous leader saw finish is not counted again).
   */
  public void syncJobsSeen(String namespace, String mirror, List<FinishedSyncJob> jobs) {
    syncJobs.seen(namespace, mirror, jobs, leadingSince.get());
  }

  /** The Prometheus text exposition: the per-mirror series are read first. */
  public synchronized String scrape() {
    List<MirrorFigures> figures = mirrorObjects.get().stream().map(MirrorFigures::of).toList();
    cacheSize.register(rows(figures, MirrorFigures::cacheBytes), true);
    cacheRequested.register(rows(figures, MirrorFigures::requestedBytes), true);
    lastSync.register(rows(figures, MirrorFigures::lastSyncSeconds), true);
    syncFailing.register(rows(figures, MirrorFigures::syncFailing), true);
    proxyCacheFull.register(rows(figures, MirrorFigures::proxyCacheFull), true);
    syncJobs.keepOnly(figures.stream().map(MirrorFigures::key).collect(Collectors.toSet()));
    return registry.scrape();
  }

  private static List<MultiGauge.Row<?>> rows(
      List<MirrorFigures> figures, Function<MirrorFigures, OptionalDouble> value) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (MirrorFigures f : figures) {
      value
          .apply(f)
          .ifPresent(
              v ->
                  rows.add(
                      MultiGauge.Row.of(
                          Tags.of("namespace", f.namespace(), "mirror", f.name()), v)));
    }
    return rows;
  }

  /** Stops the garbage collection listener. */
  public void close() {
    gc.close();
    registry.close();
  }
}
