package dev.pypimirror.operator;

import dev.pypimirror.operator.cluster.AdmissionPolicyWriter;
import dev.pypimirror.operator.cluster.BoundedPool;
import dev.pypimirror.operator.cluster.EventRecorder;
import dev.pypimirror.operator.cluster.InformerMirrorDirectory;
import dev.pypimirror.operator.cluster.InformerPolicyDirectory;
import dev.pypimirror.operator.cluster.MissedInjectionAudit;
import dev.pypimirror.operator.cluster.TolerantDecoding;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.metrics.FinishedSyncJob;
import dev.pypimirror.operator.metrics.OperatorMetrics;
import dev.pypimirror.operator.reconciler.CacheProxy;
import dev.pypimirror.operator.reconciler.CacheSyncer;
import dev.pypimirror.operator.reconciler.MirrorOperator;
import dev.pypimirror.operator.reconciler.ObjectWriter;
import dev.pypimirror.operator.reconciler.ProxyProbe;
import dev.pypimirror.operator.reconciler.PypiMirrorPolicyReconciler;
import dev.pypimirror.operator.reconciler.PypiMirrorReconciler;
import dev.pypimirror.operator.serving.HttpServing;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.tls.ReloadingKeyManager;
import dev.pypimirror.operator.tls.WebhookCertificates;
import dev.pypimirror.operator.webhook.MirrorAdmission;
import dev.pypimirror.operator.webhook.PodAdmission;
import dev.pypimirror.operator.webhook.PolicyAdmission;
import dev.pypimirror.operator.webhook.WebhookCertificateManager;
import dev.pypimirror.operator.webhook.WebhookConfigurations;
import dev.pypimirror.operator.webhook.WebhookServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * The running system, composed here and nowhere else: the informer caches and the webhook server
 * every replica runs, the reconcilers, and what the leader does besides (the webhook
 * configurations, the certificate Secret, the missed-injection audit). The constructor builds the
 * parts and starts nothing; {@link #start} starts them, {@link #close} stops them.
 */
public final class OperatorApp implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OperatorApp.class);
  private final KubernetesClient client;
  private final boolean ownsClient;
  private final OperatorSettings settings;
  private final OperatorMetrics metrics = new OperatorMetrics();
  private final InformerMirrorDirectory mirrors;
  private final InformerPolicyDirectory policies;
  private final WebhookConfigurations routing;
  private final AdmissionPolicyWriter admissionPolicies;
  private final Optional<WebhookCertificateManager> certificates;
  private final MissedInjectionAudit audit;
  private final ThreadPoolExecutor lookups = lookupPool();
  private final Optional<WebhookServer> webhook;
  private final MirrorOperator operator;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * @param given the cluster; every informer, cache and read decodes through a client like it with
   *     {@link TolerantDecoding} (made here, and closed with the app, unless {@code given} decodes
   *     so already), so one undecodable mirror or policy stops nothing
   */
  public OperatorApp(KubernetesClient given, OperatorSettings settings, Clock clock) {
    this(given, settings, clock, ProxyProbe.http());
  }

  /** As above, asking the caching proxies whether their volume is full through {@code probe}. */
  public OperatorApp(
      KubernetesClient given, OperatorSettings settings, Clock clock, ProxyProbe probe) {
    this.client = TolerantDecoding.client(given);
    this.ownsClient = client != given;
    this.settings = settings;
    String operatorNamespace = settings.operatorNamespace();
    KubernetesClient client = this.client;
    EventRecorder events = new EventRecorder(client, clock);
    mirrors = new InformerMirrorDirectory(client);
    policies = new InformerPolicyDirectory(client, operatorNamespace);
    routing =
        new WebhookConfigurations(client, operatorNamespace, settings.routing(), policies::all);
    policies.onPolicyChange(routing::changed);
    admissionPolicies =
        new AdmissionPolicyWriter(
            client, operatorNamespace, mirrors, mirrors::all, policies, policies::all);
    admissionPolicies.ownedBy(routing::owner);
    certificates = certificates(client, settings, clock, routing);
    audit = new MissedInjectionAudit(client, operatorNamespace, events, metrics::missedInjection);
    measureCertificatesAndMirrors();
    webhook = settings.webhook().enabled() ? Optional.of(webhookServer()) : Optional.empty();
    operator =
        reconcilers(
            client,
            settings,
            clock,
            events,
            leaderDuties(),
            metrics.reconcileMetrics(),
            this::syncJobsSeen,
            probe);
  }

  /** Who keeps the webhook's certificate: the operator, cert-manager, or nobody (files given). */
  private static Optional<WebhookCertificateManager> certificates(
      KubernetesClient client,
      OperatorSettings settings,
      Clock clock,
      WebhookConfigurations routing) {
    String operatorNamespace = settings.operatorNamespace();
    return switch (settings.webhook().certificates()) {
      case SELF_MANAGED ->
          Optional.of(new WebhookCertificateManager(client, operatorNamespace, clock, routing));
      case CERT_MANAGER ->
          Optional.of(
              WebhookCertificateManager.certManager(client, operatorNamespace, clock, routing));
      case FILES -> Optional.empty();
    };
  }

  /** The gauges read at scrape time: the certificates' expiry, the mirrors and their readiness. */
  private void measureCertificatesAndMirrors() {
    certificates.ifPresent(
        c -> {
          metrics.certificateExpiry("serving", () -> c.notAfter(WebhookCertificates.TLS_CRT));
          metrics.certificateExpiry("ca", () -> c.notAfter(WebhookCertificates.CA_CRT));
        });
    metrics.perMirror(mirrors::all);
    metrics.mirrors(
        () ->
            mirrors.all().stream()
                .collect(
                    Collectors.groupingBy(
                        m -> m.getStatus() != null && m.getStatus().isReady(),
                        Collectors.counting())));
  }

  /** The finished sync Jobs a reconcile saw, for the metrics. */
  private void syncJobsSeen(
      String namespace, String mirror, java.util.List<CacheSyncer.FinishedJob> jobs) {
    metrics.syncJobsSeen(
        namespace,
        mirror,
        jobs.stream()
            .map(j -> new FinishedSyncJob(j.uid(), j.succeeded(), j.finishedAt()))
            .toList());
  }

  /**
   * The reconcilers alone, composed as {@code run} composes them, without the webhook, its caches
   * and the leader's other duties: for tests and benchmarks of reconciling.
   */
  public static MirrorOperator reconcilers(
      KubernetesClient client, OperatorSettings settings, Clock clock) {
    return reconcilers(client, settings, clock, ProxyProbe.http());
  }

  /** As above, asking the caching proxies through {@code probe}. */
  public static MirrorOperator reconcilers(
      KubernetesClient client, OperatorSettings settings, Clock clock, ProxyProbe probe) {
    return reconcilers(
        client,
        settings,
        clock,
        new EventRecorder(client, clock),
        MirrorOperator.LeaderDuties.NONE,
        Metrics.NOOP,
        CacheSyncer.FinishedJobs.NONE,
        probe);
  }

  private static MirrorOperator reconcilers(
      KubernetesClient client,
      OperatorSettings settings,
      Clock clock,
      EventRecorder events,
      MirrorOperator.LeaderDuties duties,
      Metrics metrics,
      CacheSyncer.FinishedJobs finishedJobs,
      ProxyProbe probe) {
    String operatorNamespace = settings.operatorNamespace();
    ObjectWriter writer = new ObjectWriter(client);
    CacheSyncer syncer =
        new CacheSyncer(client, writer, events, settings.reconcile().indexImage(), finishedJobs);
    return new MirrorOperator(
        client,
        settings,
        new PypiMirrorReconciler(
            client,
            writer,
            syncer,
            new CacheProxy(client, writer, settings.reconcile().indexImage(), probe),
            events,
            clock,
            operatorNamespace),
        new PypiMirrorPolicyReconciler(client, writer, events, clock, operatorNamespace),
        duties,
        metrics);
  }

  private WebhookServer webhookServer() {
    OperatorSettings.Webhook served = settings.webhook();
    ReloadingKeyManager.Source tls =
        certificates
            .map(WebhookCertificateManager::servingSource)
            .orElseGet(
                () -> ReloadingKeyManager.Source.files(served.certificateFile(), served.keyFile()));
    var pods =
        new PodAdmission(
            mirrors,
            policies,
            settings.operatorNamespace(),
            (namespace, pod, plan, dryRun, nanos) -> metrics.admission(plan, nanos),
            new PodAdmission.LiveLookups(lookups, lookupTimeLimit(settings.routing())));
    var mirrorValidation = new MirrorAdmission(policies);
    return new WebhookServer(
        served,
        tls,
        Map.of(
            WebhookServer.MUTATE_PODS, pods::review,
            WebhookServer.VALIDATE_MIRRORS, mirrorValidation::review,
            WebhookServer.VALIDATE_POLICIES, new PolicyAdmission()::review),
        Map.of(WebhookServer.MUTATE_PODS + "/", pods::reviewLater),
        () -> mirrors.hasSynced() && policies.hasSynced(),
        metrics::scrape,
        HttpServing.Transport.DEFAULT);
  }

  /**
   * Half the webhook entries' timeout: the refusal of a lookup that takes too long reaches the API
   * server, with its message, before the API server gives up on the webhook.
   */
  static Duration lookupTimeLimit(OperatorSettings.Routing routing) {
    return Duration.ofMillis(routing.timeoutSeconds() * 1000L / 2);
  }

  private static ThreadPoolExecutor lookupPool() {
    return BoundedPool.of(
        "webhook-lookup",
        Defaults.LOOKUP_THREADS.defaultValue(),
        Defaults.LOOKUP_QUEUE.defaultValue());
  }

  private MirrorOperator.LeaderDuties leaderDuties() {
    return new MirrorOperator.LeaderDuties() {
      @Override
      public void start() {
        metrics.leading(true);
        boolean policiesInject = injectsByAdmissionPolicies();
        // the webhook gives up its entries only once the admission policies are written
        routing.policiesInject(() -> policiesInject && admissionPolicies.written());
        routing.startManaging();
        if (policiesInject) {
          admissionPolicies.startManaging(routing::changed);
        } else {
          admissionPolicies.startRemoving();
        }
        certificates.ifPresent(WebhookCertificateManager::startManaging);
        audit.start(Defaults.AUDIT_PERIOD.defaultValue().toSeconds());
      }

      @Override
      public void stop() {
        routing.stopManaging();
        admissionPolicies.stopManaging();
        certificates.ifPresent(WebhookCertificateManager::stopManaging);
        audit.stop();
        metrics.leading(false);
      }
    };
  }

  /**
   * Whether the leader writes MutatingAdmissionPolicies: asked for, or {@code auto} and the API
   * server serves them (discovery).
   */
  private boolean injectsByAdmissionPolicies() {
    boolean chosen =
        switch (settings.injection()) {
          case WEBHOOK -> false;
          case ADMISSION_POLICY -> true;
          case AUTO -> AdmissionPolicyWriter.served(client);
        };
    LOG.info(
        "injection: {}",
        chosen ? "MutatingAdmissionPolicies (admissionregistration.k8s.io/v1)" : "the webhook");
    return chosen;
  }

  /**
   * Starts the caches and the webhook, then the reconcilers: the webhook serves from its own
   * caches, so it is ready while the reconcilers still start. On a failure what was started is
   * closed again.
   */
  public OperatorApp start() throws IOException {
    if (closed.get() || !started.compareAndSet(false, true)) {
      throw new IllegalStateException("the operator starts once, before it is closed");
    }
    try {
      certificates.ifPresent(WebhookCertificateManager::start);
      mirrors.start();
      policies.start();
      if (webhook.isPresent()) {
        webhook.get().start();
      }
      operator.start();
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
    return this;
  }

  public int webhookPort() {
    return webhook.orElseThrow().port();
  }

  public int managementPort() {
    return webhook.orElseThrow().managementPort();
  }

  /** The mirrors as the webhook sees them (the informer cache). */
  public MirrorDirectory mirrors() {
    return mirrors;
  }

  /**
   * Drains the webhook first (readiness fails, it serves on for the drain delay and answers the
   * admissions under way), then stops the caches and the reconcilers and gives the lease up. Only
   * the first call does anything; it is safe before {@link #start} and after a failed one.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    webhook.ifPresent(
        w ->
            w.shutdown(settings.webhook().drainDelay(), Defaults.IN_FLIGHT_TIMEOUT.defaultValue()));
    lookups.shutdownNow();
    routing.close();
    admissionPolicies.close();
    audit.close();
    policies.close();
    mirrors.close();
    certificates.ifPresent(WebhookCertificateManager::close);
    operator.close();
    metrics.close();
    if (ownsClient) {
      client.close();
    }
  }
}
