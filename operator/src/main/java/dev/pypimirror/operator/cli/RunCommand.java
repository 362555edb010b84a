package dev.pypimirror.operator.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.cluster.OwnPod;
import dev.pypimirror.operator.cluster.TolerantDecoding;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.settings.OperatorSettings.Certificates;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description =
        "Run the operator and its webhooks against the cluster of the kubeconfig, or in-cluster.",
    defaultValueProvider = SettingDefaults.class,
    resourceBundle = "dev.pypimirror.operator.cli.SettingDefaults$RunHelp",
    footerHeading = "%nExamples:%n",
    footer = {
      "  # in a pod, as deploy/ and the chart run it (namespace, pod: downward API)",
      "  pypi-mirror-operator run --leader-election --webhook-certs=self-managed \\",
      "      --metrics-port=8080",
      "  # from your machine, against a kubeconfig context, with your certificate",
      "  pypi-mirror-operator run --context kind-dev \\",
      "      --operator-namespace pypi-mirror-system \\",
      "      --tls-cert-file tls.crt --tls-key-file tls.key",
      "  # the reconcilers only, for two namespaces",
      "  pypi-mirror-operator run --operator-namespace pypi-mirror-system \\",
      "      --no-webhook --watch-namespaces builds,ml-training"
    })
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

  @Option(names = "--webhook-port")
  int webhookPort;

  @Option(names = "--metrics-port")
  int metricsPort;

  @Option(
      names = "--webhook-certs",
      paramLabel = "self-managed|cert-manager|files",
      converter = CertificateSourceConverter.class,
      completionCandidates = CertificateSourceConverter.class,
      description =
          "self-managed, cert-manager (the leader keeps a Certificate: --cert-manager-certificate, --cert-manager-issuer) or files (default: files when --tls-cert-file and --tls-key-file exist, else self-managed).")
  Certificates certificateSource;

  @Option(names = "--tls-cert-file")
  Path certificate;

  @Option(names = "--tls-key-file")
  Path key;

  @Option(
      names = "--leader-election",
      description =
          "Elect one leader among replicas (a Lease in the operator's namespace) to reconcile; every replica serves the webhooks.")
  boolean leaderElection;

  @Option(
      names = "--index-image",
      defaultValue = "${env:PYPI_MIRROR_INDEX_IMAGE}",
      description =
          "This operator's image: the cache sync Job runs its `ingest` (default: $PYPI_MIRROR_INDEX_IMAGE, else the image of this pod's container, read from the pod $POD_NAME, else "
              + Defaults.OWN_IMAGE
              + ").")
  String indexImage;

  @Option(
      names = "--pod-name",
      defaultValue = "${env:POD_NAME}",
      description = "This pod, to read the operator's image from (default: $POD_NAME).")
  String podName;

  @Option(names = "--webhook-configuration", paramLabel = "NAME")
  String webhookConfiguration;

  @Option(names = "--webhook-service", paramLabel = "NAME")
  String webhookService;

  @Option(names = "--webhook-failure-policy", paramLabel = "Ignore|Fail")
  String webhookFailurePolicy;

  @Option(names = "--webhook-timeout", paramLabel = "SECONDS")
  int webhookTimeout;

  @Option(
      names = "--cert-manager-certificate",
      paramLabel = "NAME",
      description =
          "With cert-manager: the Certificate in the operator's namespace whose CA cainjector writes into the webhook configurations; with --webhook-certs=cert-manager the leader keeps it, issued into Secret <NAME>-cert-manager.")
  String certManagerCertificate;

  @Option(
      names = "--cert-manager-issuer",
      paramLabel = "KIND/NAME",
      description =
          "With --webhook-certs=cert-manager: the Certificate's issuer, Issuer/NAME (in the operator's namespace) or ClusterIssuer/NAME.")
  String certManagerIssuer;

  @Option(names = "--cert-manager-issuer-group", paramLabel = "GROUP")
  String certManagerIssuerGroup;

  @Option(names = "--drain-delay", paramLabel = "SECONDS")
  int drainDelaySeconds;

  @Option(
      names = "--injection",
      paramLabel = "webhook|admission-policy|auto",
      converter = InjectionConverter.class,
      completionCandidates = InjectionConverter.class)
  OperatorSettings.Injection injection;

  /** webhook, admission-policy or auto, as {@link OperatorSettings.Injection}. */
  static class InjectionConverter extends Choices<OperatorSettings.Injection> {
    InjectionConverter() {
      word("webhook", OperatorSettings.Injection.WEBHOOK)
          .word("admission-policy", OperatorSettings.Injection.ADMISSION_POLICY)
          .word("auto", OperatorSettings.Injection.AUTO);
    }
  }

  @Option(names = "--no-webhook", description = "Run the reconcilers only.")
  boolean noWebhook;

  @picocli.CommandLine.Mixin ClusterOptions cluster;

  @Option(names = "--log-format", paramLabel = "text|json")
  String logFormat;

  /** self-managed, cert-manager or files, as {@link Certificates}. */
  static class CertificateSourceConverter extends Choices<Certificates> {
    CertificateSourceConverter() {
      word("self-managed", Certificates.SELF_MANAGED)
          .alias("self_managed", Certificates.SELF_MANAGED)
          .word("cert-manager", Certificates.CERT_MANAGER)
          .word("files", Certificates.FILES);
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

  /**
   * The operator's settings from the options: the defaults with what was given. The index image is
   * the given one, else the default (run replaces it with its pod's image when it knows its pod).
   */
  OperatorSettings settings() {
    try {
      return OperatorSettings.defaults()
          .withOperatorNamespace(operatorNamespace)
          .withRouting(
              new OperatorSettings.Routing(
                  webhookConfiguration,
                  webhookService,
                  webhookFailurePolicy,
                  webhookTimeout,
                  certManagerCertificate,
                  issuer()))
          .withInjection(injection)
          .withReconcile(
              r ->
                  r.withNamespaces(new LinkedHashSet<>(namespaces))
                      .withIndexImage(
                          indexImage != null ? indexImage : Defaults.INDEX_IMAGE.defaultValue())
                      .withLeaderElection(leaderElection))
          .withWebhook(this::webhook);
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage()); // it names the option and what it takes
    }
  }

  private OperatorSettings.Webhook webhook(OperatorSettings.Webhook defaults) {
    OperatorSettings.Webhook given =
        defaults
            .withPort(webhookPort)
            .withCertificateFiles(certificate, key)
            .withManagementPort(metricsPort > 0 ? metricsPort : OperatorSettings.Webhook.NO_PORT)
            .withDrainDelay(Duration.ofSeconds(drainDelaySeconds));
    given = certificates() == Certificates.FILES ? given : given.withCertificates(certificates());
    return noWebhook ? given.disabled() : given;
  }

  /** With --webhook-certs=cert-manager: the Certificate's issuer, from KIND/NAME; else null. */
  private OperatorSettings.Issuer issuer() {
    if (certificateSource != Certificates.CERT_MANAGER) {
      return null;
    }
    String[] kindAndName = certManagerIssuer == null ? new String[0] : certManagerIssuer.split("/");
    if (certManagerCertificate == null
        || kindAndName.length != 2
        || !List.of("Issuer", "ClusterIssuer").contains(kindAndName[0])
        || kindAndName[1].isBlank()) {
      throw new CliException(
          "--webhook-certs=cert-manager: the leader keeps the webhook's Certificate, so give its"
              + " name (--cert-manager-certificate NAME) and its issuer (--cert-manager-issuer"
              + " Issuer/NAME or ClusterIssuer/NAME), got "
              + Objects.requireNonNullElse(certManagerCertificate, "no certificate")
              + " and "
              + Objects.requireNonNullElse(certManagerIssuer, "no issuer"));
    }
    return new OperatorSettings.Issuer(kindAndName[0], kindAndName[1], certManagerIssuerGroup);
  }

  /**
   * Where the serving certificate comes from: as given, else the files when both exist, else
   * self-managed (the leader makes a CA and a certificate).
   */
  Certificates certificates() {
    if (certificateSource != null) {
      return certificateSource;
    }
    return Files.isRegularFile(certificate) && Files.isRegularFile(key)
        ? Certificates.FILES
        : Certificates.SELF_MANAGED;
  }

  /** Every problem found before starting, each with its cause and its fix. */
  private void checkBeforeStart() {
    boolean noNamespace = operatorNamespace == null || operatorNamespace.isBlank();
    if (leaderElection && noNamespace) {
      throw new CliException(
          "--leader-election keeps its Lease in the operator's namespace, which is not known:"
              + " give --operator-namespace NS (in a pod: env POD_NAMESPACE from the downward API,"
              + " fieldPath metadata.namespace)");
    }
    if (noWebhook) {
      return;
    }
    Certificates source = certificates();
    if (source == Certificates.CERT_MANAGER && noNamespace) {
      throw new CliException(
          "--webhook-certs=cert-manager keeps the Certificate in the operator's namespace, which is"
              + " not known: give --operator-namespace NS (in a pod: env POD_NAMESPACE from the"
              + " downward API)");
    }
    if (source == Certificates.SELF_MANAGED && noNamespace) {
      throw new CliException(
          (certificateSource == null
                  ? "no certificate files at "
                      + certificate
                      + " and "
                      + key
                      + ", so the webhook certificates would be self-managed, which"
                  : "--webhook-certs=self-managed")
              + " keeps them in a Secret of the operator's namespace, which is not known: give"
              + " --operator-namespace NS (in a pod: env POD_NAMESPACE from the downward API),"
              + " or --tls-cert-file and --tls-key-file, or --no-webhook to run the reconcilers"
              + " only");
    }
    if (source == Certificates.FILES) {
      for (Path file : List.of(certificate, key)) {
        if (!Files.isReadable(file)) {
          throw new CliException(
              "--webhook-certs=files: cannot read "
                  + file
                  + ": mount the certificate and key there (cert-manager's Secret), give"
                  + " --tls-cert-file and --tls-key-file, or use --webhook-certs=self-managed");
        }
      }
    }
  }

  /**
   * The image the sync Jobs run: the given one, else the image of this pod's container (read from
   * the pod, so an install that changed the image needs to say nothing else), else the default.
   */
  private OperatorSettings withIndexImage(KubernetesClient client, OperatorSettings settings) {
    if (indexImage != null || podName == null || podName.isBlank()) {
      return settings;
    }
    if (operatorNamespace == null || operatorNamespace.isBlank()) {
      throw new CliException(
          "$POD_NAME is set but the operator's namespace is not: give --operator-namespace NS (env"
              + " POD_NAMESPACE), or --index-image IMAGE");
    }
    String image;
    try {
      image = OwnPod.image(client, operatorNamespace, podName);
    } catch (KubernetesClientException e) {
      throw new CliException(
          "cannot read this pod "
              + operatorNamespace
              + "/"
              + podName
              + " to learn the operator's image ("
              + Main.causes(e)
              + "): grant the service account `get` on pods (the chart's and deploy/rbac's"
              + " ClusterRole do), or give --index-image IMAGE");
    }
    return settings.withReconcile(r -> r.withIndexImage(image));
  }

  private int runUntilStopped() throws Exception {
    checkBeforeStart();
    OperatorSettings given = settings();
    // decodes as the operator needs it (one bad object stops nothing): no second client
    var client = TolerantDecoding.builder().withConfig(cluster.config()).build();
    OperatorSettings settings;
    try {
      settings = withIndexImage(client, given);
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
    OperatorApp app;
    try {
      app = new OperatorApp(client, settings, Clock.systemUTC()).start();
    } catch (RuntimeException | java.io.IOException e) {
      client.close();
      throw StartFailure.explained(e, client.getMasterUrl());
    }
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
