package dev.pypimirror.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.reconciler.EventRecorder;
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
    return client
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withNamespace(namespace)
                .withName(name)
                .withAnnotations(annotations)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("c")
                .withImage("python")
                .endContainer()
                .endSpec()
                .build())
        .create();
  }

  @Test
  void onlyPodsThatAskedAndGotNothingAreReportedOnce() {
    pod("builds", "missed", Map.of("pypimirror.dev/mirror", "corp"));
    pod("builds", "missed-default", Map.of("pypimirror.dev/inject", "true"));
    pod(
        "builds",
        "injected",
        Map.of("pypimirror.dev/mirror", "corp", "pypimirror.dev/injected", "corp@abc"));
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
        .containsExactlyInAnyOrder("missed", "missed-default");
    assertThat(again).isEmpty();
    assertThat(metric.get()).isEqualTo(2);
    assertThat(client.v1().events().inNamespace("builds").list().getItems())
        .filteredOn(e -> "MirrorNotInjected".equals(e.getReason()))
        .extracting(e -> e.getInvolvedObject().getKind() + "/" + e.getInvolvedObject().getName())
        .containsExactlyInAnyOrder("Pod/missed", "Pod/missed-default");
  }
}
