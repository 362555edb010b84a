package dev.pypimirror.operator.metrics;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.testing.JobController;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.OperatorInCluster;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ExportedSeriesTest {
  static OperatorInCluster cluster;
  static String scrape;

  @BeforeAll
  static void driveTheOperator() throws Exception {
    cluster = OperatorInCluster.startWithMetrics();
    MockCluster.namespace(cluster.client, "builds", Map.of());
    MockCluster.namespace(cluster.client, "ml", Map.of());
    cluster.readyMirror("builds", "corp");
    cluster
        .client
        .resource(
            OperatorInCluster.buildPod("builds", "b1", Map.of("pypimirror.dev/mirror", "corp")))
        .create();
    PypiMirrorSpec synced =
        withCache(spec(https("https://devpi.corp.example/simple/")), "/tmp/pypi");
    synced.getCache().setPackages(List.of("requests==2.32.3"));
    cluster.client.resource(mirror("ml", "synced", synced)).create();
    await().atMost(Duration.ofSeconds(20)).until(() -> jobs("ml").size() == 1);
    JobController.finish(
        cluster.client,
        jobs("ml").get(0),
        true,
        "{\"projects\":5,\"files\":7,\"bytes\":123456,\"pagesWritten\":6,\"skipped\":0}");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                scrape()
                    .contains(
                        "pypimirror_sync_jobs_total{mirror=\"synced\",namespace=\"ml\",result=\"succeeded\"} 1.0"));
    scrape = scrape();
    Files.writeString(Path.of("/tmp/scrape.txt"), scrape);
  }

  static List<Job> jobs(String ns) {
    return cluster.client.batch().v1().jobs().inNamespace(ns).list().getItems();
  }

  static String scrape() throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + cluster.app.managementPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void dump() {
    assertThat(scrape).isNotEmpty();
  }
}
