package dev.pypimirror.operator.admissionpolicy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.LoopbackWebhook;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.webhook.PodAdmission;
import dev.pypimirror.operator.webhook.WebhookServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The CPU the test API server's process spends per injected pod creation in admission-policy mode
 * against webhook mode (the webhook over HTTPS in the same process), same pods, same run. By hand:
 * {@code ./mvnw -o -pl operator test -Dtest=AdmissionCostBench -Dpypimirror.bench=true}.
 */
@EnabledIfSystemProperty(named = "pypimirror.bench", matches = "true")
class AdmissionCostBench {
  static final int WARMUP = 200;
  static final int MEASURED = Integer.getInteger("pypimirror.bench.pods", 1000);
  static final MirrorDirectory MIRRORS =
      Pods.directory(
          Pods.readyMirror(
              "builds",
              "corp",
              Mirrors.withCache(
                  Mirrors.spec(Mirrors.https("https://devpi.corp.example/root/pypi/+simple/")),
                  "/tmp/pypi")));

  static ObjectNode pod() {
    return Pods.yaml(
        """
        apiVersion: v1
        kind: Pod
        metadata:
          annotations: {pypimirror.dev/mirror: corp}
        spec:
          initContainers: [{name: fetch, image: python, env: [{name: HOME, value: /home/b}]}]
          containers:
          - {name: build, image: kaniko, volumeMounts: [{name: w, mountPath: /workspace}]}
          volumes: [{name: w, emptyDir: {}}]
        """);
  }

  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** CPU nanoseconds per pod creation over {@link #MEASURED} creations after a warm-up. */
  static double perCreate(KubernetesClient client, String prefix) {
    for (int i = 0; i < WARMUP; i++) {
      create(client, prefix + "w" + i);
    }
    long start = cpuNanos();
    for (int i = 0; i < MEASURED; i++) {
      create(client, prefix + i);
    }
    return (cpuNanos() - start) / (double) MEASURED;
  }

  static void create(KubernetesClient client, String name) {
    ObjectNode pod = pod();
    pod.withObject("/metadata").put("name", name);
    GenericKubernetesResource stored =
        client
            .genericKubernetesResources("v1", "Pod")
            .inNamespace("builds")
            .resource(
                client
                    .getKubernetesSerialization()
                    .convertValue(pod, GenericKubernetesResource.class))
            .create();
    assertThat(stored.getMetadata().getAnnotations()).containsKey("pypimirror.dev/injected");
  }

  @Test
  void cpuPerAdmission() throws Exception {
    double policies;
    try (var differential = new PolicyModeDifferential("builds", MIRRORS, PolicyDirectory.NONE)) {
      policies = perCreate(differential.client(), "p");
    }
    double webhook;
    Path dir = Files.createTempDirectory("bench-webhook");
    PodAdmission admission =
        new PodAdmission(
            MIRRORS, PolicyDirectory.NONE, "pypi-mirror-system", PodAdmission.Listener.NONE);
    try (ApiServer api = ApiServer.start();
        LoopbackWebhook server =
            LoopbackWebhook.serve(dir, Map.of(WebhookServer.MUTATE_PODS, admission::review))) {
      KubernetesClient client = api.client();
      client
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName("builds").endMetadata().build())
          .create();
      ObjectNode configuration =
          Pods.yaml(
              """
              apiVersion: admissionregistration.k8s.io/v1
              kind: MutatingWebhookConfiguration
              metadata: {name: bench}
              webhooks:
              - name: pods.pypimirror.dev
                admissionReviewVersions: [v1]
                sideEffects: None
                reinvocationPolicy: IfNeeded
                clientConfig: {url: "%s"}
                rules:
                - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods], scope: Namespaced}
              """
                  .formatted(server.uri(WebhookServer.MUTATE_PODS)));
      ((ObjectNode) configuration.at("/webhooks/0/clientConfig"))
          .put(
              "caBundle",
              Base64.getEncoder()
                  .encodeToString(server.ca.certificatePem().getBytes(StandardCharsets.UTF_8)));
      client
          .resource(
              client
                  .getKubernetesSerialization()
                  .convertValue(configuration, GenericKubernetesResource.class))
          .create();
      webhook = perCreate(client, "w");
    }
    System.out.printf(
        "CPU per injected pod creation, test API server process: admission policies %.0f us,"
            + " webhook over HTTPS %.0f us, ratio %.2f%n",
        policies / 1000, webhook / 1000, policies / webhook);
  }
}
