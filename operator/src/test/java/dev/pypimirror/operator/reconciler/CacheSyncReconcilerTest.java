package dev.pypimirror.operator.reconciler;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.SyncSpec;
import dev.pypimirror.operator.testing.MockCluster;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.javaoperatorsdk.operator.Operator;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Cache sync Jobs and CronJobs against the mock API server; the test plays the Job controller. */
@EnableKubernetesMockClient(crud = true)
class CacheSyncReconcilerTest {
  static KubernetesMockServer server;
  static KubernetesClient client;
  static Operator operator;
  static final AtomicInteger NAMESPACES = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    MockCluster.installCrds(client);
    operator =
        MirrorOperator.start(
            client, Set.of(), "pypi-mirror-system", "registry.example/op:1", Clock.systemUTC());
  }

  @AfterAll
  static void stop() {
    operator.stop();
  }

  static PypiMirrorSpec synced(String... packages) {
    PypiMirrorSpec spec = withCache(spec(https("https://devpi.corp.example/simple/")), "/tmp/pypi");
    spec.getCache().setPackages(List.of(packages));
    return spec;
  }

  List<Job> jobs(String ns) {
    return client.batch().v1().jobs().inNamespace(ns).list().getItems();
  }

  PypiMirror get(String ns) {
    return client.resources(PypiMirror.class).inNamespace(ns).withName("m").get();
  }

  Condition cacheReady(String ns) {
    return get(ns).getStatus().condition("CacheReady").orElseThrow();
  }

  /** What the Job controller and the kubelet would do when the Job's pod ends. */
  void finish(Job job, boolean succeeded, String summary) {
    String now =
        java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    if (succeeded) {
      client
          .resource(
              new PodBuilder()
                  .withNewMetadata()
                  .withName(job.getMetadata().getName() + "-abcde")
                  .withNamespace(job.getMetadata().getNamespace())
                  .withLabels(job.getSpec().getTemplate().getMetadata().getLabels())
                  .addToLabels("job-name", job.getMetadata().getName())
                  .endMetadata()
                  .withSpec(job.getSpec().getTemplate().getSpec())
                  .withNewStatus()
                  .withPhase("Succeeded")
                  .addNewContainerStatus()
                  .withName("index")
                  .withNewState()
                  .withNewTerminated()
                  .withExitCode(0)
                  .withMessage(summary)
                  .endTerminated()
                  .endState()
                  .endContainerStatus()
                  .endStatus()
                  .build())
          .create();
    }
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(job.getMetadata().getNamespace())
        .withName(job.getMetadata().getName())
        .editStatus(
            j -> {
              j.setStatus(
                  new JobStatusBuilder()
                      .withCompletionTime(succeeded ? now : null)
                      .withConditions(
                          new JobConditionBuilder()
                              .withType(succeeded ? "Complete" : "Failed")
                              .withStatus("True")
                              .withReason(succeeded ? null : "BackoffLimitExceeded")
                              .withMessage(
                                  succeeded ? null : "Job has reached the specified backoff limit")
                              .withLastTransitionTime(now)
                              .build())
                      .build());
              return j;
            });
  }

  @Test
  void aSyncRunsOneJobAtATimeAndReportsWhatItLeft() {
    String ns = "sync" + NAMESPACES.incrementAndGet();
    client.resource(mirror(ns, "m", synced("requests==2.32.3"))).create();

    await().atMost(Duration.ofSeconds(10)).until(() -> jobs(ns).size() == 1);
    Job first = jobs(ns).get(0);
    assertThat(first.getSpec().getTemplate().getSpec().getInitContainers().get(0).getArgs())
        .contains("requests==2.32.3");
    assertThat(first.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("registry.example/op:1");
    await()
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(cacheReady(ns).getReason()).isEqualTo("Syncing"));
    assertThat(get(ns).getStatus().isReady())
        .as("a syncing cache does not make the mirror unusable")
        .isTrue();

    client
        .resources(PypiMirror.class)
        .inNamespace(ns)
        .withName("m")
        .edit(
            m -> {
              m.getSpec().getCache().setPackages(List.of("requests==2.32.3", "six"));
              return m;
            });
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> jobs(ns).size() == 1);

    finish(
        first,
        true,
        "{\"projects\":5,\"files\":7,\"bytes\":123456,\"pagesWritten\":6,\"skipped\":0}");
    await().atMost(Duration.ofSeconds(10)).until(() -> jobs(ns).size() == 2);
    Job second =
        jobs(ns).stream()
            .filter(j -> !j.getMetadata().getName().equals(first.getMetadata().getName()))
            .findFirst()
            .orElseThrow();
    assertThat(second.getSpec().getTemplate().getSpec().getInitContainers().get(0).getArgs())
        .contains("six");

    finish(
        second,
        true,
        "{\"projects\":6,\"files\":8,\"bytes\":200000,\"pagesWritten\":2,\"skipped\":1,"
            + "\"unreadable\":1}");
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              assertThat(cacheReady(ns).getStatus() + "/" + cacheReady(ns).getReason())
                  .isEqualTo("True/Synced");
              var cache = get(ns).getStatus().getCache();
              assertThat(cache.getPackageCount()).isEqualTo(8);
              assertThat(cache.getProjectCount()).isEqualTo(6);
              assertThat(cache.getSizeBytes()).isEqualTo(200000L);
              assertThat(cache.getUnreadableCount()).isEqualTo(1);
              assertThat(cache.getLastSyncTime()).isNotBlank();
              assertThat(cache.getLastSyncJob()).isEqualTo(second.getMetadata().getName());
            });
  }

  @Test
  void aFailedSyncIsReportedAndLeavesTheMirrorAndItsConfigAlone() {
    String ns = "sync" + NAMESPACES.incrementAndGet();
    client.resource(mirror(ns, "m", synced("no-such-package"))).create();
    await().atMost(Duration.ofSeconds(10)).until(() -> jobs(ns).size() == 1);
    await().ignoreExceptions().until(() -> get(ns).getStatus().isReady());
    var configBefore = client.configMaps().inNamespace(ns).withName("pypi-mirror-m").get();

    finish(jobs(ns).get(0), false, null);

    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              assertThat(cacheReady(ns).getStatus() + "/" + cacheReady(ns).getReason())
                  .isEqualTo("False/SyncFailed");
              assertThat(cacheReady(ns).getMessage()).contains("BackoffLimitExceeded");
            });
    assertThat(get(ns).getStatus().isReady()).isTrue();
    assertThat(
            client
                .configMaps()
                .inNamespace(ns)
                .withName("pypi-mirror-m")
                .get()
                .getMetadata()
                .getResourceVersion())
        .isEqualTo(configBefore.getMetadata().getResourceVersion());
    assertThat(jobs(ns)).as("the same spec is not retried in a loop").hasSize(1);
    await()
        .untilAsserted(
            () ->
                assertThat(client.v1().events().inNamespace(ns).list().getItems())
                    .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("SyncFailed")));
  }

  @Test
  void aScheduleKeepsACronJobAndRemovingItDeletesIt() {
    String ns = "sync" + NAMESPACES.incrementAndGet();
    PypiMirrorSpec spec = synced("six");
    SyncSpec sync = new SyncSpec();
    sync.setSchedule("@daily");
    spec.getCache().setSync(sync);
    client.resource(mirror(ns, "m", spec)).create();

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              CronJob cron =
                  client
                      .batch()
                      .v1()
                      .cronjobs()
                      .inNamespace(ns)
                      .withName("pypi-mirror-m-sync")
                      .get();
              assertThat(cron).isNotNull();
              assertThat(cron.getSpec().getSchedule()).isEqualTo("@daily");
              assertThat(cron.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");
            });

    client
        .resources(PypiMirror.class)
        .inNamespace(ns)
        .withName("m")
        .edit(
            m -> {
              m.getSpec().getCache().getSync().setSchedule(null);
              return m;
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                client.batch().v1().cronjobs().inNamespace(ns).withName("pypi-mirror-m-sync").get()
                    == null);
  }
}
