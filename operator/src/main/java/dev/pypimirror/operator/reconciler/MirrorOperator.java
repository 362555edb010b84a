package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.Undecodable;
import dev.pypimirror.operator.owned.CacheSync;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.settings.OperatorSettings;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconcilers in a java-operator-sdk Operator, with leader election when asked: {@link #start}
 * starts them, {@link #close} stops them and gives the lease up.
 */
public final class MirrorOperator implements AutoCloseable {

  /**
   * What this replica does while it leads, besides reconciling. Without leader election the one
   * replica leads from {@link #start} on.
   */
  public interface LeaderDuties {
    LeaderDuties NONE =
        new LeaderDuties() {
          @Override
          public void start() {}

          @Override
          public void stop() {}
        };

    void start();

    void stop();
  }

  private static final Logger LOG = LoggerFactory.getLogger(MirrorOperator.class);

  private final KubernetesClient client;
  private final OperatorSettings settings;
  private final PypiMirrorReconciler mirrors;
  private final PypiMirrorPolicyReconciler policies;
  private final LeaderDuties duties;
  private final Metrics metrics;
  private final String identity = identity();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private Operator operator;

  /**
   * Starts nothing: {@link #start} does.
   *
   * @param settings the namespaces to reconcile and leader election; the operator's namespace holds
   *     the lease
   * @param duties what the leader does besides reconciling
   * @param metrics reconcile metrics ({@link Metrics#NOOP}: none)
   */
  public MirrorOperator(
      KubernetesClient client,
      OperatorSettings settings,
      PypiMirrorReconciler mirrors,
      PypiMirrorPolicyReconciler policies,
      LeaderDuties duties,
      Metrics metrics) {
    this.client = client;
    this.settings = settings;
    this.mirrors = mirrors;
    this.policies = policies;
    this.duties = duties;
    this.metrics = metrics;
  }

  /**
   * Every failed reconcile is retried, backing off ({@link Defaults#RETRY_INITIAL_INTERVAL} and
   * on), for as long as it fails: the default gives up after 5 attempts, and a mirror would then
   * wait for its next change although the API server recovered.
   */
  static GenericRetry retry() {
    return new GenericRetry()
        .setInitialInterval(Defaults.RETRY_INITIAL_INTERVAL.defaultValue().toMillis())
        .setIntervalMultiplier(Defaults.RETRY_MULTIPLIER.defaultValue())
        .setMaxInterval(Defaults.RETRY_MAX_INTERVAL.defaultValue().toMillis())
        .withoutMaxAttempts();
  }

  private static void resilient(ControllerConfigurationOverrider<?> config) {
    config
        .withRetry(retry())
        .withReconciliationMaxInterval(Defaults.MAX_RECONCILIATION_INTERVAL.defaultValue());
  }

  /**
   * Which updates of a PypiMirror are reconciled: a spec change (a new generation), a change of the
   * {@code pypimirror.dev/resync} annotation (the user asks for a sync with an unchanged spec), and
   * deletion, and the mirror becoming readable or unreadable (a fixed status is a status write).
   * Other status and metadata writes are not, the operator's own status writes included.
   */
  static boolean specOrResyncChanged(PypiMirror updated, PypiMirror previous) {
    return !Objects.equals(
            updated.getMetadata().getGeneration(), previous.getMetadata().getGeneration())
        || !Objects.equals(resync(updated), resync(previous))
        || updated.isMarkedForDeletion()
        || Undecodable.is(updated) != Undecodable.is(previous);
  }

  private static String resync(PypiMirror mirror) {
    Map<String, String> annotations = mirror.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(CacheSync.RESYNC_ANNOTATION);
  }

  /**
   * Gives the lease up at once if this replica holds it, so another one takes over within its retry
   * period ({@link Defaults#LEASE_RETRY_PERIOD}) instead of waiting for the lease to expire:
   * java-operator-sdk stops without releasing it. Optimistic locking: a lease taken over meanwhile
   * is left alone.
   */
  private void releaseLease() {
    String namespace = settings.operatorNamespace();
    try {
      Lease lease =
          client.leases().inNamespace(namespace).withName(settings.routing().leaderLease()).get();
      if (lease != null
          && lease.getSpec() != null
          && identity.equals(lease.getSpec().getHolderIdentity())) {
        lease.getSpec().setHolderIdentity(null);
        client.resource(lease).update();
        LOG.info("released the leader lease {}/{}", namespace, settings.routing().leaderLease());
      }
    } catch (KubernetesClientException e) {
      LOG.warn("could not release the leader lease: {}", e.getMessage());
    }
  }

  /**
   * The pod name (HOSTNAME) made unique, so two instances on one host never share a lease identity.
   */
  private static String identity() {
    String host = System.getenv("HOSTNAME");
    return (host == null || host.isBlank() ? "pypi-mirror-operator" : host)
        + "-"
        + java.util.UUID.randomUUID().toString().substring(0, 8);
  }

  /**
   * Starts the reconcilers (and the election). Server-side apply is off: writes are create, update
   * with resourceVersion, and JSON patches, which every API server supports.
   */
  public synchronized MirrorOperator start() {
    if (closed.get() || !started.compareAndSet(false, true)) {
      throw new IllegalStateException("the operator starts once, before it is closed");
    }
    OperatorSettings.Reconcile reconcile = settings.reconcile();
    operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withCloseClientOnStop(false)
                  .withUseSSAToPatchPrimaryResource(false)
                  .withSSABasedCreateUpdateMatchForDependentResources(false)
                  .withMetrics(metrics);
              if (reconcile.leaderElection()) {
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(
                        settings.routing().leaderLease(),
                        settings.operatorNamespace(),
                        Defaults.LEASE_DURATION.defaultValue(),
                        Defaults.RENEW_DEADLINE.defaultValue(),
                        Defaults.LEASE_RETRY_PERIOD.defaultValue(),
                        identity,
                        new LeaderCallbacks(duties::start, duties::stop, leader -> {}),
                        false));
              }
            });
    operator.register(
        mirrors,
        config -> {
          resilient(config);
          // the SDK's generation filter alone would drop a change of the resync annotation
          config.withGenerationAware(false).withOnUpdateFilter(MirrorOperator::specOrResyncChanged);
          if (!reconcile.namespaces().isEmpty()) {
            config.settingNamespaces(reconcile.namespaces());
          }
        });
    operator.register(policies, MirrorOperator::resilient);
    operator.start();
    if (!reconcile.leaderElection()) {
      duties.start(); // a single instance leads from the start
    }
    return this;
  }

  /**
   * Stops the reconcilers and, with leader election, gives the lease up. Only the first call does
   * anything; before {@link #start} it only keeps the operator from starting.
   */
  @Override
  public synchronized void close() {
    if (!closed.compareAndSet(false, true) || operator == null) {
      return;
    }
    operator.stop();
    if (settings.reconcile().leaderElection()) {
      releaseLease();
    }
  }
}
