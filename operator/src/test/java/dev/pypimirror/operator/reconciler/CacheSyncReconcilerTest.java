package dev.pypimirror.operator.reconciler;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.RequirementsRef;
import dev.pypimirror.operator.api.SyncSpec;
import dev.pypimirror.operator.testing.JobController;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Policies;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Cache sync Jobs and CronJobs against the mock API server; the test plays the Job controller. */
@EnableKubernetesMockClient(crud = true)
class CacheSyncReconcilerTest {
  static KubernetesMockServer server;
  static KubernetesClient client;
  static MirrorOperator operator;
  static final AtomicInteger NAMESPACES = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    operator = MockCluster.startOperator(client, "registry.example/op:1");
  }

  @AfterAll
  static void stop() {
    operator.close();
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

  void finish(Job job, boolean succeeded, String summary) {
    JobController.finish(client, job, succeeded, summary);
  }

  @Test
  void aSyncRunsOneJobAtATimeAndReportsWhatItLeft() {
    String ns = "sync" + NAMESPACES.incrementAndGet();
    client.resource(mirror(ns, "m", synced("requests==2.32.3"))).create();

    await().atMost(Duration.ofSeconds(10)).until(() -> jobs(ns).size() == 1);
    Job first = jobs(ns).get(0);
    assertThat(requirements(first)).isEqualTo("requests==2.32.3\n");
    assertThat(first.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("registry.example/op:1");
    await()
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(cacheReady(ns).getReason()).isEqualTo("Syncing"));
    assertThat(get(ns).getStatus().isReady())
        .as("a syncing cache does not make the mirror unusable")
        .isTrue();

    editMirror(
        ns,
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
    assertThat(requirements(second)).isEqualTo("requests==2.32.3\nsix\n");

    finish(
        second,
        true,
        "{\"projects\":6,\"files\":8,\"bytes\":200000,\"pagesWritten\":2,\"skipped\":1,"
            + "\"unreadable\":1,\"added\":1,\"alreadyPresent\":7,\"refused\":1,"
            + "\"refusals\":[\"six-1.0-py3-none-any.whl: differs from the file of that name\"]}");
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
              assertThat(List.of(cache.getAdded(), cache.getAlreadyPresent(), cache.getRefused()))
                  .containsExactly(1, 7, 1);
              assertThat(cache.getRefusals())
                  .containsExactly("six-1.0-py3-none-any.whl: differs from the file of that name");
              assertThat(cacheReady(ns).getMessage())
                  .endsWith("; 1 downloaded files refused (status.cache.refusals)");
            });
  }

  @Test
  void changingTheResyncAnnotationAloneSyncsAgain() {
    String ns = "sync" + NAMESPACES.incrementAndGet();
    client.resource(mirror(ns, "m", synced("requests==2.32.3"))).create();
    await().atMost(Duration.ofSeconds(10)).until(() -> jobs(ns).size() == 1);
    Job first = jobs(ns).get(0);
    finish(first, true, "{\"projects\":1,\"files\":1,\"bytes\":1,\"pagesWritten\":2}");
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> "Synced".equals(cacheReady(ns).getReason()));
    long generation = get(ns).getMetadata().getGeneration();

    editMirror(
        ns,
        m -> {
          var annotations = new java.util.HashMap<String, String>();
          if (m.getMetadata().getAnnotations() != null) {
            annotations.putAll(m.getMetadata().getAnnotations());
          }
          annotations.put("pypimirror.dev/resync", "2026-11-29T10:00");
          m.getMetadata().setAnnotations(annotations);
          return m;
        });

    // metadata only: the same generation, and yet a new Job at once (not at the 10-minute safety
    // reconcile), for the same requirements
    await().atMost(Duration.ofSeconds(10)).until(() -> jobs(ns).size() == 2);
    assertThat(get(ns).getMetadata().getGeneration()).isEqualTo(generation);
    Job second =
        jobs(ns).stream()
            .filter(j -> !j.getMetadata().getName().equals(first.getMetadata().getName()))
            .findFirst()
            .orElseThrow();
    assertThat(requirements(second)).isEqualTo(requirements(first));
  }

  /** Edits the mirror, again on a conflict with the reconciler's status writes. */
  void editMirror(String ns, java.util.function.UnaryOperator<PypiMirror> change) {
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(
            () -> {
              client.resources(PypiMirror.class).inNamespace(ns).withName("m").edit(change);
              return true;
            });
  }

  static String requirements(Job job) {
    var pod = job.getSpec().getTemplate().getSpec();
    String download =
        pod.getInitContainers().get(0).getEnv().stream()
            .filter(e -> e.getName().equals("PYPI_MIRROR_REQUIREMENTS"))
            .findFirst()
            .orElseThrow()
            .getValue();
    assertThat(pod.getContainers().get(0).getEnv())
        .anySatisfy(e -> assertThat(e.getValue()).isEqualTo(download));
    return download;
  }

  @Test
  void aForbiddenUpstreamGetsNoSyncJob() {
    String ns = "sync" + NAMESPACES.incrementAndGet();
    client
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(ns)
                .withLabels(Map.of("sync-policy", ns))
                .endMetadata()
                .build())
        .create();
    PypiMirrorPolicy policy = Policies.policy("p-" + ns, Map.of("sync-policy", ns), null, true);
    policy.getSpec().setAllowedIndexPrefixes(List.of("https://devpi.corp.example/"));
    client.resource(policy).create();
    PypiMirrorSpec spec = synced("requests==2.32.3");
    spec.getCache().setSync(new SyncSpec());
    spec.getCache().getSync().setUpstream("https://elsewhere.example/simple/");
    spec.getCache().getSync().setSchedule("0 3 * * *");
    client.resource(mirror(ns, "m", spec)).create();

    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              assertThat(cacheReady(ns).getReason()).isEqualTo("PolicyViolation");
              assertThat(cacheReady(ns).getMessage())
                  .contains(
                      "spec.cache.sync.upstream https://elsewhere.example/simple/ is not under");
            });
    assertThat(jobs(ns)).isEmpty();
    assertThat(client.batch().v1().cronjobs().inNamespace(ns).list().getItems()).isEmpty();
  }

  @Test
  void requirementsConfigMapLinesAreCheckedAndCarriedInTheJob() {
    String ns = "sync" + NAMESPACES.incrementAndGet();
    client
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("deps")
                .withNamespace(ns)
                .endMetadata()
                .addToData(
                    "requirements.txt", "six==1.16.0\n--extra-index-url https://evil.example/\n")
                .build())
        .create();
    PypiMirrorSpec spec = synced();
    RequirementsRef ref = new RequirementsRef();
    ref.setName("deps");
    spec.getCache().setRequirementsConfigMap(ref);
    client.resource(mirror(ns, "m", spec)).create();

    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              assertThat(cacheReady(ns).getReason()).isEqualTo("InvalidRequirements");
              assertThat(cacheReady(ns).getMessage())
                  .contains(
                      "ConfigMap deps key requirements.txt line 2: only requirement specifiers");
            });
    assertThat(jobs(ns)).isEmpty();

    client
        .configMaps()
        .inNamespace(ns)
        .withName("deps")
        .edit(
            c -> {
              c.getData().put("requirements.txt", "six==1.16.0  # pinned\n");
              return c;
            });
    editMirror(
        ns,
        m -> {
          m.getSpec().getCache().setPackages(List.of("idna==3.7"));
          return m;
        });
    // the next reconcile (the edit, or an earlier one) reads the fixed ConfigMap
    await().atMost(Duration.ofSeconds(10)).until(() -> !jobs(ns).isEmpty());
    assertThat(requirements(jobs(ns).get(0))).endsWith("six==1.16.0\n");
    assertThat(jobs(ns).get(0).getSpec().getTemplate().getSpec().getVolumes())
        .allSatisfy(v -> assertThat(v.getConfigMap()).isNull());
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

    editMirror(
        ns,
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
