package dev.pypimirror.operator;

import static dev.pypimirror.operator.testing.OperatorInCluster.buildPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.testing.DeploymentController;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.OperatorInCluster;
import dev.pypimirror.operator.testing.SharedOperator;
import dev.pypimirror.operator.testing.SharedOperator.Running;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A mirror served through its caching proxy (serve: Proxy), end to end through the test API server:
 * the operator makes the proxy's Deployment and Service and a ConfigMap that names the Service
 * alone; a build pod is injected with the config and no cache volume; an index's credentials reach
 * the proxy as Secret references only, and their values appear nowhere the operator writes.
 */
@ExtendWith(SharedOperator.class)
class ProxyThroughTheApiServerTest {
  private static final String USERNAME = "svc-reader-7731";
  private static final String PASSWORD = "pa55-9f2c-never-shown";
  private static final String PROXY_URL = "http://pypi-mirror-corp-proxy.proxied.svc:8080/simple/";

  @Running private static OperatorInCluster cluster;
  @Running private static KubernetesClient client;

  private static PypiMirrorSpec proxied() {
    return Mirrors.withProxy(
        Mirrors.spec(
            Mirrors.withCredentials(
                Mirrors.https("https://corp.jfrog.example/api/pypi/simple/"), "jfrog-pull")));
  }

  private static Optional<PypiMirror> mirror(String namespace, String name) {
    return cluster.app.mirrors().get(namespace, name);
  }

  @Test
  void aProxyMirrorRunsItsProxyAndPodsGetItsUrlButNoCacheVolumeAndNoCredential() {
    MockCluster.namespace(client, "proxied", Map.of());
    client
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("jfrog-pull")
                .withNamespace("proxied")
                .endMetadata()
                .withStringData(Map.of("username", USERNAME, "password", PASSWORD))
                .build())
        .create();
    client.resource(Mirrors.mirror("proxied", "corp", proxied())).create();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> mirror("proxied", "corp").map(m -> m.getStatus() != null).orElse(false));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> mirror("proxied", "corp").get().getStatus().isReady());

    Deployment deployment =
        client.apps().deployments().inNamespace("proxied").withName("pypi-mirror-corp-proxy").get();
    Container proxy = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(proxy.getArgs())
        .containsSubsequence("--upstream", "https://corp.jfrog.example/api/pypi/simple/")
        .containsSubsequence("--upstream", "https://pypi.org/simple");
    assertThat(proxy.getEnv())
        .allSatisfy(
            e -> {
              assertThat(e.getValue()).isNull();
              assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("jfrog-pull");
            });
    assertThat(deployment.getSpec().getTemplate().getSpec().getVolumes().get(0))
        .satisfies(
            v ->
                assertThat(v.getPersistentVolumeClaim().getClaimName())
                    .isEqualTo("pypi-mirror-corp-cache"));
    Service service =
        client.services().inNamespace("proxied").withName("pypi-mirror-corp-proxy").get();
    assertThat(service.getSpec().getPorts().get(0).getPort()).isEqualTo(8080);
    ConfigMap config =
        client.configMaps().inNamespace("proxied").withName("pypi-mirror-corp").get();
    assertThat(config.getData()).containsEntry("PIP_INDEX_URL", PROXY_URL);
    assertThat(config.getData()).doesNotContainKey("PIP_EXTRA_INDEX_URL");
    PypiMirror stored = mirror("proxied", "corp").get();
    assertThat(stored.getStatus().getProxyUrl()).isEqualTo(PROXY_URL);
    assertThat(stored.getStatus().getIndexUrls()).containsExactly(PROXY_URL);
    assertThat(stored.getStatus().condition(Conditions.PROXY_READY).orElseThrow().getStatus())
        .isEqualTo("False");

    // the Deployment becomes Available: ProxyReady follows it
    DeploymentController.makeAvailable(client, deployment);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                mirror("proxied", "corp")
                    .flatMap(m -> m.getStatus().condition(Conditions.PROXY_READY))
                    .map(c -> "True".equals(c.getStatus()))
                    .orElse(false));

    client
        .resource(buildPod("proxied", "kaniko", Map.of("pypimirror.dev/mirror", "corp")))
        .create();
    Pod pod = cluster.stored("proxied", "kaniko");
    assertThat(pod.getMetadata().getAnnotations()).containsKey("pypimirror.dev/injected");
    assertThat(pod.getSpec().getVolumes())
        .extracting("name")
        .contains("pypi-mirror-config")
        .doesNotContain("pypi-mirror-cache");
    assertThat(pod.getSpec().getVolumes()).allMatch(v -> v.getPersistentVolumeClaim() == null);
    assertThat(pod.getSpec().getContainers().get(0).getEnv())
        .allMatch(e -> e.getValueFrom() == null || e.getValueFrom().getSecretKeyRef() == null)
        .noneMatch(e -> e.getName().startsWith("PYPI_PROXY_UPSTREAM_"));

    String everywhere =
        Serialization.asJson(config)
            + Serialization.asJson(pod)
            + Serialization.asJson(mirror("proxied", "corp").get())
            + Serialization.asJson(deployment)
            + Serialization.asJson(service)
            + Serialization.asJson(client.v1().events().inNamespace("proxied").list());
    assertThat(everywhere).contains("jfrog-pull").doesNotContain(USERNAME).doesNotContain(PASSWORD);

    // back to Mount (without credentials): the proxy goes, pods mount the cache again
    PypiMirror current =
        client.resources(PypiMirror.class).inNamespace("proxied").withName("corp").get();
    current.getSpec().getIndexes().get(0).setCredentialsSecret(null);
    current.getSpec().getCache().setServe(CacheSpec.Serve.Mount);
    client.resource(current).update();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                client
                            .apps()
                            .deployments()
                            .inNamespace("proxied")
                            .withName("pypi-mirror-corp-proxy")
                            .get()
                        == null
                    && client
                            .services()
                            .inNamespace("proxied")
                            .withName("pypi-mirror-corp-proxy")
                            .get()
                        == null);
  }

  @Test
  void theApiServerRefusesCredentialsUnderMountPointingAtProxy() {
    MockCluster.namespace(client, "mounted", Map.of());
    PypiMirrorSpec spec = proxied();
    spec.getCache().setServe(CacheSpec.Serve.Mount);

    assertThatThrownBy(() -> client.resource(Mirrors.mirror("mounted", "corp", spec)).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("credentialsSecret needs cache.serve: Proxy");
  }
}
