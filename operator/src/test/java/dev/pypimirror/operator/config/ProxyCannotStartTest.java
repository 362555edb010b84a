package dev.pypimirror.operator.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.config.MirrorStatuses.Step;
import dev.pypimirror.operator.testing.Pods;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Which pods' termination messages become ProxyReady=CannotStart: only those the proxy Deployment's
 * own ReplicaSets control, by uid; whatever labels or message a pod carries.
 */
class ProxyCannotStartTest {
  static final String PREFIX = "the proxy does not start: ";
  static final String WHY = PREFIX + "upstream 0's credentials give a token and a user name";
  static final Map<String, String> LABELS =
      Map.of(
          "app.kubernetes.io/managed-by", "pypi-mirror-operator",
          "pypimirror.dev/mirror", "corp",
          "app.kubernetes.io/component", "proxy");

  final Deployment proxy = deployment("pypi-mirror-corp-proxy", "uid-deployment");
  final ReplicaSet replicaSet = replicaSet("pypi-mirror-corp-proxy-7d9f", "uid-rs", proxy);

  @Test
  void aPodOfTheProxysReplicaSetSaysWhyInItsFirstLineCut() {
    Pod pod = pod("builds", controller("ReplicaSet", "uid-rs"), WHY + "\nsecond line");

    assertThat(step(List.of(replicaSet), pod))
        .contains(new Step(false, ProxyCannotStart.REASON, WHY));
    assertThat(
            step(
                    List.of(replicaSet),
                    pod("builds", controller("ReplicaSet", "uid-rs"), WHY + "x".repeat(600)))
                .orElseThrow()
                .message())
        .hasSize(ProxyCannotStart.MAX_MESSAGE);
  }

  @Test
  void aMessageWithoutTheProxysPrefixSaysNothing() {
    assertThat(
            step(
                List.of(replicaSet),
                pod("builds", controller("ReplicaSet", "uid-rs"), "OOMKilled")))
        .isEmpty();
  }

  @Test
  void labelsAndTheMessageAreNoProof() {
    Deployment decoy = deployment("decoy", "uid-decoy");
    ReplicaSet decoysReplicaSet = replicaSet("pypi-mirror-corp-proxy-6c8e", "uid-decoy-rs", decoy);
    ReplicaSet unowned = replicaSet("pypi-mirror-corp-proxy-5b7d", "uid-unowned", null);
    List<ReplicaSet> replicaSets = List.of(replicaSet, decoysReplicaSet, unowned);

    assertThat(step(replicaSets, pod("builds", List.of(), WHY))).as("no owner").isEmpty();
    assertThat(step(replicaSets, pod("builds", controller("ReplicaSet", "uid-decoy-rs"), WHY)))
        .as("a ReplicaSet of another Deployment, with the proxy's labels")
        .isEmpty();
    assertThat(step(replicaSets, pod("builds", controller("ReplicaSet", "uid-unowned"), WHY)))
        .as("a ReplicaSet no Deployment controls")
        .isEmpty();
    assertThat(step(replicaSets, pod("builds", controller("ReplicaSet", "uid-deployment"), WHY)))
        .as("the Deployment's uid, skipping the ReplicaSet")
        .isEmpty();
    assertThat(step(replicaSets, pod("builds", controller("Job", "uid-rs"), WHY)))
        .as("the ReplicaSet's uid under another kind")
        .isEmpty();
    assertThat(step(replicaSets, pod("builds", ref("ReplicaSet", "uid-rs", false), WHY)))
        .as("a reference to the ReplicaSet that is not its controller")
        .isEmpty();
    assertThat(
            step(
                replicaSets,
                pod(
                    "builds",
                    List.of(controller("ReplicaSet", "uid-rs"), controller("ReplicaSet", "uid-rs")),
                    WHY)))
        .as("two controllers (the API server refuses them)")
        .isEmpty();
    assertThat(step(replicaSets, pod("elsewhere", controller("ReplicaSet", "uid-rs"), WHY)))
        .as("another namespace")
        .isEmpty();
  }

  @Test
  void aReplicaSetElsewhereOrAProxyNotStoredYetOwnsNothing() {
    ReplicaSet elsewhere = replicaSet("pypi-mirror-corp-proxy-7d9f", "uid-rs", proxy);
    elsewhere.getMetadata().setNamespace("elsewhere");
    Pod pod = pod("builds", controller("ReplicaSet", "uid-rs"), WHY);
    assertThat(step(List.of(elsewhere), pod)).isEmpty();

    Deployment unstored = deployment("pypi-mirror-corp-proxy", null);
    ReplicaSet claimsNull = replicaSet("pypi-mirror-corp-proxy-7d9f", "uid-rs", unstored);
    assertThat(ProxyCannotStart.step(unstored, List.of(claimsNull), Stream.of(pod), PREFIX))
        .isEmpty();
  }

  private Optional<Step> step(List<ReplicaSet> replicaSets, Pod pod) {
    return ProxyCannotStart.step(proxy, replicaSets, Stream.of(pod), PREFIX);
  }

  static Deployment deployment(String name, String uid) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withNamespace("builds")
        .withName(name)
        .withUid(uid)
        .withLabels(LABELS)
        .endMetadata()
        .build();
  }

  static ReplicaSet replicaSet(String name, String uid, HasMetadata controller) {
    return new ReplicaSetBuilder()
        .withNewMetadata()
        .withNamespace("builds")
        .withName(name)
        .withUid(uid)
        .withLabels(LABELS)
        .withOwnerReferences(
            controller == null
                ? List.of()
                : List.of(controller("Deployment", controller.getMetadata().getUid())))
        .endMetadata()
        .build();
  }

  static OwnerReference controller(String kind, String uid) {
    return ref(kind, uid, true);
  }

  static OwnerReference ref(String kind, String uid, boolean controller) {
    return new OwnerReferenceBuilder()
        .withApiVersion("apps/v1")
        .withKind(kind)
        .withName("x")
        .withUid(uid)
        .withController(controller)
        .build();
  }

  static Pod pod(String namespace, OwnerReference owner, String message) {
    return pod(namespace, List.of(owner), message);
  }

  static Pod pod(String namespace, List<OwnerReference> owners, String message) {
    return Pods.exitedAtStart(
        namespace, "pypi-mirror-corp-proxy-7d9f-abcde", LABELS, owners, message);
  }
}
