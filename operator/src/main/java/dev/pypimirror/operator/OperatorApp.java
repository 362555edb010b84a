package dev.pypimirror.operator;

import dev.pypimirror.operator.cache.CacheSync;
import dev.pypimirror.operator.cluster.EventRecorder;
import dev.pypimirror.operator.cluster.InformerMirrorDirectory;
import dev.pypimirror.operator.cluster.InformerPolicyDirectory;
import dev.pypimirror.operator.cluster.MissedInjectionAudit;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.metrics.OperatorMetrics;
import dev.pypimirror.operator.reconciler.MirrorOperator;
import dev.pypimirror.operator.webhook.MirrorAdmission;
import dev.pypimirror.operator.webhook.PodAdmission;
import dev.pypimirror.operator.webhook.WebhookCertificateManager;
import dev.pypimirror.operator.webhook.WebhookConfigurations;
import dev.pypimirror.operator.webhook.WebhookServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/** The running system: the reconcilers, the caches and the webhook server, started together. */
public final class OperatorApp implements AutoCloseable {
  /**
   * @param namespaces namespaces to reconcile PypiMirrors in (empty: all)
   * @param operatorNamespace the operator's own namespace, never injected or governed (null:
   *     unknown)
   * @param webhook where to serve the webhooks (null: no webhook)
   * @param indexImage the image the cache sync Job runs `ingest` with: this operator's own
   * @param leaderElection one replica reconciles, every replica serves the webhook
   * @param selfManagedCertificates the leader keeps a CA and serving certificate in a Secret and
   *     the caBundles; the webhook serves that Secret (webhook.tls is then ignored)
   */
  public record Settings(
      Set<String> namespaces,
      String operatorNamespace,
      WebhookServer.Settings webhook,
      String indexImage,
      boolean leaderElection,
      boolean selfManagedCertificates) {
    public Settings(
        Set<String> namespaces, String operatorNamespace, WebhookServer.Settings webhook) {
      this(namespaces, operatorNamespace, webhook, CacheSync.DEFAULT_INDEX_IMAGE, false, false);
    }
  }

  /** How often the leader looks for pods that asked for a mirror but were admitted without one. */
  static final long AUDIT_PERIOD_SECONDS = 120;

  private final Operator operator;
  private final InformerMirrorDirectory mirrors;
  private final InformerPolicyDirectory policies;
  private final WebhookCertificateManager certificates;
  private final MissedInjectionAudit audit;
  private final WebhookServer webhook;
  private final WebhookConfigurations routing;
  private final Runnable releaseLease;
  private final OperatorMetrics metrics;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile Duration drainDelay = Duration.ZERO;

  /** How long the webhook waits, once the delay is over, for admissions under way. */
  static final Duration IN_FLIGHT_TIMEOUT = Duration.ofSeconds(10);

  private OperatorApp(
      OperatorMetrics metrics,
      Operator operator,
      Runnable releaseLease,
      InformerMirrorDirectory mirrors,
      InformerPolicyDirectory policies,
      WebhookCertificateManager certificates,
      MissedInjectionAudit audit,
      WebhookServer webhook,
      WebhookConfigurations routing) {
    this.metrics = metrics;
    this.operator = operator;
    this.routing = routing;
    this.releaseLease = releaseLease;
    this.audit = audit;
    this.mirrors = mirrors;
    this.policies = policies;
    this.certificates = certificates;
    this.webhook = webhook;
  }

