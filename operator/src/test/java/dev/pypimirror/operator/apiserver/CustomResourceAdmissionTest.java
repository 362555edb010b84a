package dev.pypimirror.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.MockCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the test API server refuses of a custom resource, as kube-apiserver refuses it. */
class CustomResourceAdmissionTest {
  static ApiServer api;
  static KubernetesClient client;

  @BeforeAll
  static void start() throws Exception {
    api = ApiServer.start().installCrds();
    client = api.client();
    MockCluster.namespace(client, "team", Map.of());
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  private static PypiMirror cachedAt(String name, String mountPath) {
    return Mirrors.mirror(
        "team",
        name,
        Mirrors.withCache(Mirrors.spec(Mirrors.https("https://a.example/")), mountPath));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"/etc/pypi-mirror", "/etc/pypi-mirror/x", "/etc", "/etc/pip.conf", "/root"})
  void aCacheMountedWhereTheConfigurationGoesIsRefusedByTheCrd(String mountPath) {
    assertThatThrownBy(() -> client.resource(cachedAt("clash", mountPath)).create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining(
            "PypiMirror.pypimirror.dev \"clash\" is invalid: spec: Invalid value: \"object\":"
                + " cache.mountPath may not be at, above or below a path the mirror's"
                + " configuration is mounted at");
    assertThat(client.resources(PypiMirror.class).inNamespace("team").withName("clash").get())
        .isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/tmp/pypi/", "/tmp//pypi", "/tmp/./pypi", "/tmp/../etc"})
  void aCachePathWrittenOtherThanPlainlyIsRefusedByTheCrd(String mountPath) {
    assertThatThrownBy(() -> client.resource(cachedAt("unclean", mountPath)).create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining("spec.cache.mountPath: Invalid value: \"" + mountPath + "\"");
  }
}
