package dev.pypimirror.operator.config;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.PypiMirror;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The adoption rule: which existing objects a mirror may change ({@link MirrorObjects#isOwnedBy}).
 */
class MirrorOwnershipTest {
  static final String UID = "0b7c6f0e-0000-4000-8000-000000000001";
  static final String EARLIER_UID = "0b7c6f0e-0000-4000-8000-000000000000";

  static PypiMirror builds() {
    PypiMirror m = mirror("ci", "builds", spec(https("https://devpi.corp.example/simple/")));
    m.getMetadata().setUid(UID);
    return m;
  }

  static ConfigMap object(Map<String, String> labels, OwnerReference... refs) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withNamespace("ci")
        .withName("pypi-mirror-builds")
        .withLabels(labels)
        .withOwnerReferences(List.of(refs))
        .endMetadata()
        .build();
  }

  static OwnerReference ref(String apiVersion, String kind, String name, String uid, boolean ctl) {
    return new OwnerReferenceBuilder()
        .withApiVersion(apiVersion)
        .withKind(kind)
        .withName(name)
        .withUid(uid)
        .withController(ctl)
        .build();
  }

  static OwnerReference mirrorRef(String name, String uid) {
    return ref(new PypiMirror().getApiVersion(), "PypiMirror", name, uid, true);
  }

  static final Map<String, String> OUR_LABELS = MirrorObjects.labels("builds", "config");

  @Test
  void anObjectThatNamesTheMirrorsUidAsOwnerIsOursWhateverItsLabels() {
    assertThat(MirrorObjects.isOwnedBy(object(Map.of(), mirrorRef("builds", UID)), builds()))
        .isTrue();
    // also as a non-controller owner
    assertThat(
            MirrorObjects.isOwnedBy(
                object(
                    Map.of(),
                    ref(new PypiMirror().getApiVersion(), "PypiMirror", "builds", UID, false)),
                builds()))
        .isTrue();
  }

  @Test
  void ourLabelsForThisMirrorAndNoControllerAreOursToAdopt() {
    assertThat(MirrorObjects.isOwnedBy(object(OUR_LABELS), builds())).isTrue();
    // an owner that is not a controller (say, a bookkeeping reference) does not stand in the way
    assertThat(
            MirrorObjects.isOwnedBy(
                object(OUR_LABELS, ref("v1", "ConfigMap", "index", "u-1", false)), builds()))
        .isTrue();
  }

  @Test
  void aControllerReferenceToADeletedMirrorOfTheSameNameIsALeftoverToAdopt() {
    assertThat(
            MirrorObjects.isOwnedBy(object(OUR_LABELS, mirrorRef("builds", EARLIER_UID)), builds()))
        .isTrue();
  }

  @Test
  void labelsAloneProveNothingAgainstAnotherController() {
    ConfigMap byDeployment =
        object(OUR_LABELS, ref("apps/v1", "Deployment", "builds", "u-2", true));
    ConfigMap byOtherMirror = object(OUR_LABELS, mirrorRef("other", "u-3"));
    ConfigMap byLookalikeGroup =
        object(OUR_LABELS, ref("example.com/v1", "PypiMirror", "builds", "u-4", true));
    assertThat(MirrorObjects.isOwnedBy(byDeployment, builds())).isFalse();
    assertThat(MirrorObjects.isOwnedBy(byOtherMirror, builds())).isFalse();
    assertThat(MirrorObjects.isOwnedBy(byLookalikeGroup, builds())).isFalse();
  }

  @Test
  void someoneElsesObjectIsNeverOurs() {
    assertThat(MirrorObjects.isOwnedBy(object(Map.of("app", "web")), builds())).isFalse();
    assertThat(MirrorObjects.isOwnedBy(object(null), builds())).isFalse();
    // labelled for another mirror of ours, or with our mirror label but not managed by us
    assertThat(MirrorObjects.isOwnedBy(object(MirrorObjects.labels("other", "config")), builds()))
        .isFalse();
    assertThat(
            MirrorObjects.isOwnedBy(object(Map.of(MirrorObjects.MIRROR_LABEL, "builds")), builds()))
        .isFalse();
  }
}
