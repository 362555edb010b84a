package dev.pypimirror.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.cluster.EventRecorder;
import dev.pypimirror.operator.cluster.InformerMirrorDirectory;
import dev.pypimirror.operator.cluster.InformerPolicyDirectory;
import dev.pypimirror.operator.cluster.MissedInjectionAudit;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.testing.LoopbackWebhook;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.tls.ReloadingKeyManager;
import dev.pypimirror.operator.webhook.WebhookCertificateManager;
import dev.pypimirror.operator.webhook.WebhookConfigurations;
import dev.pypimirror.operator.webhook.WebhookServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One start/close pattern for every long-lived part: the constructor starts nothing and touches no
 * network, {@link AutoCloseable#close} is safe before start and a second time, and nothing starts
 * twice or after close.
 */
@EnableKubernetesMockClient(crud = true)
class LifecycleTest {
  // a fresh API server for each test: no request of another test's informers is counted
  KubernetesMockServer server;
  KubernetesClient client;

  static final OperatorSettings SETTINGS =
      OperatorSettings.defaults()
          .withOperatorNamespace("pypi-mirror-system")
          .withWebhook(
              w ->
                  w.onLoopback()
                      .withCertificateFiles(Path.of("absent.crt"), Path.of("absent.key"))
                      .withSelfManagedCertificates());

  /** The requests the mock API server received since the last call. */
  int requests() throws InterruptedException {
    return received(50).size();
  }

  /**
   * What the mock API server received since the last call, until none came for {@code quietMillis}
   * (a request sent before a close returned may be recorded a while later on a busy machine).
   */
  List<String> received(long quietMillis) throws InterruptedException {
    List<String> requests = new ArrayList<>();
    RecordedRequest request;
    while ((request = server.takeRequest(quietMillis, TimeUnit.MILLISECONDS)) != null) {
      requests.add(request.getMethod() + " " + request.getPath());
    }
    return requests;
  }

  @Test
  void theOperatorBuiltAndClosedWithoutStartingTouchesNothing() throws Exception {
    requests();
    var app = new OperatorApp(client, SETTINGS, Clock.systemUTC());
    app.close();
    app.close();

    assertThat(requests()).as("requests to the API server").isZero();
    assertThatThrownBy(app::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theLeadersPartsCloseBeforeStartAndTwice() throws Exception {
    requests();
    var routing = new WebhookConfigurations(client, "pypi-mirror-system", Optional::empty);
    var certificates =
        new WebhookCertificateManager(client, "pypi-mirror-system", Clock.systemUTC(), routing);
    var audit =
        new MissedInjectionAudit(
            client, "pypi-mirror-system", new EventRecorder(client, Clock.systemUTC()), () -> {});
    for (AutoCloseable part : List.of(certificates, routing, audit, certificates, routing, audit)) {
      part.close();
    }

    assertThat(requests()).isZero();
  }

  @Test
  void theOperatorStartsOnceAndClosesOnce() throws Exception {
    MockCluster.installCrds(client);
    var app =
        new OperatorApp(
            client, SETTINGS.withWebhook(OperatorSettings.Webhook::disabled), Clock.systemUTC());
    app.start();
    assertThatThrownBy(app::start).isInstanceOf(IllegalStateException.class);
    app.close();
    received(1_000);
    app.close();

    assertThat(received(1_000)).as("requests after the second close").isEmpty();
  }

  @Test
  void theReconcilersCloseBeforeStartAndTwice() throws Exception {
    MockCluster.installCrds(client);
    var unstarted = OperatorApp.reconcilers(client, SETTINGS, Clock.systemUTC());
    unstarted.close();
    unstarted.close();
    assertThatThrownBy(unstarted::start).isInstanceOf(IllegalStateException.class);

    var started = OperatorApp.reconcilers(client, SETTINGS, Clock.systemUTC()).start();
    started.close();
    started.close();
  }

  @Test
  void theInformerCachesCloseBeforeStartAndTwice() throws Exception {
    requests();
    var mirrors = new InformerMirrorDirectory(client);
    var policies = new InformerPolicyDirectory(client, "pypi-mirror-system");
    mirrors.close();
    policies.close();
    mirrors.close();
    policies.close();
    assertThat(requests()).isZero();

    var started = new InformerMirrorDirectory(client).start();
    await().atMost(Duration.ofSeconds(10)).until(started::hasSynced);
    started.close();
    started.close();
  }

  @Test
  void theWebhookServerClosesBeforeStartAndTwiceAndNeverStartsAfterClose() throws Exception {
    WebhookServer webhook =
        LoopbackWebhook.server(
            ReloadingKeyManager.Source.files(Path.of("absent.crt"), Path.of("absent.key")),
            Map.of(),
            () -> true,
            Duration.ofSeconds(10));
    webhook.close();
    webhook.close();
    webhook.shutdown(Duration.ofSeconds(30), Duration.ofSeconds(30)); // nothing to drain: at once

    assertThatThrownBy(webhook::start).isInstanceOf(IllegalStateException.class);
  }
}
