package dev.pypimirror.operator.reconciler;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.testing.FaultInjector;
import dev.pypimirror.operator.testing.MockCluster;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator against a misbehaving API server: 500s, 409s, 429s with Retry-After and slow answers
 * on 20 % of its reads and 40 % of its writes, an expectation failing the first ConfigMap creates
 * of one namespace, and its watches dropped every few hundred milliseconds, while mirrors are
 * created, changed and deleted. Checked throughout: no mirror is Ready before its ConfigMap holds
 * that generation's config (or a later one); the mirror whose ConfigMap name is taken is never
 * Ready. Checked after the faults stop: every mirror converges, the object it does not own is
 * untouched, and no cache claim was lost.
 */
class FaultInjectionTest {
  static final long SEED = 20261122;
  static final Set<String> NAMESPACES = Set.of("faults-a", "faults-b");

  KubernetesMockServer server;
  FaultInjector faults;
  KubernetesClient client; // the test's own: never faulted
  KubernetesClient operatorClient;
  MirrorOperator operator;

  /** Each mirror's config hash by generation, as the test wrote the specs. */
  final Map<String, Map<Long, String>> hashes = new ConcurrentHashMap<>();

  final List<String> violations = new CopyOnWriteArrayList<>();

  /** Checks Ready claims while the test runs; stopped after each test, whatever its outcome. */
  final AtomicBoolean watching = new AtomicBoolean(true);

  Thread observer;

