package dev.pypimirror.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.testing.MockCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The operator never lists or watches every ConfigMap, PVC or ReplicaSet of the cluster. */
@EnableKubernetesMockClient(crud = true)
class InformerScopeTest {
  static KubernetesMockServer server;
  static KubernetesClient client;

  @Test
  void configMapPvcAndReplicaSetInformersAreLabelSelected() throws Exception {
    var operator = MockCluster.startOperator(client);
    operator.close();

    List<String> reads = new ArrayList<>();
    RecordedRequest request;
    while ((request = server.takeRequest(100, TimeUnit.MILLISECONDS)) != null) {
      String path = URLDecoder.decode(request.getPath(), StandardCharsets.UTF_8);
      if ("GET".equals(request.getMethod())
          && (path.contains("/configmaps")
              || path.contains("/persistentvolumeclaims")
              || path.contains("/replicasets"))) {
        reads.add(path);
      }
    }

    assertThat(reads)
        .as("list and watch requests of ConfigMaps, PVCs and ReplicaSets")
        .anyMatch(p -> p.startsWith("/api/v1/configmaps"))
        .anyMatch(p -> p.startsWith("/api/v1/persistentvolumeclaims"))
        .anyMatch(
            p ->
                p.startsWith("/apis/apps/v1/replicasets")
                    && p.contains("app.kubernetes.io/component=proxy"))
        .allMatch(
            p -> p.contains("labelSelector=app.kubernetes.io/managed-by=pypi-mirror-operator"));
  }
}
