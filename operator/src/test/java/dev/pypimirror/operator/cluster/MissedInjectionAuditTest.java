package dev.pypimirror.operator.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Pods that asked for a mirror but were admitted without one, found and reported once. */
@EnableKubernetesMockClient(crud = true)
class MissedInjectionAuditTest {
  KubernetesMockServer server;
  KubernetesClient client;

  Pod pod(String namespace, String name, Map<String, String> annotations) {
    return pod(namespace, name, annotations, Map.of(), false);
  }

  Pod pod(
      String namespace,
      String name,
      Map<String, String> annotations,
      Map<String, String> labels,
      boolean holdsMirror) {
    var builder =
        new PodBuilder()
            .withNewMetadata()
            .withNamespace(namespace)
            .withName(name)
            .withAnnotations(annotations)
            .withLabels(labels)
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("c")
            .withImage("python")
            .endContainer()
            .endSpec();
    if (holdsMirror) {
      builder
          .editSpec()
          .addNewVolume()
          .withName("pypi-mirror-config")
          .withNewConfigMap()
          .withName("pypi-mirror-corp")
          .endConfigMap()
          .endVolume()
          .editFirstContainer()
          .addNewVolumeMount()
          .withName("pypi-mirror-config")
          .withMountPath("/etc/pypi-mirror")
          .withReadOnly(true)
          .endVolumeMount()
          .endContainer()
          .endSpec();
    }
    return client.resource(builder.build()).create();
  }

  @Test
  void onlyPodsThatAskedAndGotNothingAreReportedOnce() {
    pod("builds", "missed", Map.of("pypimirror.dev/mirror", "corp"));
    pod("builds", "missed-default", Map.of("pypimirror.dev/inject", "true"));
    pod(
        "builds",
        "injected",
        Map.of("pypimirror.dev/mirror", "corp", "pypimirror.dev/injected", "corp@abc"),
        Map.of(),
        true);
    // neither a marker nor the operator's label is proof: the content is
    pod(
        "builds",
        "forged-marker",
        Map.of("pypimirror.dev/mirror", "corp", "pypimirror.dev/injected", "corp@abc"));
    pod(
        "builds",
        "operator-label",
        Map.of("pypimirror.dev/mirror", "corp"),
        Map.of("app.kubernetes.io/managed-by", "pypi-mirror-operator"),
        false);
    pod(
        "builds",
        "skipped",
        Map.of("pypimirror.dev/inject", "true", "pypimirror.dev/skipped", "mirror-not-ready"));
    pod("builds", "opted-out", Map.of("pypimirror.dev/inject", "false"));
    pod("builds", "plain", Map.of());
    pod("kube-system", "system", Map.of("pypimirror.dev/mirror", "corp"));
    AtomicInteger metric = new AtomicInteger();
    var audit =
        new MissedInjectionAudit(
            client,
            "pypi-mirror-system",
            new EventRecorder(client, Clock.systemUTC()),
            metric::incrementAndGet);

    var found = audit.auditOnce();
    var again = audit.auditOnce();

    assertThat(found)
        .extracting(p -> p.getMetadata().getName())
        .containsExactlyInAnyOrder("missed", "missed-default", "forged-marker", "operator-label");
    assertThat(again).isEmpty();
    assertThat(metric.get()).isEqualTo(4);
    assertThat(client.v1().events().inNamespace("builds").list().getItems())
        .filteredOn(e -> "MirrorNotInjected".equals(e.getReason()))
        .extracting(e -> e.getInvolvedObject().getKind() + "/" + e.getInvolvedObject().getName())
        .containsExactlyInAnyOrder(
            "Pod/missed", "Pod/missed-default", "Pod/forged-marker", "Pod/operator-label");
  }
}
