package dev.pypimirror.operator.reconciler;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.owned.OwnedCacheClaim;
import dev.pypimirror.operator.owned.OwnedConfigMap;
import dev.pypimirror.operator.reconciler.ObjectWriter.Result;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ObjectWriter} against the mock API server in CRUD mode, without an operator: what it
 * creates, adopts, restores and grows, and that it never changes an object it does not own.
 */
@EnableKubernetesMockClient(crud = true)
class ObjectWriterTest {
  static KubernetesClient client;
  ObjectWriter writer;
  PypiMirror mirror;

  @BeforeEach
  void setUp() {
    client.configMaps().inNamespace("ci").delete();
    client.persistentVolumeClaims().inNamespace("ci").delete();
    writer = new ObjectWriter(client);
    mirror =
        mirror(
            "ci",
            "builds",
            withCache(spec(https("https://devpi.corp.example/simple/")), "/tmp/pypi"));
    mirror.getMetadata().setUid(UUID.randomUUID().toString());
  }

  ConfigMap desiredConfigMap() {
    return OwnedConfigMap.desired(mirror, MirrorConfigRenderer.render("builds", mirror.getSpec()));
  }

  ConfigMap stored() {
    return client.configMaps().inNamespace("ci").withName("pypi-mirror-builds").get();
  }

  ConfigMap existing(Map<String, String> labels, OwnerReference... refs) {
    return client
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withNamespace("ci")
                .withName("pypi-mirror-builds")
                .withLabels(labels)
                .addToAnnotations("note", "kept")
                .withOwnerReferences(refs)
                .endMetadata()
                .withData(Map.of("pip.conf", "[global]\nindex-url = https://elsewhere/\n"))
                .build())
        .create();
  }

  static OwnerReference controller(String apiVersion, String kind, String name, String uid) {
    return new OwnerReferenceBuilder()
        .withApiVersion(apiVersion)
        .withKind(kind)
        .withName(name)
        .withUid(uid)
        .withController(true)
        .build();
  }

  @Test
  void createsWhatIsMissingOwnedByTheMirror() {
    var written = writer.createOrUpdate(mirror, OwnedConfigMap.KIND, desiredConfigMap(), null);

    assertThat(written.result()).isEqualTo(Result.CREATED);
    assertThat(stored().getData()).isEqualTo(desiredConfigMap().getData());
    assertThat(stored().getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(r -> assertThat(r.getUid()).isEqualTo(mirror.getMetadata().getUid()));
  }

  @Test
  void leavesItsOwnObjectUnchangedWhenItIsAsDesired() {
    ConfigMap created =
        writer.createOrUpdate(mirror, OwnedConfigMap.KIND, desiredConfigMap(), null).object();

    var written = writer.createOrUpdate(mirror, OwnedConfigMap.KIND, desiredConfigMap(), created);

    assertThat(written.result()).isEqualTo(Result.UNCHANGED);
    assertThat(stored().getMetadata().getResourceVersion())
        .isEqualTo(created.getMetadata().getResourceVersion());
  }

  @Test
  void putsBackDataEditedByHand() {
    ConfigMap created =
        writer.createOrUpdate(mirror, OwnedConfigMap.KIND, desiredConfigMap(), null).object();
    created.getData().put("pip.conf", "[global]\nindex-url = https://pypi.org/simple/\n");
    ConfigMap edited = client.resource(created).update();

    var written = writer.createOrUpdate(mirror, OwnedConfigMap.KIND, desiredConfigMap(), edited);

    assertThat(written.result()).isEqualTo(Result.RESTORED);
    assertThat(stored().getData()).isEqualTo(desiredConfigMap().getData());
  }

  @Test
  void adoptsAnObjectWithOurLabelsAndNoControllerKeepingWhatOthersAdded() {
    existing(
        Map.of(
            MirrorObjects.MANAGED_BY_LABEL,
            MirrorObjects.MANAGED_BY,
            MirrorObjects.MIRROR_LABEL,
            "builds",
            "team",
            "ml"));

    // not in the label-selected cache (null): the create conflicts and the writer reads it
    var written = writer.createOrUpdate(mirror, OwnedConfigMap.KIND, desiredConfigMap(), null);

    assertThat(written.result()).isEqualTo(Result.UPDATED);
    ConfigMap adopted = stored();
    assertThat(adopted.getData()).isEqualTo(desiredConfigMap().getData());
    assertThat(adopted.getMetadata().getLabels()).containsEntry("team", "ml");
    assertThat(adopted.getMetadata().getAnnotations()).containsEntry("note", "kept");
    assertThat(adopted.getMetadata().getOwnerReferences())
        .extracting(OwnerReference::getUid)
        .containsExactly(mirror.getMetadata().getUid());
  }

  @Test
  void adoptsTheLeftoverOfADeletedMirrorOfTheSameName() {
    String earlier = UUID.randomUUID().toString();
    OwnerReference other = controller("v1", "ConfigMap", "bookkeeping", "u-9");
    other.setController(false);
    existing(
        MirrorObjects.labels("builds", "config"),
        controller(mirror.getApiVersion(), "PypiMirror", "builds", earlier),
        other);

    var written = writer.createOrUpdate(mirror, OwnedConfigMap.KIND, desiredConfigMap(), null);

    assertThat(written.result()).isEqualTo(Result.UPDATED);
    assertThat(stored().getMetadata().getOwnerReferences())
        .extracting(OwnerReference::getUid)
        .containsExactlyInAnyOrder("u-9", mirror.getMetadata().getUid())
        .doesNotContain(earlier);
  }

  @Test
  void neverChangesSomeoneElsesObject() {
    ConfigMap unlabelled = existing(Map.of("app", "web"));
    assertThat(
            writer.createOrUpdate(mirror, OwnedConfigMap.KIND, desiredConfigMap(), null).result())
        .isEqualTo(Result.CONFLICT);
    assertThat(stored()).isEqualTo(unlabelled);

    client.resource(unlabelled).delete();
    ConfigMap controlled =
        existing(
            MirrorObjects.labels("builds", "config"),
            controller("apps/v1", "Deployment", "builds", "u-1"));
    assertThat(
            writer.createOrUpdate(mirror, OwnedConfigMap.KIND, desiredConfigMap(), null).result())
        .isEqualTo(Result.CONFLICT);
    assertThat(stored()).isEqualTo(controlled);
  }

  @Test
  void aClaimGrowsButNeverShrinks() {
    mirror.getSpec().getCache().setSize("10Gi");
    PersistentVolumeClaim claim =
        writer
            .createOrUpdate(mirror, OwnedCacheClaim.KIND, OwnedCacheClaim.desired(mirror), null)
            .object();

    mirror.getSpec().getCache().setSize("5Gi");
    var shrink =
        writer.createOrUpdate(mirror, OwnedCacheClaim.KIND, OwnedCacheClaim.desired(mirror), claim);
    assertThat(shrink.result()).isEqualTo(Result.UNCHANGED);

    mirror.getSpec().getCache().setSize("20Gi");
    var grow =
        writer.createOrUpdate(mirror, OwnedCacheClaim.KIND, OwnedCacheClaim.desired(mirror), claim);
    assertThat(grow.result()).isEqualTo(Result.UPDATED);
    assertThat(
            client
                .persistentVolumeClaims()
                .inNamespace("ci")
                .withName(MirrorObjects.ownClaimName("builds"))
                .get()
                .getSpec()
                .getResources()
                .getRequests())
        .containsEntry("storage", new Quantity("20Gi"));
  }
}