  public static OperatorApp start(KubernetesClient client, Settings settings, Clock clock)
      throws IOException {
    OperatorMetrics metrics = new OperatorMetrics();
    String identity = MirrorOperator.identity();
    MissedInjectionAudit audit =
        new MissedInjectionAudit(
            client,
            settings.operatorNamespace(),
            new EventRecorder(client, clock),
            metrics::missedInjection);
    InformerMirrorDirectory mirrors = InformerMirrorDirectory.start(client);
    InformerPolicyDirectory policies =
        InformerPolicyDirectory.start(client, settings.operatorNamespace());
    WebhookConfigurations routing =
        new WebhookConfigurations(client, settings.operatorNamespace(), policies::all);
    policies.onPolicyChange(routing::changed);
    WebhookCertificateManager certificates =
        settings.selfManagedCertificates()
            ? new WebhookCertificateManager(client, settings.operatorNamespace(), clock, routing)
            : null;
    Runnable onLeading =
        () -> {
          routing.startManaging();
          if (certificates != null) {
            certificates.startManaging();
          }
          audit.start(AUDIT_PERIOD_SECONDS);
        };
    Runnable onStopLeading =
        () -> {
          routing.stopManaging();
          if (certificates != null) {
            certificates.stopManaging();
          }
          audit.stop();
        };
    metrics.mirrors(
        () ->
            mirrors.all().stream()
                .collect(
                    Collectors.groupingBy(
                        m -> m.getStatus() != null && m.getStatus().isReady(),
                        Collectors.counting())));
    WebhookServer webhook = null;
    if (settings.webhook() != null) {
      var pods =
          new PodAdmission(mirrors, policies, settings.operatorNamespace(), metrics.admissions());
      var mirrorValidation = new MirrorAdmission(policies);
      var webhookSettings = settings.webhook();
      if (certificates != null) {
        webhookSettings =
            new WebhookServer.Settings(
                webhookSettings.host(),
                webhookSettings.port(),
                certificates.servingSource(),
                webhookSettings.tlsReloadInterval(),
                webhookSettings.managementPort());
      }
      try {
        webhook =
            new WebhookServer(
                    webhookSettings,
                    Map.of(
                        WebhookServer.MUTATE_PODS, pods::review,
                        WebhookServer.VALIDATE_MIRRORS, mirrorValidation::review),
                    () -> mirrors.hasSynced() && policies.hasSynced())
                .withMetrics(metrics::scrape)
                .start();
      } catch (IOException | RuntimeException e) {
        closeStarted(null, policies, mirrors, certificates);
        throw e;
      }
    }
    // The webhook serves from its own caches, so it is ready while the reconcilers still start.
    Operator operator;
    try {
      operator =
          MirrorOperator.start(
              client,
              new MirrorOperator.Options(
                  settings.namespaces(),
                  settings.operatorNamespace(),
                  settings.indexImage(),
                  settings.leaderElection(),
                  identity,
                  onLeading,
                  onStopLeading,
                  metrics.reconcileMetrics()),
              clock);
    } catch (RuntimeException e) {
      closeStarted(webhook, policies, mirrors, certificates);
      throw e;
    }
    Runnable releaseLease =
        settings.leaderElection()
            ? () -> MirrorOperator.releaseLease(client, settings.operatorNamespace(), identity)
            : () -> {};
    return new OperatorApp(
        metrics, operator, releaseLease, mirrors, policies, certificates, audit, webhook, routing);
  }

  /**
   * When a later step of {@link #start} fails: closes what it had started (webhook may be null).
   */
  private static void closeStarted(
      WebhookServer webhook,
      InformerPolicyDirectory policies,
      InformerMirrorDirectory mirrors,
      WebhookCertificateManager certificates) {
    if (webhook != null) {
      webhook.close();
    }
    policies.close();
    mirrors.close();
    if (certificates != null) {
      certificates.close();
    }
  }

  public int webhookPort() {
    return webhook.port();
  }

  public int managementPort() {
    return webhook.managementPort();
  }

  /** The mirrors as the webhook sees them (the informer cache). */
  public MirrorDirectory mirrors() {
    return mirrors;
  }

  /**
   * On {@link #close}: how long the webhook keeps serving after readiness fails, so the Service's
   * endpoints drop this replica before it stops answering (default zero: at once).
   */
  public OperatorApp drainDelay(Duration delay) {
    this.drainDelay = delay;
    return this;
  }

  /**
   * Drains the webhook first (readiness fails, it serves on for the drain delay and answers the
   * admissions under way), then stops the caches and the reconcilers and gives the lease up. Only
   * the first call does anything.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (webhook != null) {
      webhook.shutdown(drainDelay, IN_FLIGHT_TIMEOUT);
    }
    routing.close();
    audit.close();
    policies.close();
    mirrors.close();
    if (certificates != null) {
      certificates.close();
    }
    operator.stop();
    releaseLease.run();
    metrics.close();
  }
}
