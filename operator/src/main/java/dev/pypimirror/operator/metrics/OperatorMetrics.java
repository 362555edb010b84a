package dev.pypimirror.operator.metrics;

import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.webhook.PodAdmission;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The operator's Prometheus metrics: admissions, their latency, reconciles, mirrors, missed
 * injections.
 */
public final class OperatorMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Timer admissionLatency =
      Timer.builder("pypimirror.admission.duration")
          .description("Time to answer one AdmissionReview, parse to serialized answer")
          .publishPercentileHistogram()
          .minimumExpectedValue(Duration.ofNanos(10_000))
          .maximumExpectedValue(Duration.ofSeconds(5))
          .register(registry);

  private final Map<String, Counter> admissionCounters = new ConcurrentHashMap<>();

  /** Counts one admission by outcome (injected, skipped, untouched, denied, error) and reason. */
  public void admission(String outcome, String reason, long nanos) {
    admissionCounters
        .computeIfAbsent(
            outcome + '\n' + reason,
            key ->
                Counter.builder("pypimirror.admissions")
                    .description("Pod admissions by outcome")
                    .tag("outcome", outcome)
                    .tag("reason", reason)
                    .register(registry))
        .increment();
    admissionLatency.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** The webhook's listener: every answered pod admission counted and timed. */
  public PodAdmission.Listener admissions() {
    return (namespace, pod, plan, dryRun, nanos) -> {
      if (plan == null) {
        admission("error", "bad-request", nanos);
      } else {
        admission(plan, nanos);
      }
    };
  }

  public void admission(InjectionPlan plan, long nanos) {
    String reason =
        switch (plan.outcome()) {
          case SKIPPED -> plan.detail();
          case DENIED -> "policy";
          case UNTOUCHED ->
              plan.detail().startsWith("namespace ")
                  ? "namespace"
                  : plan.detail().replace(' ', '-');
          default -> "";
        };
    admission(plan.outcome().name().toLowerCase(), reason, nanos);
  }

  /** A pod that asked for a mirror but runs without one (webhook down, fail-open). */
  public void missedInjection() {
    Counter.builder("pypimirror.missed.injections")
        .description("Pods that asked for a mirror but were admitted without one")
        .register(registry)
        .increment();
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
    Counter.builder("pypimirror.reconciles")
        .description("Reconciles by kind and result")
        .tag(
            "kind",
            resource.getKind() == null ? resource.getClass().getSimpleName() : resource.getKind())
        .tag("result", result)
        .register(registry)
        .increment();
  }

  /** The Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }
}
