package dev.pypimirror.operator.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.cache.CacheSync;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.settings.OperatorSettings.Certificates;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description =
        "Run the operator and its webhooks against the cluster of the kubeconfig, or in-cluster.")
class RunCommand implements Callable<Integer> {
  private static final OperatorSettings DEFAULTS = OperatorSettings.defaults();

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
      description = "HTTPS port of the webhooks (default: ${DEFAULT-VALUE}).")
  int webhookPort = DEFAULTS.webhook().port();

  @Option(
      names = "--metrics-port",
      description =
          "Plain-HTTP port of /metrics, /healthz, /readyz; 0: none (default: ${DEFAULT-VALUE}).")
  int metricsPort = DEFAULTS.webhook().managementPort();

  @Option(
      names = "--webhook-certs",
      defaultValue = "files",
      converter = CertificateSourceConverter.class,
      description = "self-managed or files (default: ${DEFAULT-VALUE}).")
  Certificates certificateSource;

  @Option(
      names = "--tls-cert-file",
      description =
          "Serving certificate (PEM) with --webhook-certs=files, reloaded when it changes (default: ${DEFAULT-VALUE}).")
  Path certificate = DEFAULTS.webhook().certificateFile();

  @Option(
      names = "--tls-key-file",
      description = "Serving key (PEM) with --webhook-certs=files (default: ${DEFAULT-VALUE}).")
  Path key = DEFAULTS.webhook().keyFile();

  @Option(
      names = "--leader-election",
      description =
          "Elect one leader among replicas (a Lease in the operator's namespace) to reconcile; every replica serves the webhooks.")
  boolean leaderElection;

  @Option(
      names = "--index-image",
      defaultValue = "${env:PYPI_MIRROR_INDEX_IMAGE:-" + CacheSync.DEFAULT_INDEX_IMAGE + "}",
      description =
          "This operator's image: the cache sync Job runs its `index` (default: ${DEFAULT-VALUE}).")
  String indexImage;

  @Option(
      names = "--drain-delay",
      paramLabel = "SECONDS",
      description =
          "On SIGTERM: fail readiness and keep serving admissions this long, so the Service's endpoints drop this replica first; then answer those under way and stop (default: ${DEFAULT-VALUE}).")
  int drainDelaySeconds = (int) DEFAULTS.webhook().drainDelay().toSeconds();

  @Option(names = "--no-webhook", description = "Run the reconcilers only.")
  boolean noWebhook;

  @Option(
      names = "--log-format",
      defaultValue = "text",
      paramLabel = "text|json",
      description = "text, or json: one JSON object per line (default: ${DEFAULT-VALUE}).")
  String logFormat;

  /** self-managed or files, as {@link Certificates}. */
  static class CertificateSourceConverter
      implements picocli.CommandLine.ITypeConverter<Certificates> {
    @Override
    public Certificates convert(String value) {
      return switch (value) {
        case "self-managed", "self_managed" -> Certificates.SELF_MANAGED;
        case "files" -> Certificates.FILES;
        default ->
            throw new picocli.CommandLine.TypeConversionException(
                "expected self-managed or files, got " + value);
      };
    }
  }

  @Override
  public Integer call() throws Exception {
    if (!logFormat.equals("text") && !logFormat.equals("json")) {
      throw new CliException("--log-format must be text or json, got " + logFormat);
    }
    if (!logFormat.equals("json")) {
      return runUntilStopped(); // a failure is one "error:" line with its causes (Main)
    }
    useJsonLogs();
    try {
      return runUntilStopped();
    } catch (CliException e) {
      LoggerFactory.getLogger(RunCommand.class).error(e.getMessage());
      return Main.EXIT_BAD_INPUT;
    } catch (Exception e) {
      // every line JSON, a failed start too: the cause chain in the message, the trace beside it
      LoggerFactory.getLogger(RunCommand.class).error("cannot run: {}", Main.causes(e), e);
      return 1;
    }
  }

  /** Switches logging to one JSON object per line, whatever was configured before. */
  static void useJsonLogs() {
    System.setProperty("logback.configurationFile", "logback-json.xml");
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.reset();
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      try {
        configurator.doConfigure(RunCommand.class.getResource("/logback-json.xml"));
      } catch (JoranException e) {
        throw new IllegalStateException("logback-json.xml", e);
      }
    }
  }

  /** The operator's settings from the options: the defaults with what was given. */
  OperatorSettings settings() {
    return DEFAULTS
        .withOperatorNamespace(operatorNamespace)
        .withReconcile(
            r ->
                r.withNamespaces(new LinkedHashSet<>(namespaces))
                    .withIndexImage(indexImage)
                    .withLeaderElection(leaderElection))
        .withWebhook(
            w -> {
              OperatorSettings.Webhook given =
                  w.withPort(webhookPort)
                      .withCertificateFiles(certificate, key)
                      .withManagementPort(
                          metricsPort > 0 ? metricsPort : OperatorSettings.Webhook.NO_PORT)
                      .withDrainDelay(Duration.ofSeconds(drainDelaySeconds));
              given =
                  certificateSource == Certificates.SELF_MANAGED
                      ? given.withSelfManagedCertificates()
                      : given;
              return noWebhook ? given.disabled() : given;
            });
  }

  private int runUntilStopped() throws Exception {
    if (drainDelaySeconds < 0) {
      throw new CliException("--drain-delay must be 0 or more seconds, got " + drainDelaySeconds);
    }
    boolean selfManaged = certificateSource == Certificates.SELF_MANAGED;
    if ((leaderElection || selfManaged)
        && (operatorNamespace == null || operatorNamespace.isBlank())) {
      throw new CliException(
          "--leader-election and --webhook-certs=self-managed need --operator-namespace (or POD_NAMESPACE)");
    }
    var client = new KubernetesClientBuilder().build();
    var app = new OperatorApp(client, settings(), Clock.systemUTC()).start();
    CountDownLatch stopped = new CountDownLatch(1);
    // SIGTERM: readiness fails at once, admissions are served for the drain delay and those under
    // way answered; then the reconcilers stop and the leader lease goes to the next replica
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
