package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.cache.CacheSync;
import dev.pypimirror.operator.cluster.EventRecorder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires the reconcilers into a java-operator-sdk Operator on a given client. */
public final class MirrorOperator {
  /** The image whose `index` command the cache sync Job runs: this operator's own image. */
  public static final String LEASE_NAME = "pypi-mirror-operator-leader";

  /**
   * @param namespaces namespaces to reconcile PypiMirrors in (empty: all)
   * @param operatorNamespace the operator's own namespace, never governed; the lease lives there
   * @param indexImage the image the cache sync Job runs `ingest` with
   * @param leaderElection elect one leader among replicas (needs operatorNamespace)
   * @param identity this replica's name in the lease (see {@link #identity()})
   * @param onLeading run when this replica starts leading (null: nothing)
   * @param onStopLeading run when it stops (null: nothing)
   * @param metrics reconcile metrics (null: none)
   */
  public record Options(
      Set<String> namespaces,
      String operatorNamespace,
      String indexImage,
      boolean leaderElection,
      String identity,
      Runnable onLeading,
      Runnable onStopLeading,
      Metrics metrics) {}

  private static final Logger LOG = LoggerFactory.getLogger(MirrorOperator.class);

  private MirrorOperator() {}

  /**
   * Every failed reconcile is retried, backing off from half a second to at most 30 seconds, for as
   * long as it fails: the default gives up after 5 attempts, and a mirror would then wait for its
   * next change although the API server recovered.
   */
  static GenericRetry retry() {
    return new GenericRetry()
        .setInitialInterval(500)
        .setIntervalMultiplier(2)
        .setMaxInterval(30_000)
        .withoutMaxAttempts();
  }

  /** Even without events, each primary is reconciled this often: a safety net, not a poll. */
  static final Duration MAX_RECONCILIATION_INTERVAL = Duration.ofMinutes(10);

  private static void resilient(ControllerConfigurationOverrider<?> config) {
    config.withRetry(retry()).withReconciliationMaxInterval(MAX_RECONCILIATION_INTERVAL);
  }

  /**
   * Which updates of a PypiMirror are reconciled: a spec change (a new generation), a change of the
   * {@code pypimirror.dev/resync} annotation (the user asks for a sync with an unchanged spec), and
   * deletion. Status and other metadata writes are not, the operator's own status writes included.
   */
  static boolean specOrResyncChanged(PypiMirror updated, PypiMirror previous) {
    return !Objects.equals(
            updated.getMetadata().getGeneration(), previous.getMetadata().getGeneration())
        || !Objects.equals(resync(updated), resync(previous))
        || updated.isMarkedForDeletion();
  }

  private static String resync(PypiMirror mirror) {
    Map<String, String> annotations = mirror.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(CacheSync.RESYNC_ANNOTATION);
  }

  /**
   * Gives the lease up at once if this replica holds it, so another one takes over within its retry
   * period (2 s) instead of waiting for the lease to expire (15 s): java-operator-sdk stops without
   * releasing it. Optimistic locking: a lease taken over meanwhile is left alone.
   */
  public static void releaseLease(KubernetesClient client, String namespace, String identity) {
    try {
      Lease lease = client.leases().inNamespace(namespace).withName(LEASE_NAME).get();
      if (lease != null
          && lease.getSpec() != null
          && identity.equals(lease.getSpec().getHolderIdentity())) {
        lease.getSpec().setHolderIdentity(null);
        client.resource(lease).update();
        LOG.info("released the leader lease {}/{}", namespace, LEASE_NAME);
      }
    } catch (KubernetesClientException e) {
      LOG.warn("could not release the leader lease: {}", e.getMessage());
    }
  }

  /**
   * The pod name (HOSTNAME) made unique, so two instances on one host never share a lease identity.
   */
  public static String identity() {
    String host = System.getenv("HOSTNAME");
    return (host == null || host.isBlank() ? "pypi-mirror-operator" : host)
        + "-"
        + java.util.UUID.randomUUID().toString().substring(0, 8);
  }

  public static Operator start(
      KubernetesClient client, Set<String> namespaces, String operatorNamespace, Clock clock) {
    return start(client, namespaces, operatorNamespace, CacheSync.DEFAULT_INDEX_IMAGE, clock);
  }

  public static Operator start(
      KubernetesClient client,
      Set<String> namespaces,
      String operatorNamespace,
      String indexImage,
      Clock clock) {
    return start(
        client,
        new Options(namespaces, operatorNamespace, indexImage, false, null, null, null, null),
        clock);
  }

  /**
   * A started operator: PypiMirrors and PypiMirrorPolicies. Server-side apply is off: writes are
   * create, update with resourceVersion, and JSON patches, which every API server supports.
   */
  public static Operator start(KubernetesClient client, Options options, Clock clock) {
    Operator operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withCloseClientOnStop(false)
                  .withUseSSAToPatchPrimaryResource(false)
                  .withSSABasedCreateUpdateMatchForDependentResources(false);
              if (options.metrics() != null) {
                o.withMetrics(options.metrics());
              }
              if (options.leaderElection()) {
                Runnable start = options.onLeading() == null ? () -> {} : options.onLeading();
                Runnable stop =
                    options.onStopLeading() == null ? () -> {} : options.onStopLeading();
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(
                        LEASE_NAME,
                        options.operatorNamespace(),
                        Duration.ofSeconds(15),
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(2),
                        options.identity(),
                        new LeaderCallbacks(start, stop, leader -> {}),
                        false));
              }
            });
    EventRecorder events = new EventRecorder(client, clock);
    operator.register(
        new PypiMirrorReconciler(
            client, events, clock, options.operatorNamespace(), options.indexImage()),
        config -> {
          resilient(config);
          // the SDK's generation filter alone would drop a change of the resync annotation
          config.withGenerationAware(false).withOnUpdateFilter(MirrorOperator::specOrResyncChanged);
          if (!options.namespaces().isEmpty()) {
            config.settingNamespaces(options.namespaces());
          }
        });
    operator.register(
        new PypiMirrorPolicyReconciler(client, events, clock, options.operatorNamespace()),
        MirrorOperator::resilient);
    operator.start();
    if (!options.leaderElection() && options.onLeading() != null) {
      options.onLeading().run(); // a single instance leads from the start
    }
    return operator;
  }
}
