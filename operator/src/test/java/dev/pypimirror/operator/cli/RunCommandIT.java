package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.TestTls;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `run` from the packaged jar against an API server given by a kubeconfig, end to end. */
@EnableKubernetesMockClient(crud = true)
class RunCommandIT {
  static KubernetesMockServer server;
  static KubernetesClient client;

  @Test
  void runReconcilesMirrorsAndServesTheWebhookUntilSigterm(@TempDir Path dir) throws Exception {
    MockCluster.installCrds(client);
    Path kubeconfig =
        Files.writeString(
            dir.resolve("kubeconfig"),
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: mock, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
            users: [{name: nobody, user: {}}]
            contexts: [{name: mock, context: {cluster: mock, user: nobody, namespace: default}}]
            current-context: mock
            """
                .formatted(client.getMasterUrl()));
    var ca = TestTls.newCa();
    TestTls.writeServing(ca, dir.resolve("tls.crt"), dir.resolve("tls.key"));
    int port;
    int metricsPort; // not the default 8080: another process on the machine may hold it
    try (ServerSocket free = new ServerSocket(0);
        ServerSocket freeToo = new ServerSocket(0)) {
      port = free.getLocalPort();
      metricsPort = freeToo.getLocalPort();
    }
    ProcessBuilder builder =
        new ProcessBuilder(
                List.of(
                    JarIT.javaBinary(),
                    "-jar",
                    JarIT.JAR.toString(),
                    "run",
                    "--operator-namespace",
                    "pypi-mirror-system",
                    "--webhook-port",
                    String.valueOf(port),
                    "--metrics-port",
                    String.valueOf(metricsPort),
                    "--tls-cert-file",
                    dir.resolve("tls.crt").toString(),
                    "--tls-key-file",
                    dir.resolve("tls.key").toString(),
                    "--log-format",
                    "json"))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("operator.log").toFile());
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    Process operator = builder.start();
    try {
      client
          .resource(mirror("builds", "corp", spec(https("https://devpi.corp.example/simple/"))))
          .create();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                PypiMirror m =
                    client.resources(PypiMirror.class).inNamespace("builds").withName("corp").get();
                return m.getStatus() != null && m.getStatus().isReady();
              });
      assertThat(client.configMaps().inNamespace("builds").withName("pypi-mirror-corp").get())
          .isNotNull();

      HttpClient https =
          HttpClient.newBuilder().sslContext(TestTls.trusting(ca.certificate())).build();
      URI mutate = URI.create("https://127.0.0.1:" + port + "/mutate-pods");
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                var response =
                    https.send(
                        HttpRequest.newBuilder(mutate)
                            .POST(
                                HttpRequest.BodyPublishers.ofString(Pods.recordedAdmissionReview()))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(Pods.json(response.body()).at("/response/patchType").asText())
                    .isEqualTo("JSONPatch");
              });

      operator.destroy(); // SIGTERM
      assertThat(operator.waitFor(30, TimeUnit.SECONDS)).as("exits on SIGTERM").isTrue();
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(
          e.getMessage() + "\noperator log:\n" + Files.readString(dir.resolve("operator.log")), e);
    } finally {
      operator.destroyForcibly();
    }
    String log = Files.readString(dir.resolve("operator.log"));
    assertThat(log).doesNotContain("Exception in thread");
    assertThat(log.lines().toList()).isNotEmpty();
    assertThat(log.lines().filter(line -> !line.startsWith("{\"")).toList())
        .as("--log-format json: every line is a JSON object")
        .isEmpty();
    assertThat(log.lines().toList())
        .allSatisfy(line -> assertThat(Pods.json(line).path("level").asText()).isNotEmpty());
  }

  @Test
  void aFailedStartIsLoggedAsJsonWithItsCauseAndExitsOne(@TempDir Path dir) throws Exception {
    Path kubeconfig =
        Files.writeString(
            dir.resolve("kubeconfig"),
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: gone, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
            users: [{name: nobody, user: {}}]
            contexts: [{name: gone, context: {cluster: gone, user: nobody, namespace: default}}]
            current-context: gone
            """);
    ProcessBuilder builder =
        new ProcessBuilder(
                JarIT.javaBinary(),
                "-jar",
                JarIT.JAR.toString(),
                "run",
                "--log-format",
                "json",
                "--no-webhook",
                "--operator-namespace",
                "pypi-mirror-system",
                "--leader-election")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("operator.log").toFile());
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    builder.environment().put("KUBERNETES_REQUEST_RETRY_BACKOFFLIMIT", "0");
    Process operator = builder.start();
    try {
      assertThat(operator.waitFor(60, TimeUnit.SECONDS)).as("gives up").isTrue();
    } finally {
      operator.destroyForcibly();
    }

    List<String> lines = Files.readAllLines(dir.resolve("operator.log"));
    assertThat(operator.exitValue()).as(String.join("\n", lines)).isEqualTo(1);
    assertThat(lines).isNotEmpty().allSatisfy(line -> assertThat(line).startsWith("{\""));
    var last = Pods.json(lines.get(lines.size() - 1));
    assertThat(last.path("level").asText()).isEqualTo("ERROR");
    assertThat(last.path("formattedMessage").asText())
        .startsWith("cannot run: ")
        .contains("ConnectException");
  }
}
