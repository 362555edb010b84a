package dev.pypimirror.operator.metrics;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static dev.pypimirror.operator.testing.Mirrors.withProxy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.CacheStatus;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.config.MirrorStatuses;
import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.Reason;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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

  static PypiMirror syncedMirror(String namespace, String name) {
    PypiMirrorSpec spec = withCache(spec(https("https://devpi.corp.example/simple/")), "/tmp/pypi");
    spec.getCache().setPackages(List.of("requests"));
    spec.getCache().setSize("2Gi");
    return mirror(namespace, name, spec);
  }

  static void status(PypiMirror mirror, String cacheReason, Long sizeBytes, String lastSync) {
    PypiMirrorStatus status = new PypiMirrorStatus();
    status.setConditions(
        List.of(Conditions.of(Conditions.CACHE_READY, false, cacheReason, "m", 1L)));
    CacheStatus cache = new CacheStatus();
    cache.setSizeBytes(sizeBytes);
    cache.setLastSyncTime(lastSync);
    status.setCache(cache);
    mirror.setStatus(status);
  }

  @Test
  void eachMirrorsCacheAndSyncAreExportedWhileTheMirrorExists() {
    OperatorMetrics metrics = new OperatorMetrics();
    PypiMirror synced = syncedMirror("ml", "corp");
    status(synced, Conditions.REASON_SYNC_FAILED, 123456L, "2026-11-30T02:00:00Z");
    PypiMirror existingClaim = syncedMirror("ml", "claimed");
    existingClaim.getSpec().getCache().setExistingClaim("wheels");
    PypiMirror noCache = mirror("web", "plain", spec(https("https://devpi.corp.example/simple/")));
    PypiMirror proxied =
        mirror("web", "proxied", withProxy(spec(https("https://devpi.corp.example/simple/"))));
    proxied.setStatus(new PypiMirrorStatus());
    proxied
        .getStatus()
        .setConditions(List.of(MirrorStatuses.proxyCacheFull(Optional.of(true), "", 1)));
    PypiMirror unasked =
        mirror("web", "unasked", withProxy(spec(https("https://devpi.corp.example/simple/"))));
    unasked.setStatus(new PypiMirrorStatus());
    unasked
        .getStatus()
        .setConditions(List.of(MirrorStatuses.proxyCacheFull(Optional.empty(), "timeout", 1)));
    List<PypiMirror> mirrors =
        new ArrayList<>(List.of(synced, existingClaim, noCache, proxied, unasked));
    metrics.perMirror(() -> mirrors);
    try {
      assertThat(metrics.scrape().lines())
          .contains(
              "pypimirror_cache_size_bytes{mirror=\"corp\",namespace=\"ml\"} 123456.0",
              "pypimirror_cache_requested_bytes{mirror=\"corp\",namespace=\"ml\"} 2.147483648E9",
              "pypimirror_sync_last_success_timestamp_seconds{mirror=\"corp\",namespace=\"ml\"}"
                  + " 1.796004E9",
              "pypimirror_sync_failing{mirror=\"corp\",namespace=\"ml\"} 1.0",
              "pypimirror_sync_failing{mirror=\"claimed\",namespace=\"ml\"} 0.0",
              "pypimirror_mirror_proxy_cache_full{mirror=\"proxied\",namespace=\"web\"} 1.0")
          .as("a proxy that could not be asked says nothing")
          .noneMatch(l -> l.startsWith("pypimirror_mirror_proxy_cache_full{mirror=\"unasked\""))
          .as(
              "an existing claim's size is not the mirror's to say; a mirror without cache has none")
          .noneMatch(l -> l.startsWith("pypimirror_cache_requested_bytes{mirror=\"claimed\""))
          .noneMatch(l -> l.contains("mirror=\"plain\""));

      status(synced, Conditions.REASON_SYNCED, 200000L, "2026-12-01T02:00:00Z");
      assertThat(metrics.scrape().lines())
          .contains(
              "pypimirror_cache_size_bytes{mirror=\"corp\",namespace=\"ml\"} 200000.0",
              "pypimirror_sync_failing{mirror=\"corp\",namespace=\"ml\"} 0.0");

      mirrors.remove(synced);
      assertThat(metrics.scrape()).as("no series outlives its mirror").doesNotContain("\"corp\"");
    } finally {
      metrics.close();
    }
  }

  @Test
  void eachFinishedSyncJobIsCountedOnceIfItFinishedWhileThisReplicaLeads() {
    OperatorMetrics metrics = new OperatorMetrics();
    List<PypiMirror> mirrors = new ArrayList<>(List.of(syncedMirror("ml", "corp")));
    metrics.perMirror(() -> mirrors);
    try {
      metrics.leading(true);
      Instant now = Instant.now();
      var before = new FinishedSyncJob("a", false, now.minus(Duration.ofHours(1)));
      var failed = new FinishedSyncJob("b", false, now.plusSeconds(1));
      var succeeded = new FinishedSyncJob("c", true, now.plusSeconds(2));
      metrics.syncJobsSeen("ml", "corp", List.of(before, failed));
      metrics.syncJobsSeen("ml", "corp", List.of(before, failed, succeeded));
      metrics.syncJobsSeen("ml", "corp", List.of(failed, succeeded));

      assertThat(metrics.scrape().lines())
          .contains(
              "pypimirror_sync_jobs_total{mirror=\"corp\",namespace=\"ml\",result=\"failed\"} 1.0",
              "pypimirror_sync_jobs_total{mirror=\"corp\",namespace=\"ml\",result=\"succeeded\"}"
                  + " 1.0");

      mirrors.clear();
      assertThat(metrics.scrape()).doesNotContain("pypimirror_sync_jobs_total{");
    } finally {
      metrics.close();
    }
  }

  @Test
  void aJobIsNewOnceAndOnlyIfItFinishedAtOrAfterTheSecondLeadershipBegan() {
    Instant since = Instant.parse("2026-12-01T10:00:00.700Z");
    var sameSecond = new FinishedSyncJob("a", true, Instant.parse("2026-12-01T10:00:00Z"));
    var earlier = new FinishedSyncJob("b", true, Instant.parse("2026-12-01T09:59:59Z"));
    var unknown = new FinishedSyncJob("c", true, null);
    var seen = new FinishedSyncJob("d", false, Instant.parse("2026-12-01T11:00:00Z"));

    assertThat(
            SyncJobCounts.newlyFinished(
                Set.of("d"), List.of(sameSecond, earlier, unknown, seen), since))
        .containsExactly(sameSecond);
  }

  @Test
  void retriesBeyondTheCapShareOneLabelValue() {
    RetryInfo fiftieth =
        new RetryInfo() {
          @Override
          public int getAttemptCount() {
            return 50;
          }

          @Override
          public boolean isLastAttempt() {
            return false;
          }
        };
    assertThat(BoundedRetryLabels.capped(fiftieth).getAttemptCount())
        .isEqualTo(BoundedRetryLabels.CAP);
    assertThat(BoundedRetryLabels.capped(null)).isNull();

    List<String> passedOn = new java.util.ArrayList<>();
    io.javaoperatorsdk.operator.api.monitoring.Metrics recording =
        new io.javaoperatorsdk.operator.api.monitoring.Metrics() {
          @Override
          public void reconcileCustomResource(
              io.fabric8.kubernetes.api.model.HasMetadata resource,
              RetryInfo retry,
              java.util.Map<String, Object> metadata) {
            passedOn.add("reconcile " + retry.getAttemptCount());
          }

          @Override
          public void cleanupDoneFor(
              io.javaoperatorsdk.operator.processing.event.ResourceID id,
              java.util.Map<String, Object> metadata) {
            passedOn.add("cleanup " + id.getName());
          }
        };
    var capping = BoundedRetryLabels.around(recording);
    capping.reconcileCustomResource(null, fiftieth, java.util.Map.of());
    capping.cleanupDoneFor(
        new io.javaoperatorsdk.operator.processing.event.ResourceID("corp", "ml"),
        java.util.Map.of());
    assertThat(passedOn).containsExactly("reconcile 5", "cleanup corp");
  }
}
