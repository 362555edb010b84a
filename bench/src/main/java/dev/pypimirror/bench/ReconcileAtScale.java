package dev.pypimirror.bench;

import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.settings.OperatorSettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Reconcile at scale against the mock API server (CRUD mode, in this process): 1,000 PypiMirrors in
 * 100 namespaces, from the first create until every one is Ready; then single spec changes, each
 * timed from the update until its ConfigMap carries the new config. Prints key=value lines.
 */
public final class ReconcileAtScale {
  private ReconcileAtScale() {}

  public static void main(String[] args) throws Exception {
    int namespaces = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int perNamespace = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int changes = 20;
    KubernetesCrudDispatcher store = new KubernetesCrudDispatcher();
    KubernetesMockServer server = ClusterServer.started(store);
    KubernetesClient client = server.createClient();
    ClusterServer.installCrds(client);
    for (int n = 0; n < namespaces; n++) {
      client
          .resource(
              new NamespaceBuilder().withNewMetadata().withName("team-" + n).endMetadata().build())
          .create();
    }
    int total = namespaces * perNamespace;
    Set<String> ready = ConcurrentHashMap.newKeySet();
    CountDownLatch allReady = new CountDownLatch(1);
    Map<String, String> hashes = new ConcurrentHashMap<>();
    Map<String, CountDownLatch> waiting = new ConcurrentHashMap<>();
    client
        .resources(PypiMirror.class)
        .inAnyNamespace()
        .inform(
            handler(
                m -> {
                  if (m.getStatus() != null && m.getStatus().isReady()) {
                    ready.add(m.getMetadata().getNamespace() + "/" + m.getMetadata().getName());
                    if (ready.size() == total) {
                      allReady.countDown();
                    }
                  }
                }));
    client
        .configMaps()
        .inAnyNamespace()
        .withLabel(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY)
        .inform(
            handler(
                (ConfigMap cm) -> {
                  String hash =
                      cm.getMetadata().getAnnotations().get(MirrorObjects.CONFIG_HASH_ANNOTATION);
                  CountDownLatch latch = waiting.get(hash);
                  if (latch != null) {
                    latch.countDown();
                  }
                }));

    // the mirrors exist before the operator starts (as after an upgrade or a failover); they
    // go straight into the store, since creating them through the mock takes it longer than the
    // operator takes to reconcile them
    long resourceVersion = 5_000_000;
    for (int n = 0; n < namespaces; n++) {
      for (int i = 0; i < perNamespace; i++) {
        PypiMirror mirror = mirror("team-" + n, "mirror-" + i, "https://devpi.example/" + i);
        mirror.getMetadata().setUid(UUID.randomUUID().toString());
        mirror.getMetadata().setResourceVersion(String.valueOf(resourceVersion++));
        mirror.getMetadata().setGeneration(1L);
        mirror.getMetadata().setCreationTimestamp("2026-11-01T00:00:00Z");
        String json = client.getKubernetesSerialization().asJson(mirror);
        store.getMap().put(store.getAttributeExtractor().fromResource(json), json);
      }
    }
    while (server.takeRequest(0, TimeUnit.SECONDS) != null) {
      // forget the setup's requests
    }
    Map<String, Long> cpuBefore = ThreadCpu.reading();
    long processCpuBefore = ThreadCpu.process();
    long start = System.nanoTime();
    var operator =
        OperatorApp.reconcilers(
                client,
                OperatorSettings.defaults().withOperatorNamespace("pypi-mirror-system"),
                Clock.systemUTC())
            .start();
    boolean done = allReady.await(300, TimeUnit.SECONDS);
    long allReadyAt = System.nanoTime();
    Map<String, Long> cpu = ThreadCpu.since(cpuBefore);
    String cpuByKind = ThreadCpu.byKind(cpuBefore);
    long processCpu = ThreadCpu.process() - processCpuBefore;
    System.out.printf("mirrors=%d%nnamespaces=%d%n", total, namespaces);
    // CPU until all were Ready: the operator's threads (reconcilers, informers, HTTP client;
    // the bench's two watches share that client), the mock API server's (Vert.x), and the whole
    // process (with the JVM's own: GC, JIT compilers)
    System.out.printf(
        "cpu_ms_operator_threads=%d%ncpu_ms_mock_server_threads=%d%ncpu_ms_process=%d%n",
        cpu.getOrDefault(ThreadCpu.OPERATOR, 0L) / 1_000_000,
        cpu.getOrDefault(ThreadCpu.MOCK, 0L) / 1_000_000,
        processCpu / 1_000_000);
    System.out.printf("cpu_ms_by_thread_kind=%s%n", cpuByKind);
    System.out.printf(
        "cpu_us_per_mirror_operator_threads=%.0f%n",
        cpu.getOrDefault(ThreadCpu.OPERATOR, 0L) / 1e3 / total);
    Map<String, Integer> requests = new java.util.TreeMap<>();
    for (var r = server.takeRequest(0, TimeUnit.SECONDS);
        r != null;
        r = server.takeRequest(0, TimeUnit.SECONDS)) {
      String path = r.getPath().replaceAll("\\?.*", "");
      String kind = path.substring(path.lastIndexOf('/', path.length() - 1) + 1);
      if (path.matches(".*/namespaces/[^/]+/[^/]+/[^/]+(/status)?")) {
        kind = path.replaceAll(".*/namespaces/[^/]+/([^/]+)/[^/]+(/status)?", "$1$2");
      }
      requests.merge(r.getMethod() + " " + kind, 1, Integer::sum);
    }
    System.out.printf("api_requests_until_ready=%s%n", requests);
    System.out.printf(
        "api_requests_per_mirror=%.2f%n",
        requests.values().stream().mapToInt(Integer::intValue).sum() / (double) total);
    System.out.printf(
        "all_ready_seconds=%s%n", done ? "%.2f".formatted((allReadyAt - start) / 1e9) : "timeout");

    List<Double> latencies = new ArrayList<>();
    for (int c = 0; c < changes; c++) {
      String ns = "team-" + (c * 7 % namespaces);
      String name = "mirror-" + (c % perNamespace);
      PypiMirror mirror = client.resources(PypiMirror.class).inNamespace(ns).withName(name).get();
      String url = "https://devpi.example/changed-" + c + "/simple/";
      mirror.getSpec().getIndexes().get(0).setUrl(url);
      String hash = MirrorConfigRenderer.render(name, mirror.getSpec()).hash();
      CountDownLatch latch = new CountDownLatch(1);
      waiting.put(hash, latch);
      long t0 = System.nanoTime();
      client.resource(mirror).update();
      boolean reached = latch.await(10, TimeUnit.SECONDS);
      latencies.add(reached ? (System.nanoTime() - t0) / 1e6 : Double.NaN);
      Thread.sleep(100);
    }
    Collections.sort(latencies);
    System.out.printf(
        "change_to_configmap_ms_median=%.0f%nchange_to_configmap_ms_max=%.0f%nchanges=%d%n",
        latencies.get(latencies.size() / 2), latencies.get(latencies.size() - 1), changes);
    operator.close();
    client.close();
    server.destroy();
    System.exit(0);
  }

  static PypiMirror mirror(String namespace, String name, String url) {
    PypiMirrorSpec spec = new PypiMirrorSpec();
    spec.setIndexes(List.of(new IndexSpec(url + "/simple/", false)));
    PypiMirror mirror = new PypiMirror();
    mirror.getMetadata().setNamespace(namespace);
    mirror.getMetadata().setName(name);
    mirror.setSpec(spec);
    return mirror;
  }

  static <T> ResourceEventHandler<T> handler(java.util.function.Consumer<T> seen) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        seen.accept(obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        seen.accept(newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {}
    };
  }
}
