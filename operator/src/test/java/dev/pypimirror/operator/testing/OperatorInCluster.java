package dev.pypimirror.operator.testing;

import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.webhook.WebhookRoutes;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The end-to-end fixture: the test API server (CRDs and deploy/default's webhook configurations
 * installed) with the operator, reconcilers and webhook, running against it as in a cluster. Its
 * leader makes the webhook certificate and patches the CA in; the API server routes the webhook
 * Service to the operator's port.
 */
public final class OperatorInCluster implements AutoCloseable {
  public final ApiServer api;
  public final KubernetesClient client;
  public final OperatorApp app;

  private OperatorInCluster(ApiServer api, OperatorApp app) {
    this.api = api;
    this.client = api.client();
    this.app = app;
  }

  public static OperatorInCluster start() throws Exception {
    return start(false, api -> {});
  }

  /** As {@link #start()}, with /metrics served on a management port of its own. */
  public static OperatorInCluster startWithMetrics() throws Exception {
    return start(true, api -> {});
  }

  /**
   * As {@link #startWithMetrics()}, asking the caching proxies through {@code probe} (the proxies'
   * Services do not resolve outside a cluster).
   */
  public static OperatorInCluster startWithMetrics(
      dev.pypimirror.operator.reconciler.ProxyProbe probe) throws Exception {
    return start(true, api -> {}, probe);
  }

  /** As {@link #start()}, with {@code before} done to the API server before the operator starts. */
  public static OperatorInCluster start(java.util.function.Consumer<ApiServer> before)
      throws Exception {
    return start(false, before, dev.pypimirror.operator.reconciler.ProxyProbe.http());
  }

  private static OperatorInCluster start(
      boolean management, java.util.function.Consumer<ApiServer> before) throws Exception {
    return start(management, before, dev.pypimirror.operator.reconciler.ProxyProbe.http());
  }

  private static OperatorInCluster start(
      boolean management,
      java.util.function.Consumer<ApiServer> before,
      dev.pypimirror.operator.reconciler.ProxyProbe probe)
      throws Exception {
    ApiServer api = ApiServer.start().installCrds().installWebhookConfigurations();
    before.accept(api);
    OperatorApp app =
        new OperatorApp(
                api.client(),
                OperatorSettings.defaults()
                    .withOperatorNamespace(ApiServer.WEBHOOK_NAMESPACE)
                    .withReconcile(r -> r.withIndexImage("pypi-mirror-operator:test"))
                    .withWebhook(
                        w -> {
                          var loopback =
                              w.onLoopback()
                                  .withSelfManagedCertificates()
                                  .withTlsReloadInterval(Duration.ofSeconds(1));
                          return management ? loopback.withManagementPort(0) : loopback;
                        }),
                Clock.systemUTC(),
                probe)
            .start();
    api.routeWebhookService(app.webhookPort()).awaitCaBundles();
    return new OperatorInCluster(api, app);
  }

  /** A one-container build pod with these annotations. */
  public static Pod buildPod(String namespace, String name, Map<String, String> annotations) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("build")
        .withImage("gcr.io/kaniko-project/executor:v1.23.2")
        .endContainer()
        .endSpec()
        .build();
  }

  /** Creates an https mirror and waits until the webhook's directory sees it Ready. */
  public void readyMirror(String namespace, String name) {
    client
        .resource(
            Mirrors.mirror(
                namespace, name, Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/"))))
        .create();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                app.mirrors()
                    .get(namespace, name)
                    .map(m -> m.getStatus() != null && m.getStatus().isReady())
                    .orElse(false));
  }

  /** The pod webhook entries the API server currently has, as "name failurePolicy". */
  public List<String> podEntries() {
    return client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName(WebhookRoutes.CONFIGURATION)
        .get()
        .getWebhooks()
        .stream()
        .map(w -> w.getName() + " " + w.getFailurePolicy())
        .toList();
  }

  /**
   * Namespace {@code namespace} (labelled team={@code namespace}) governed by Enforce policy {@code
   * <namespace>-builds}, once the leader has written the policy's fail-closed entry and the webhook
   * sees the policy's mirror Ready.
   */
  public void enforcedNamespace(String namespace) {
    MockCluster.namespace(client, namespace, Map.of("team", namespace));
    String policy = namespace + "-builds";
    client
        .resource(
            Policies.policy(
                policy,
                Map.of("team", namespace),
                Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/")),
                true))
        .create();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                podEntries().contains(policy + ".policy.pypimirror.dev Fail")
                    && app.mirrors()
                        .get(namespace, policy)
                        .map(m -> m.getStatus() != null && m.getStatus().isReady())
                        .orElse(false));
  }

  /** The pod as the API server stored it. */
  public Pod stored(String namespace, String name) {
    return client.pods().inNamespace(namespace).withName(name).get();
  }

  @Override
  public void close() {
    app.close();
    api.close();
  }
}
