package dev.pypimirror.operator.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import org.junit.jupiter.api.Test;

/** The operator's image, read from its own pod: what kustomize's `images:` or Helm set there. */
@EnableKubernetesMockClient(crud = true)
class OwnPodTest {
  KubernetesClient client;

  @Test
  void theManagerContainersImageEvenWithASidecarFirst() {
    client
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withNamespace("platform-tools")
                .withName("pypi-mirror-operator-7d9f-abcde")
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("istio-proxy")
                .withImage("istio/proxyv2:1.22")
                .endContainer()
                .addNewContainer()
                .withName("manager")
                .withImage("registry.example.com/pmo:9.9.9")
                .endContainer()
                .endSpec()
                .build())
        .create();

    assertThat(OwnPod.image(client, "platform-tools", "pypi-mirror-operator-7d9f-abcde"))
        .isEqualTo("registry.example.com/pmo:9.9.9");
    assertThatThrownBy(() -> OwnPod.image(client, "platform-tools", "gone"))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("platform-tools/gone not found");
  }
}
