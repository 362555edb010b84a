package dev.pypimirror.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.Reason;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OperatorMetricsTest {
  @Test
  void everyDocumentedSeriesIsThereFromTheStart() {
    OperatorMetrics metrics = new OperatorMetrics();
    metrics.mirrors(java.util.Map::of);
    try {
      String scrape = metrics.scrape();

      assertThat(scrape.lines())
          .contains(
              "pypimirror_missed_injections_total 0.0",
              "pypimirror_mirrors{ready=\"true\"} 0.0",
              "pypimirror_mirrors{ready=\"false\"} 0.0",
              "pypimirror_reconciles_total{kind=\"PypiMirror\",result=\"success\"} 0.0",
              "pypimirror_reconciles_total{kind=\"PypiMirrorPolicy\",result=\"error\"} 0.0",
              "pypimirror_admissions_total{outcome=\"injected\",reason=\"injected\"} 0.0",
              "pypimirror_admissions_total{outcome=\"denied\",reason=\"own-config-mount\"} 0.0",
              "pypimirror_admissions_total{outcome=\"denied\",reason=\"mirror-stale\"} 0.0",
              "pypimirror_admission_duration_seconds_count 0");
      for (String series :
          List.of(
              "jvm_memory_used_bytes",
              "jvm_gc_max_data_size_bytes",
              "jvm_threads_live_threads",
              "jvm_classes_loaded_classes",
              "jvm_info",
              "process_cpu_usage",
              "process_uptime_seconds",
              "process_files_open_files",
              "system_cpu_count")) {
        assertThat(scrape).as(series).contains("\n" + series);
      }
    } finally {
      metrics.close();
    }
  }

  @Test
  void leadershipAndTheManagedCertificatesExpiryAreExportedAndNoNamespaceReconcilesAre() {
    OperatorMetrics metrics = new OperatorMetrics();
    var notAfter =
        new java.util.concurrent.atomic.AtomicReference<java.util.Optional<java.time.Instant>>(
            java.util.Optional.empty());
    metrics.certificateExpiry("serving", notAfter::get);
    try {
      assertThat(metrics.scrape().lines())
          .contains(
              "pypimirror_leader 0.0",
              "pypimirror_certificate_expiration_timestamp_seconds{certificate=\"serving\"} NaN")
          .noneMatch(l -> l.contains("kind=\"Namespace\""));

      metrics.leading(true);
      notAfter.set(java.util.Optional.of(java.time.Instant.parse("2027-03-01T00:00:00Z")));

      assertThat(metrics.scrape().lines())
          .contains(
              "pypimirror_leader 1.0",
              "pypimirror_certificate_expiration_timestamp_seconds{certificate=\"serving\"} 1.8038592E9");
      metrics.leading(false);
      assertThat(metrics.scrape().lines()).contains("pypimirror_leader 0.0");
    } finally {
      metrics.close();
    }
  }

  @Test
  void admissionLatencyHasADozenBucketsFromSubMillisecondToTheApiServersTimeout() {
    OperatorMetrics metrics = new OperatorMetrics();
    try {
      var plan = InjectionPlan.untouched(Reason.NOT_SELECTED, "no injection annotation");
      metrics.admission(plan, TimeUnit.MICROSECONDS.toNanos(80));
      metrics.admission(plan, TimeUnit.MILLISECONDS.toNanos(3));

      List<String> buckets =
          metrics
              .scrape()
              .lines()
              .filter(l -> l.startsWith("pypimirror_admission_duration_seconds_bucket"))
              .toList();

      assertThat(buckets).hasSize(OperatorMetrics.LATENCY_BUCKETS.length + 1);
      assertThat(buckets.get(0)).contains("le=\"1.0E-4\"").endsWith(" 1");
      assertThat(buckets.get(buckets.size() - 2)).contains("le=\"30.0\"").endsWith(" 2");
      assertThat(buckets.get(buckets.size() - 1)).contains("le=\"+Inf\"").endsWith(" 2");
      assertThat(buckets).hasSizeBetween(12, 16);
    } finally {
      metrics.close();
    }
  }
}
