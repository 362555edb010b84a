package dev.pypimirror.operator.metrics;

import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.Reason;
import dev.pypimirror.operator.webhook.PodAdmission;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

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

  /** The webhook's listener: every answered pod admission counted and timed. */
  public PodAdmission.Listener admissions() {
    return (namespace, pod, plan, dryRun, nanos) -> {
      if (plan == null) {
        admission(ERROR, BAD_REQUEST, nanos);
      } else {
        admission(plan, nanos);
      }
    };
  }

  /** Counted by outcome and reason: both closed sets (the reason is {@code Reason}'s label). */
  public void admission(InjectionPlan plan, long nanos) {
    admission(plan.outcome().name().toLowerCase(), plan.reason().label(), nanos);
  }

  /** A pod that asked for a mirror but runs without one (webhook down, fail-open). */
  public void missedInjection() {
    missedInjections.increment();
  }

  private final AtomicInteger leader = new AtomicInteger();

  {
    Gauge.builder("pypimirror.leader", leader, AtomicInteger::get)
        .description("1 while this replica holds the leader Lease and does the leader's work")
        .register(registry);
  }

  /** Whether this replica leads now. */
  public void leading(boolean leading) {
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

  /** java-operator-sdk's hook: reconciles and their errors, per controller and kind. */
  public Metrics reconcileMetrics() {
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

  /** The Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }

  /** Stops the garbage collection listener. */
  public void close() {
    gc.close();
    registry.close();
  }
}