  @BeforeEach
  void startCluster() throws Exception {
    Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
    faults = new FaultInjector(new KubernetesMixedDispatcher(expectations), SEED);
    server =
        new KubernetesMockServer(new Context(), new MockWebServer(), expectations, faults, false);
    server.init();
    client = server.createClient();
    operatorClient =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(client.getConfiguration())
                    .withCustomHeaders(Map.of(FaultInjector.TARGET_HEADER, "operator"))
                    .build())
            .build();
    MockCluster.installCrds(client);
    NAMESPACES.forEach(ns -> MockCluster.namespace(client, ns, Map.of()));
  }

  @AfterEach
  void stop() throws InterruptedException {
    watching.set(false);
    if (observer != null) {
      observer.join();
    }
    if (operator != null) {
      operator.close();
    }
    operatorClient.close();
    client.close();
    server.destroy();
  }

  @Test
  void convergesThroughFaultsWithoutFalseReadyOrTouchingWhatItDoesNotOwn() throws Exception {
    ConfigMap notOurs =
        client
            .resource(
                new ConfigMapBuilder()
                    .withNewMetadata()
                    .withName(MirrorObjects.configMapName("taken"))
                    .withNamespace("faults-a")
                    .endMetadata()
                    .withData(Map.of("pip.conf", "[global]\nindex-url = https://mine.example/\n"))
                    .build())
            .create();
    // expectations mode: the first three ConfigMap creates in faults-b fail outright
    server
        .expect()
        .post()
        .withPath("/api/v1/namespaces/faults-b/configmaps")
        .andReturn(500, Map.of("kind", "Status", "code", 500, "message", "expected failure"))
        .times(3);

    faults.on();
    operator =
        OperatorApp.reconcilers(
                operatorClient,
                OperatorSettings.defaults().withOperatorNamespace("pypi-mirror-system"),
                Clock.systemUTC())
            .start();
    observer = new Thread(() -> observe(watching), "ready-observer");
    observer.start();

    List<String[]> mirrors = new ArrayList<>();
    for (String ns : NAMESPACES) {
      for (int i = 0; i < 6; i++) {
        String name = "m" + i;
        PypiMirrorSpec spec = spec(https("https://devpi.example/" + ns + "/" + i + "/simple/"));
        if (i % 2 == 0) {
          spec = withCache(spec, "/tmp/pypi");
        }
        write(ns, name, spec);
        mirrors.add(new String[] {ns, name});
      }
    }
    write("faults-a", "taken", spec(https("https://devpi.example/taken/simple/")));

    Map<String, String> claimUids = new HashMap<>();
    String deletedUid = null;
    // faults for 8 s at least, and on until every kind of fault has happened (a slow machine
    // makes fewer requests in 8 s), within a generous ceiling
    long faultsUntil = System.nanoTime() + Duration.ofSeconds(8).toNanos();
    long ceiling = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    int round = 0;
    while (System.nanoTime() < faultsUntil
        || (System.nanoTime() < ceiling && faults.counts().containsValue(0L))) {
      Thread.sleep(400);
      faults.dropWatches();
      round++;
      String[] changed = mirrors.get(round % mirrors.size());
      PypiMirror current = get(changed[0], changed[1]);
      if (current != null) {
        PypiMirrorSpec spec = current.getSpec();
        spec.getIndexes().get(0).setUrl("https://devpi.example/round-" + round + "/simple/");
        write(changed[0], changed[1], spec);
      }
      if (round == 5) {
        deletedUid = get("faults-b", "m5").getMetadata().getUid();
        client.resources(PypiMirror.class).inNamespace("faults-b").withName("m5").delete();
        hashes.remove("faults-b/m5");
        mirrors.removeIf(m -> m[0].equals("faults-b") && m[1].equals("m5"));
      }
      recordClaims(mirrors, claimUids);
    }
    faults.off();

    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () -> {
              for (String[] m : mirrors) {
                PypiMirror mirror = get(m[0], m[1]);
                assertThat(mirror.getStatus()).as("%s/%s status", m[0], m[1]).isNotNull();
                assertThat(mirror.getStatus().isReady()).as("%s/%s Ready", m[0], m[1]).isTrue();
                assertThat(mirror.getStatus().getObservedGeneration())
                    .isEqualTo(mirror.getMetadata().getGeneration());
                ConfigMap cm = configMap(m[0], m[1]);
                assertThat(cm.getData())
                    .isEqualTo(MirrorConfigRenderer.render(m[1], mirror.getSpec()).data());
              }
            });
    watching.set(false);
    observer.join();
    recordClaims(mirrors, claimUids);

    assertThat(violations).as("Ready claimed falsely while faults ran").isEmpty();
    PypiMirror taken = get("faults-a", "taken");
    assertThat(taken.getStatus().isReady()).isFalse();
    assertThat(taken.getStatus().condition("Ready").orElseThrow().getReason())
        .isEqualTo("Conflict");
    ConfigMap untouched = configMap("faults-a", "taken");
    assertThat(untouched.getMetadata().getResourceVersion())
        .isEqualTo(notOurs.getMetadata().getResourceVersion());
    assertThat(untouched.getData()).isEqualTo(notOurs.getData());
    String deletedMirrorUid = deletedUid;
    // the mock server has no garbage collector: the deleted mirror's ConfigMap stays, owned by it
    assertThat(configMap("faults-b", "m5").getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(owner -> assertThat(owner.getUid()).isEqualTo(deletedMirrorUid));
    for (String[] m : mirrors) {
      PersistentVolumeClaim claim = claim(m[0], m[1]);
      if (claimUids.containsKey(m[0] + "/" + m[1])) {
        assertThat(claim.getMetadata().getUid())
            .as("the claim of %s/%s was never replaced", m[0], m[1])
            .isEqualTo(claimUids.get(m[0] + "/" + m[1]));
      }
    }
    assertThat(claimUids).as("claims seen").hasSizeGreaterThanOrEqualTo(5);
    System.out.println("faults injected: " + faults.counts());
    assertThat(faults.counts())
        .allSatisfy((fault, n) -> assertThat(n).as("%s", fault).isPositive());
  }

  /**
   * Creates or updates the mirror, remembering the config hash of the generation it got. An update
   * that loses the race with the operator's status write (409) is read again and retried, as a
   * user's tool does.
   */
  void write(String ns, String name, PypiMirrorSpec spec) {
    PypiMirror written = null;
    for (int attempt = 1; written == null; attempt++) {
      PypiMirror existing = get(ns, name);
      try {
        if (existing == null) {
          written = client.resource(mirror(ns, name, spec)).create();
        } else {
          existing.setSpec(spec);
          written = client.resource(existing).update();
        }
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
    hashes
        .computeIfAbsent(ns + "/" + name, k -> new ConcurrentHashMap<>())
        .put(written.getMetadata().getGeneration(), MirrorConfigRenderer.render(name, spec).hash());
  }

  /**
   * A mirror is Ready at generation g only once its ConfigMap holds the config of g or of a later
   * generation: the ConfigMap is read after the mirror and only moves forward.
   */
  void observe(AtomicBoolean watching) {
    while (watching.get()) {
      for (PypiMirror mirror :
          client.resources(PypiMirror.class).inAnyNamespace().list().getItems()) {
        var status = mirror.getStatus();
        if (status == null || !status.isReady()) {
          continue;
        }
        String key = mirror.getMetadata().getNamespace() + "/" + mirror.getMetadata().getName();
        if (mirror.getMetadata().getName().equals("taken")) {
          violations.add(key + " Ready although its ConfigMap is not ours");
          continue;
        }
        Map<Long, String> byGeneration = hashes.get(key);
        ConfigMap cm =
            configMap(mirror.getMetadata().getNamespace(), mirror.getMetadata().getName());
        if (byGeneration == null || cm == null) {
          if (byGeneration != null) {
            violations.add(key + " Ready without a ConfigMap");
          }
          continue;
        }
        String hash = cm.getMetadata().getAnnotations().get(MirrorObjects.CONFIG_HASH_ANNOTATION);
        long observed = status.getObservedGeneration();
        boolean current =
            byGeneration.entrySet().stream()
                .anyMatch(e -> e.getKey() >= observed && e.getValue().equals(hash));
        if (!current) {
          violations.add(
              key + " Ready at generation " + observed + " but its ConfigMap holds " + hash);
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  void recordClaims(List<String[]> mirrors, Map<String, String> uids) {
    for (String[] m : mirrors) {
      PersistentVolumeClaim claim = claim(m[0], m[1]);
      if (claim != null) {
        uids.putIfAbsent(m[0] + "/" + m[1], claim.getMetadata().getUid());
      }
    }
  }

  PypiMirror get(String ns, String name) {
    return client.resources(PypiMirror.class).inNamespace(ns).withName(name).get();
  }

  ConfigMap configMap(String ns, String mirror) {
    return client.configMaps().inNamespace(ns).withName(MirrorObjects.configMapName(mirror)).get();
  }

  PersistentVolumeClaim claim(String ns, String mirror) {
    return client
        .persistentVolumeClaims()
        .inNamespace(ns)
        .withName(MirrorObjects.ownClaimName(mirror))
        .get();
  }
}
