package dev.pypimirror.operator.reconciler;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.testing.MockCluster;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The reconciler against fabric8's mock API server in CRUD mode, as the cluster stand-in. */
@EnableKubernetesMockClient(crud = true)
class PypiMirrorReconcilerTest {
  static KubernetesMockServer server;
  static KubernetesClient client;
  static MirrorOperator operator;
  static final AtomicInteger NAMESPACES = new AtomicInteger();

  @BeforeAll
  static void startOperator() throws Exception {
    operator = MockCluster.startOperator(client);
  }

  @AfterAll
  static void stopOperator() {
    operator.close();
  }

  static String newNamespace() {
    return "ns" + NAMESPACES.incrementAndGet();
  }

  PypiMirror create(String namespace, String name, PypiMirrorSpec spec) {
    return client.resource(mirror(namespace, name, spec)).create();
  }

  PypiMirror awaitCondition(String ns, String name, String type, String status, String reason) {
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              Condition c = condition(get(ns, name), type);
              assertThat(c).as("condition %s", type).isNotNull();
              assertThat(c.getStatus() + "/" + c.getReason()).isEqualTo(status + "/" + reason);
            });
    return get(ns, name);
  }

  PypiMirror get(String ns, String name) {
    return client.resources(PypiMirror.class).inNamespace(ns).withName(name).get();
  }

  static Condition condition(PypiMirror mirror, String type) {
    return mirror.getStatus() == null ? null : mirror.getStatus().condition(type).orElse(null);
  }

  ConfigMap configMap(String ns, String name) {
    return client.configMaps().inNamespace(ns).withName(name).get();
  }

  PersistentVolumeClaim claim(String ns, String name) {
    return client.persistentVolumeClaims().inNamespace(ns).withName(name).get();
  }

  List<String> eventReasons(String ns, String involved) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> involved.equals(e.getInvolvedObject().getName()))
        .map(Event::getReason)
        .toList();
  }

  @Test
  void aMirrorReconcilesIntoItsConfigMapAndReportsReady() {
    String ns = newNamespace();
    PypiMirrorSpec spec = spec(https("https://devpi.corp.example/root/pypi/+simple/"));
    PypiMirror created = create(ns, "corp", spec);

    PypiMirror ready = awaitCondition(ns, "corp", "Ready", "True", "Ready");

    var rendered = MirrorConfigRenderer.render("corp", spec);
    ConfigMap cm = configMap(ns, "pypi-mirror-corp");
    assertThat(cm.getData()).isEqualTo(rendered.data());
    assertThat(cm.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "pypi-mirror-operator")
        .containsEntry("pypimirror.dev/mirror", "corp");
    assertThat(cm.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            ref -> {
              assertThat(ref.getUid()).isEqualTo(created.getMetadata().getUid());
              assertThat(ref.getKind()).isEqualTo("PypiMirror");
              assertThat(ref.getController()).isTrue();
            });
    var status = ready.getStatus();
    assertThat(status.getObservedGeneration()).isEqualTo(ready.getMetadata().getGeneration());
    assertThat(status.getConfigMapName()).isEqualTo("pypi-mirror-corp");
    assertThat(status.getClaimName()).isNull();
    assertThat(status.getConfigHash()).isEqualTo(rendered.hash());
    assertThat(status.getIndexUrls())
        .containsExactly(
            "https://devpi.corp.example/root/pypi/+simple/", "https://pypi.org/simple");
    assertThat(status.getConditions())
        .extracting(Condition::getType)
        .containsExactly("ConfigRendered", "CacheReady", "Ready", "DependencyConfusionRisk");
    assertThat(condition(ready, "CacheReady").getReason()).isEqualTo("CacheDisabled");
    assertThat(status.getConditions())
        .allSatisfy(
            c -> {
              assertThat(c.getLastTransitionTime()).isNotBlank();
              assertThat(c.getObservedGeneration()).isEqualTo(ready.getMetadata().getGeneration());
            });
    await().untilAsserted(() -> assertThat(eventReasons(ns, "corp")).contains("Ready"));
  }

  @Test
  void aPrivateIndexBesideThePublicOneIsReportedAndAnnouncedOnceWithoutBlocking() {
    String ns = newNamespace();
    PypiMirrorSpec mixed = spec(https("https://devpi.corp.example/simple/"));
    create(ns, "mixed", mixed);

    PypiMirror risky =
        awaitCondition(ns, "mixed", "DependencyConfusionRisk", "True", "PublicIndexBesidePrivate");

    assertThat(condition(risky, "Ready").getStatus()).isEqualTo("True");
    assertThat(condition(risky, "DependencyConfusionRisk").getMessage())
        .contains("pip gets the public index https://pypi.org/simple beside")
        .contains("serve: Proxy");
    await()
        .untilAsserted(
            () ->
                assertThat(eventReasons(ns, "mixed")).containsOnlyOnce("DependencyConfusionRisk"));

    PypiMirror edited = get(ns, "mixed");
    edited.getSpec().setOffline(true);
    client.resource(edited).update();
    awaitCondition(ns, "mixed", "DependencyConfusionRisk", "False", "SingleIndexForPip");
    assertThat(eventReasons(ns, "mixed")).containsOnlyOnce("DependencyConfusionRisk");
  }

  @Test
  void aSpecChangeUpdatesTheConfigMap() {
    String ns = newNamespace();
    create(ns, "m", spec(https("https://one.example/simple/")));
    awaitCondition(ns, "m", "Ready", "True", "Ready");

    client
        .resources(PypiMirror.class)
        .inNamespace(ns)
        .withName("m")
        .edit(
            m -> {
              m.getSpec().getIndexes().add(https("https://two.example/simple/"));
              m.getSpec().setOffline(true);
              return m;
            });

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(configMap(ns, "pypi-mirror-m").getData())
                    .containsEntry("PIP_EXTRA_INDEX_URL", "https://two.example/simple/")
                    .containsEntry("UV_DEFAULT_INDEX", "https://two.example/simple/"));
    await()
        .untilAsserted(
            () ->
                assertThat(get(ns, "m").getStatus().getIndexUrls())
                    .containsExactly("https://one.example/simple/", "https://two.example/simple/"));
    assertThat(eventReasons(ns, "m")).contains("ConfigUpdated");
  }

  @Test
  void aHandEditOfTheConfigMapIsPutBack() {
    String ns = newNamespace();
    PypiMirrorSpec spec = spec(https("https://one.example/simple/"));
    create(ns, "m", spec);
    awaitCondition(ns, "m", "Ready", "True", "Ready");

    client
        .configMaps()
        .inNamespace(ns)
        .withName("pypi-mirror-m")
        .edit(
            cm -> {
              cm.getData().put("pip.conf", "[global]\nindex-url = https://evil.example/simple/\n");
              cm.getData().put("EXTRA", "x");
              return cm;
            });

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(configMap(ns, "pypi-mirror-m").getData())
                    .isEqualTo(MirrorConfigRenderer.render("m", spec).data()));
    await().untilAsserted(() -> assertThat(eventReasons(ns, "m")).contains("ConfigRestored"));
  }

  @Test
  void theCachePvcHonoursTheSpecAndRetainLeavesNoOwnerReference() {
    String ns = newNamespace();
    PypiMirrorSpec spec = withCache(spec(), "/tmp/pypi");
    spec.getCache().setSize("25Gi");
    spec.getCache().setStorageClassName("fast");
    spec.getCache().setAccessModes(List.of(CacheSpec.AccessMode.ReadWriteMany));
    create(ns, "c", spec);

    PypiMirror ready = awaitCondition(ns, "c", "Ready", "True", "Ready");

    PersistentVolumeClaim pvc = claim(ns, "pypi-mirror-c-cache");
    assertThat(pvc.getSpec().getResources().getRequests())
        .containsEntry("storage", new Quantity("25Gi"));
    assertThat(pvc.getSpec().getStorageClassName()).isEqualTo("fast");
    assertThat(pvc.getSpec().getAccessModes()).containsExactly("ReadWriteMany");
    assertThat(pvc.getMetadata().getOwnerReferences()).isNullOrEmpty();
    assertThat(pvc.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "pypi-mirror-operator")
        .containsEntry("pypimirror.dev/mirror", "c");
    assertThat(ready.getStatus().getClaimName()).isEqualTo("pypi-mirror-c-cache");
    // the mock never binds a claim: Pending is usable, but the cache is not Ready yet
    assertThat(condition(ready, "CacheReady").getStatus()).isEqualTo("False");
    assertThat(condition(ready, "CacheReady").getReason()).isEqualTo("Pending");
    assertThat(ready.getStatus().getIndexUrls()).first().isEqualTo("file:///tmp/pypi");

    bind(ns, "pypi-mirror-c-cache");
    awaitCondition(ns, "c", "CacheReady", "True", "Bound");

    client.resource(ready).delete();
    await().until(() -> get(ns, "c") == null);
    assertThat(claim(ns, "pypi-mirror-c-cache"))
        .as("Retain: the PVC outlives the mirror")
        .isNotNull();

    // a new mirror of the same name adopts the retained cache, and the ConfigMap that garbage
    // collection (which the mock server lacks) had not yet removed
    PypiMirror recreated = create(ns, "c", spec);
    PypiMirror again = awaitCondition(ns, "c", "Ready", "True", "Ready");
    assertThat(again.getStatus().getClaimName()).isEqualTo("pypi-mirror-c-cache");
    assertThat(configMap(ns, "pypi-mirror-c").getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(ref -> assertThat(ref.getUid()).isEqualTo(recreated.getMetadata().getUid()));
  }

  @Test
  void reclaimPolicyDeleteOwnsThePvcAndSwitchingBackReleasesIt() {
    String ns = newNamespace();
    PypiMirrorSpec spec = withCache(spec(), "/tmp/pypi");
    spec.getCache().setReclaimPolicy(CacheSpec.ReclaimPolicy.Delete);
    PypiMirror created = create(ns, "d", spec);
    awaitCondition(ns, "d", "Ready", "True", "Ready");

    assertThat(claim(ns, "pypi-mirror-d-cache").getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(ref -> assertThat(ref.getUid()).isEqualTo(created.getMetadata().getUid()));

    client
        .resources(PypiMirror.class)
        .inNamespace(ns)
        .withName("d")
        .edit(
            m -> {
              m.getSpec().getCache().setReclaimPolicy(CacheSpec.ReclaimPolicy.Retain);
              return m;
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(claim(ns, "pypi-mirror-d-cache").getMetadata().getOwnerReferences())
                    .isNullOrEmpty());
  }

  @Test
  void anExistingClaimIsUsedAndNoPvcIsCreated() {
    String ns = newNamespace();
    client
        .resource(
            new PersistentVolumeClaimBuilder()
                .withNewMetadata()
                .withName("shared-wheels")
                .withNamespace(ns)
                .endMetadata()
                .withNewSpec()
                .withAccessModes("ReadWriteMany")
                .endSpec()
                .withNewStatus()
                .withPhase("Bound")
                .endStatus()
                .build())
        .create();
    PypiMirrorSpec spec = withCache(spec(), "/tmp/pypi");
    spec.getCache().setExistingClaim("shared-wheels");
    create(ns, "e", spec);

    PypiMirror ready = awaitCondition(ns, "e", "CacheReady", "True", "Bound");

    assertThat(ready.getStatus().getClaimName()).isEqualTo("shared-wheels");
    assertThat(condition(ready, "Ready").getStatus()).isEqualTo("True");
    assertThat(claim(ns, "pypi-mirror-e-cache")).isNull();
  }

  @Test
  void aMissingExistingClaimIsNotReady() {
    String ns = newNamespace();
    PypiMirrorSpec spec = withCache(spec(), "/tmp/pypi");
    spec.getCache().setExistingClaim("nowhere");
    create(ns, "x", spec);

    PypiMirror mirror = awaitCondition(ns, "x", "Ready", "False", "ClaimNotFound");

    assertThat(condition(mirror, "Ready").getMessage()).contains("nowhere");
    assertThat(condition(mirror, "ConfigRendered").getStatus()).isEqualTo("True");
  }

  @Test
  void aConfigMapWeDoNotOwnIsLeftByteForByteAndReportedAsConflict() {
    String ns = newNamespace();
    ConfigMap theirs =
        client
            .resource(
                new ConfigMapBuilder()
                    .withNewMetadata()
                    .withName("pypi-mirror-clash")
                    .withNamespace(ns)
                    .withLabels(Map.of("team", "data"))
                    .endMetadata()
                    .withData(Map.of("pip.conf", "[global]\nindex-url = https://theirs/\n"))
                    .build())
            .create();

    create(ns, "clash", spec(https("https://a.example/simple/")));
    PypiMirror mirror = awaitCondition(ns, "clash", "Ready", "False", "Conflict");

    assertThat(condition(mirror, "Ready").getMessage())
        .contains("ConfigMap pypi-mirror-clash exists and is not owned by this mirror");
    assertThat(condition(mirror, "ConfigRendered").getReason()).isEqualTo("Conflict");
    assertThat(mirror.getStatus().getConfigMapName()).isNull();
    await().untilAsserted(() -> assertThat(eventReasons(ns, "clash")).contains("Conflict"));
    ConfigMap after = configMap(ns, "pypi-mirror-clash");
    assertThat(Serialization.asJson(after)).isEqualTo(Serialization.asJson(theirs));

    // deleting the mirror does not touch it either
    client.resource(mirror).delete();
    await().until(() -> get(ns, "clash") == null);
    assertThat(Serialization.asJson(configMap(ns, "pypi-mirror-clash")))
        .isEqualTo(Serialization.asJson(theirs));
  }

  @Test
  void aPvcWeDoNotOwnIsLeftAloneAndReportedAsConflict() {
    String ns = newNamespace();
    PersistentVolumeClaim theirs =
        client
            .resource(
                new PersistentVolumeClaimBuilder()
                    .withNewMetadata()
                    .withName("pypi-mirror-p-cache")
                    .withNamespace(ns)
                    .endMetadata()
                    .withNewSpec()
                    .withAccessModes("ReadWriteOnce")
                    .endSpec()
                    .build())
            .create();

    create(ns, "p", withCache(spec(), "/tmp/pypi"));
    PypiMirror mirror = awaitCondition(ns, "p", "Ready", "False", "Conflict");

    assertThat(condition(mirror, "CacheReady").getReason()).isEqualTo("Conflict");
    assertThat(Serialization.asJson(claim(ns, "pypi-mirror-p-cache")))
        .isEqualTo(Serialization.asJson(theirs));
  }

  @Test
  void anInvalidSpecIsReportedAndTheLastGoodConfigMapIsKept() {
    String ns = newNamespace();
    create(ns, "bad", spec(new IndexSpec("http://10.0.0.5/simple/", false)));

    PypiMirror mirror = awaitCondition(ns, "bad", "Ready", "False", "InvalidSpec");

    assertThat(condition(mirror, "Ready").getMessage())
        .isEqualTo(
            "invalid spec: spec.indexes[0].url: plain http index http://10.0.0.5/simple/ needs"
                + " trustedHost: true");
    assertThat(configMap(ns, "pypi-mirror-bad")).isNull();

    // fixed, then broken again: the good ConfigMap stays while the spec is invalid
    client
        .resources(PypiMirror.class)
        .inNamespace(ns)
        .withName("bad")
        .edit(
            m -> {
              m.getSpec().getIndexes().get(0).setTrustedHost(true);
              return m;
            });
    awaitCondition(ns, "bad", "Ready", "True", "Ready");
    var good = configMap(ns, "pypi-mirror-bad").getData();
    client
        .resources(PypiMirror.class)
        .inNamespace(ns)
        .withName("bad")
        .edit(
            m -> {
              m.getSpec().getIndexes().get(0).setUrl("ftp://nope/");
              return m;
            });
    awaitCondition(ns, "bad", "Ready", "False", "InvalidSpec");
    assertThat(configMap(ns, "pypi-mirror-bad").getData()).isEqualTo(good);
  }

  private void bind(String ns, String name) {
    client
        .persistentVolumeClaims()
        .inNamespace(ns)
        .withName(name)
        .editStatus(
            pvc -> {
              pvc.setStatus(new io.fabric8.kubernetes.api.model.PersistentVolumeClaimStatus());
              pvc.getStatus().setPhase("Bound");
              return pvc;
            });
  }
}
