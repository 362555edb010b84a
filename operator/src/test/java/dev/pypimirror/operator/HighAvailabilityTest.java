package dev.pypimirror.operator;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.TestTls;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two replicas with leader election against the mock API server, and /metrics after admissions. */
@EnableKubernetesMockClient(crud = true)
class HighAvailabilityTest {
  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path dir;

  OperatorApp replica() throws Exception {
    return new OperatorApp(
            client,
            OperatorSettings.defaults()
                .withOperatorNamespace("pypi-mirror-system")
                .withReconcile(r -> r.withIndexImage("img").withLeaderElection(true))
                .withWebhook(
                    w ->
                        w.onLoopback()
                            .withCertificateFiles(dir.resolve("tls.crt"), dir.resolve("tls.key"))
                            .withManagementPort(0)),
            Clock.systemUTC())
        .start();
  }

  String holder() {
    Lease lease =
        client
            .leases()
            .inNamespace("pypi-mirror-system")
            .withName("pypi-mirror-operator-leader")
            .get();
    return lease == null ? null : lease.getSpec().getHolderIdentity();
  }

  boolean ready(String ns, String name) {
    PypiMirror m = client.resources(PypiMirror.class).inNamespace(ns).withName(name).get();
    return m != null && m.getStatus() != null && m.getStatus().isReady();
  }

  @Test
  void oneReplicaLeadsAndTheOtherTakesOverWhenItStops() throws Exception {
    MockCluster.installCrds(client);
    // java-operator-sdk checks its lease rights first; the mock server has no authorizer
    server
        .expect()
        .post()
        .withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(
            201,
            "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectRulesReview\",\"status\":{\"resourceRules\":"
                + "[{\"verbs\":[\"get\",\"create\",\"update\"],\"apiGroups\":[\"coordination.k8s.io\"],\"resources\":[\"leases\"]}],"
                + "\"nonResourceRules\":[],\"incomplete\":false}}")
        .always();
    var ca = TestTls.newCa();
    TestTls.writeServing(ca, dir.resolve("tls.crt"), dir.resolve("tls.key"));
    OperatorApp first = replica();
    await().atMost(Duration.ofSeconds(20)).until(() -> holder() != null);
    String firstHolder = holder();
    OperatorApp second = replica();
    try {
      client
          .resource(mirror("builds", "one", spec(https("https://devpi.corp.example/simple/"))))
          .create();
      await().atMost(Duration.ofSeconds(20)).until(() -> ready("builds", "one"));
      assertThat(holder()).isEqualTo(firstHolder);

      // both replicas serve the webhook; the follower answers too
      HttpClient https =
          HttpClient.newBuilder().sslContext(TestTls.trusting(ca.certificate())).build();
      await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                var answer =
                    https.send(
                        HttpRequest.newBuilder(
                                URI.create(
                                    "https://127.0.0.1:" + second.webhookPort() + "/mutate-pods"))
                            .POST(HttpRequest.BodyPublishers.ofString(podAskingFor("one")))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(Pods.json(answer.body()).at("/response/patchType").asText())
                    .isEqualTo("JSONPatch");
              });
      HttpResponse<String> metrics =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + second.managementPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body())
          .containsPattern(
              "pypimirror_admissions_total\\{outcome=\"injected\",reason=\"injected\"\\} [1-9]")
          .contains("pypimirror_admission_duration_seconds_bucket")
          .containsPattern("pypimirror_mirrors\\{ready=\"true\"\\} 1");

      // every holder the lease has had from here on, in order (null: released)
      List<Optional<String>> holders = new CopyOnWriteArrayList<>();
      Watch watch =
          client
              .leases()
              .inNamespace("pypi-mirror-system")
              .withName("pypi-mirror-operator-leader")
              .watch(
                  new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, Lease lease) {
                      holders.add(Optional.ofNullable(lease.getSpec().getHolderIdentity()));
                    }

                    @Override
                    public void onClose(WatcherException cause) {}
                  });
      long stopped = System.nanoTime();
      try {
        first.close();
        // the stopping leader gives the lease up (clears its holder) on close, so the other takes
        // over within its retry period instead of waiting for the lease to expire
        assertThat(holder()).as("holder once the leader has closed").isNotEqualTo(firstHolder);
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> holder() != null && !holder().equals(firstHolder));
        String secondHolder = holder();
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> holders.contains(Optional.of(secondHolder)));
        assertThat(holders.subList(0, holders.indexOf(Optional.of(secondHolder))))
            .as("the lease's holders before the takeover")
            .contains(Optional.empty())
            .doesNotContain(Optional.of(secondHolder));
      } finally {
        watch.close();
      }
      // a measurement on a shared machine, not a rule: reported, not asserted
      System.out.printf(
          "takeover after a clean stop: %d ms%n",
          Duration.ofNanos(System.nanoTime() - stopped).toMillis());
      client
          .resource(mirror("builds", "two", spec(https("https://devpi.corp.example/simple/"))))
          .create();
      await().atMost(Duration.ofSeconds(20)).until(() -> ready("builds", "two"));
      HttpResponse<String> leaderMetrics =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + second.managementPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(leaderMetrics.body())
          .containsPattern(
              "pypimirror_reconciles_total\\{kind=\"PypiMirror\",result=\"success\"\\} [1-9]");
    } finally {
      second.close();
      first.close();
    }
  }

  static String podAskingFor(String mirror) {
    var review =
        (com.fasterxml.jackson.databind.node.ObjectNode) Pods.json(Pods.recordedAdmissionReview());
    ((com.fasterxml.jackson.databind.node.ObjectNode)
            review.at("/request/object/metadata/annotations"))
        .put("pypimirror.dev/mirror", mirror);
    return review.toString();
  }
}
