package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.webhook.WebhookServer;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description =
        "Run the operator and the webhook against the cluster of the kubeconfig, or in-cluster.")
class RunCommand implements Callable<Integer> {
  @Option(
      names = "--watch-namespaces",
      split = ",",
      paramLabel = "NS",
      description = "Reconcile PypiMirrors only in these namespaces (default: all).")
  List<String> namespaces = List.of();

  @Option(
      names = "--operator-namespace",
      defaultValue = "${env:POD_NAMESPACE}",
      description = "The operator's own namespace, never injected (default: $POD_NAMESPACE).")
  String operatorNamespace;

  @Option(
      names = "--webhook-port",
      defaultValue = "9443",
      description = "HTTPS port of the webhook (default: ${DEFAULT-VALUE}).")
  int webhookPort;

  @Option(
      names = "--tls-cert-file",
      defaultValue = "/tmp/k8s-webhook-server/serving-certs/tls.crt",
      description =
          "Serving certificate (PEM), reloaded when it changes (default: ${DEFAULT-VALUE}).")
  Path certificate;

  @Option(
      names = "--tls-key-file",
      defaultValue = "/tmp/k8s-webhook-server/serving-certs/tls.key",
      description = "Serving key (PEM) (default: ${DEFAULT-VALUE}).")
  Path key;

  @Option(
      names = "--index-image",
      defaultValue = "${env:PYPI_MIRROR_INDEX_IMAGE:-pypi-mirror-operator:0.1.0}",
      description =
          "This operator's image: the cache sync Job runs its `index` (default: ${DEFAULT-VALUE}).")
  String indexImage;

  @Option(names = "--no-webhook", description = "Run the reconcilers only.")
  boolean noWebhook;

  @Override
  public Integer call() throws Exception {
    var client = new KubernetesClientBuilder().build();
    var webhook =
        noWebhook
            ? null
            : new WebhookServer.Settings(
                "0.0.0.0", webhookPort, certificate, key, Duration.ofSeconds(10));
    var app =
        OperatorApp.start(
            client,
            new OperatorApp.Settings(
                new LinkedHashSet<>(namespaces), operatorNamespace, webhook, indexImage),
            Clock.systemUTC());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  app.close();
                  client.close();
                  stopped.countDown();
                },
                "shutdown"));
    stopped.await();
    return 0;
  }
}
