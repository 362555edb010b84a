package dev.pypimirror.operator.cache;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.RequirementsRef;
import dev.pypimirror.operator.api.SyncSpec;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sync Job, CronJob and pip arguments a mirror's cache gets. */
class CacheSyncTest {
  static PypiMirror synced(String... packages) {
    PypiMirror m =
        mirror(
            "builds",
            "corp",
            withCache(
                spec(
                    https("https://devpi.corp.example/simple/"),
                    trustedHttp("http://10.0.0.5:3141/simple/")),
                "/tmp/pypi"));
    m.getMetadata().setUid("u-1");
    m.setApiVersion("pypimirror.dev/v1alpha1");
    m.getSpec().getCache().setPackages(List.of(packages));
    return m;
  }

  @Test
  void theJobDownloadsThenIndexesUnderTheRestrictedProfile() {
    PypiMirror mirror = synced("requests==2.32.3", "numpy>=2");

    CacheSync.Plan plan =
        CacheSync.plan(mirror, "pypi-mirror-corp-cache", "registry.example/pypi-mirror-operator:1");
    Job job = CacheSync.job(mirror, plan);

    assertThat(job.getMetadata().getName())
        .isEqualTo("pypi-mirror-corp-sync-" + plan.hash().substring(0, 10));
    assertThat(job.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "pypi-mirror-operator")
        .containsEntry("app.kubernetes.io/component", "cache-sync")
        .containsEntry("pypimirror.dev/mirror", "corp");
    assertThat(job.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(r -> assertThat(r.getUid()).isEqualTo("u-1"));
    var spec = job.getSpec();
    assertThat(spec.getActiveDeadlineSeconds()).isEqualTo(1800L);
    assertThat(spec.getBackoffLimit()).isEqualTo(2);
    assertThat(spec.getTtlSecondsAfterFinished()).isEqualTo(86400);
    var pod = spec.getTemplate().getSpec();
    assertThat(spec.getTemplate().getMetadata().getAnnotations())
        .containsEntry("pypimirror.dev/inject", "false");
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(65532L);
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    Container download = pod.getInitContainers().get(0);
    Container index = pod.getContainers().get(0);
    for (Container c : List.of(download, index)) {
      assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
      assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
      assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
      assertThat(c.getVolumeMounts())
          .anySatisfy(
              m -> {
                assertThat(m.getMountPath()).isEqualTo("/cache");
                assertThat(m.getReadOnly()).isNull();
              });
      assertThat(c.getResources().getLimits()).containsKey("memory");
    }
    assertThat(pod.getVolumes())
        .anySatisfy(
            v -> {
              assertThat(v.getPersistentVolumeClaim().getClaimName())
                  .isEqualTo("pypi-mirror-corp-cache");
              assertThat(v.getPersistentVolumeClaim().getReadOnly()).isFalse();
            });
    assertThat(download.getImage()).isEqualTo("python:3.12-slim");
    assertThat(download.getCommand()).containsExactly("python", "-m", "pip");
    assertThat(download.getArgs())
        .containsExactly(
            "download",
            "--dest",
            "/cache/_files",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "--index-url",
            "https://devpi.corp.example/simple/",
            "--extra-index-url",
            "http://10.0.0.5:3141/simple/",
            "--trusted-host",
            "10.0.0.5:3141",
            "requests==2.32.3",
            "numpy>=2");
    assertThat(download.getEnv())
        .anySatisfy(
            e ->
                assertThat(e.getName() + "=" + e.getValue())
                    .isEqualTo("PIP_CONFIG_FILE=/dev/null"));
    assertThat(index.getImage()).isEqualTo("registry.example/pypi-mirror-operator:1");
    assertThat(index.getArgs())
        .containsExactly("index", "/cache", "--summary-file", "/dev/termination-log");
  }

  @Test
  void targetsUpstreamAndRequirementsShapeTheDownload() {
    PypiMirror mirror = synced("lxml");
    SyncSpec sync = new SyncSpec();
    sync.setUpstream("https://pypi.internal/simple/");
    sync.setPlatforms(List.of("manylinux2014_x86_64", "manylinux_2_28_x86_64"));
    sync.setPythonVersion("3.12");
    mirror.getSpec().getCache().setSync(sync);
    RequirementsRef requirements = new RequirementsRef();
    requirements.setName("build-deps");
    mirror.getSpec().getCache().setRequirementsConfigMap(requirements);

    var plan = CacheSync.plan(mirror, "claim", "img");
    var download = plan.jobSpec().getTemplate().getSpec().getInitContainers().get(0);

    assertThat(download.getArgs())
        .containsSubsequence("--index-url", "https://pypi.internal/simple/")
        .containsSubsequence(
            "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64")
        .containsSubsequence(
            "--python-version",
            "3.12",
            "--only-binary=:all:",
            "-r",
            "/requirements/requirements.txt",
            "lxml")
        .doesNotContain("--extra-index-url", "--trusted-host");
    assertThat(plan.jobSpec().getTemplate().getSpec().getVolumes())
        .anySatisfy(
            v ->
                assertThat(v.getConfigMap() == null ? null : v.getConfigMap().getName())
                    .isEqualTo("build-deps"));
  }

  @Test
  void withoutOwnIndexesItDownloadsFromThePublicIndex() {
    PypiMirror mirror = mirror("b", "cache-only", withCache(spec(), "/tmp/pypi"));
    mirror.getSpec().getCache().setPackages(List.of("six"));

    assertThat(CacheSync.downloadArgs(mirror, "/cache", null))
        .containsSubsequence("--index-url", "https://pypi.org/simple");
  }

  @Test
  void theHashFollowsTheSpecAndTheResyncAnnotation() {
    String base = CacheSync.plan(synced("a"), "c", "img").hash();

    assertThat(CacheSync.plan(synced("a"), "c", "img").hash()).isEqualTo(base);
    assertThat(CacheSync.plan(synced("b"), "c", "img").hash()).isNotEqualTo(base);
    assertThat(CacheSync.plan(synced("a"), "c", "img2").hash()).isNotEqualTo(base);
    PypiMirror resync = synced("a");
    resync.getMetadata().setAnnotations(Map.of("pypimirror.dev/resync", "2026-11-22"));
    assertThat(CacheSync.plan(resync, "c", "img").hash()).isNotEqualTo(base);
  }

  @Test
  void theCronJobRunsOneSyncAtATime() {
    PypiMirror mirror = synced("a");
    SyncSpec sync = new SyncSpec();
    sync.setSchedule("0 3 * * *");
    mirror.getSpec().getCache().setSync(sync);
    var plan = CacheSync.plan(mirror, "c", "img");

    var cron = CacheSync.cronJob(mirror, plan);

    assertThat(cron.getMetadata().getName()).isEqualTo("pypi-mirror-corp-sync");
    assertThat(cron.getSpec().getSchedule()).isEqualTo("0 3 * * *");
    assertThat(cron.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");
    assertThat(cron.getSpec().getJobTemplate().getSpec()).isEqualTo(plan.jobSpec());
    assertThat(cron.getSpec().getJobTemplate().getMetadata().getAnnotations())
        .containsEntry("pypimirror.dev/sync-hash", plan.hash());
  }
}
