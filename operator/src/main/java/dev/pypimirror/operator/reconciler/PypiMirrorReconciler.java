package dev.pypimirror.operator.reconciler;

import static dev.pypimirror.operator.api.Conditions.CACHE_READY;
import static dev.pypimirror.operator.api.Conditions.CONFIG_RENDERED;
import static dev.pypimirror.operator.api.Conditions.READY;

import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.cluster.EventRecorder;
import dev.pypimirror.operator.cluster.EventRecorder.Type;
import dev.pypimirror.operator.config.InvalidMirrorException;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.policy.Governance;
import dev.pypimirror.operator.policy.PolicyRules;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles a PypiMirror into its ConfigMap and cache PVC, and reports what it found in status.
 * Objects of our names that the mirror does not own are never changed: the mirror reports Conflict.
 */
@ControllerConfiguration(name = PypiMirrorReconciler.NAME)
public class PypiMirrorReconciler implements Reconciler<PypiMirror> {
  public static final String NAME = "pypimirror";
  private static final Logger LOG = LoggerFactory.getLogger(PypiMirrorReconciler.class);

  /** How often to look again at an existingClaim that is not Bound (it is not in our informers). */
  static final Duration EXISTING_CLAIM_RECHECK = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final EventRecorder events;
  private final Clock clock;
  private final ObjectWriter writer;
  private final String operatorNamespace;
  private InformerEventSource<ConfigMap, PypiMirror> configMaps;
  private InformerEventSource<PersistentVolumeClaim, PypiMirror> claims;
  private InformerEventSource<PypiMirrorPolicy, PypiMirror> policies;
  private InformerEventSource<Namespace, PypiMirror> namespaces;

  private final CacheSyncer syncer;

  /**
   * @param writer the reconciler's writes of the ConfigMap and PVC
   * @param syncer fills the cache (the same writer's)
   * @param operatorNamespace never governed (null: unknown)
   */
  public PypiMirrorReconciler(
      KubernetesClient client,
      ObjectWriter writer,
      CacheSyncer syncer,
      EventRecorder events,
      Clock clock,
      String operatorNamespace) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
    this.events = events;
    this.clock = clock;
    this.writer = writer;
    this.syncer = syncer;
  }

  @Override
  public List<EventSource<?, PypiMirror>> prepareEventSources(
      EventSourceContext<PypiMirror> context) {
    configMaps =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(ConfigMap.class, PypiMirror.class)
                .withName("configmaps")
                .withLabelSelector(MirrorObjects.OWNED_SELECTOR)
                .withSecondaryToPrimaryMapper(byMirrorLabel())
                .build(),
            context);
    claims =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(PersistentVolumeClaim.class, PypiMirror.class)
                .withName("claims")
                .withLabelSelector(MirrorObjects.OWNED_SELECTOR)
                .withSecondaryToPrimaryMapper(byMirrorLabel())
                .build(),
            context);
    var primaries = context.getPrimaryCache();
    // a policy may govern any mirror; a namespace's labels decide which policy governs its mirrors
    policies =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(PypiMirrorPolicy.class, PypiMirror.class)
                .withName("policies")
                .withWatchAllNamespaces()
                .withSecondaryToPrimaryMapper(EveryPrimary.of(primaries))
                .build(),
            context);
    namespaces =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Namespace.class, PypiMirror.class)
                .withName("namespaces")
                .withWatchAllNamespaces()
                .withSecondaryToPrimaryMapper(
                    ns ->
                        primaries
                            .list(
                                m ->
                                    ns.getMetadata()
                                        .getName()
                                        .equals(m.getMetadata().getNamespace()))
                            .map(ResourceID::fromResource)
                            .collect(Collectors.toSet()))
                .build(),
            context);
    List<EventSource<?, PypiMirror>> sources =
        new ArrayList<>(List.of(configMaps, claims, policies, namespaces));
    sources.addAll(syncer.eventSources(context, byMirrorLabel()));
    return sources;
  }

  /** The violations of the policy governing the mirror's namespace, if any governs. */
  private List<String> policyViolations(PypiMirror mirror) {
    String namespace = mirror.getMetadata().getNamespace();
    var labels =
        namespaces
            .get(new ResourceID(namespace))
            .map(ns -> ns.getMetadata().getLabels())
            .orElse(null);
    return Governance.governing(policies.list().toList(), namespace, labels, operatorNamespace)
        .map(policy -> PolicyRules.violations(policy, mirror.getSpec()))
        .orElse(List.of());
  }

  static <R extends HasMetadata> SecondaryToPrimaryMapper<R> byMirrorLabel() {
    return object -> {
      var labels = object.getMetadata().getLabels();
      String mirror = labels == null ? null : labels.get(MirrorObjects.MIRROR_LABEL);
      return mirror == null
          ? Set.of()
          : Set.of(new ResourceID(mirror, object.getMetadata().getNamespace()));
    };
  }

  @Override
  public UpdateControl<PypiMirror> reconcile(PypiMirror mirror, Context<PypiMirror> context) {
    long generation = Optional.ofNullable(mirror.getMetadata().getGeneration()).orElse(0L);
    PypiMirrorStatus previous =
        Optional.ofNullable(mirror.getStatus()).orElseGet(PypiMirrorStatus::new);
    PypiMirrorStatus status = new PypiMirrorStatus();
    status.setObservedGeneration(generation);
    List<Condition> conditions = new ArrayList<>();

    RenderedConfig rendered;
    try {
      rendered = MirrorConfigRenderer.render(mirror.getMetadata().getName(), mirror.getSpec());
    } catch (InvalidMirrorException e) {
      // the ConfigMap and cache that exist stay as they are: an invalid edit loses nothing
      String message = "invalid spec: " + e.getMessage();
      conditions.add(
          Conditions.of(
              CONFIG_RENDERED, false, Conditions.REASON_INVALID_SPEC, message, generation));
      conditions.add(
          Conditions.of(CACHE_READY, false, Conditions.REASON_INVALID_SPEC, message, generation));
      conditions.add(
          Conditions.of(READY, false, Conditions.REASON_INVALID_SPEC, message, generation));
      return finish(mirror, context, previous, status, conditions, null);
    }
    status.setIndexUrls(rendered.indexUrls());
    status.setConfigHash(rendered.hash());

    Outcome config = applyConfigMap(mirror, rendered);
    if (config.usable()) {
      status.setConfigMapName(MirrorObjects.configMapName(mirror.getMetadata().getName()));
    }
    conditions.add(
        Conditions.of(
            CONFIG_RENDERED, config.usable(), config.reason(), config.message(), generation));

    CacheState cache = observeCache(mirror);
    status.setClaimName(cache.usable() ? MirrorObjects.claimName(mirror) : null);
    status.setCache(previous.getCache());
    List<String> violations = policyViolations(mirror);
    if (cache.usable()
        && mirror.getSpec().getCache() != null
        && mirror.getSpec().getCache().isSynced()) {
      // a mirror the policy forbids gets no sync Job: no forbidden URL is ever used
      CacheSyncer.Outcome sync =
          syncer.sync(mirror, status.getClaimName(), previous.getCache(), violations);
      status.setCache(sync.status());
      announceSync(mirror, previous, sync);
      cache =
          new CacheState(true, sync.synced(), sync.reason(), sync.message(), cache.recheckAfter());
    }
    conditions.add(
        Conditions.of(CACHE_READY, cache.bound(), cache.reason(), cache.message(), generation));

    Outcome ready = readiness(config, cache, rendered);
    if (ready.usable() && !violations.isEmpty()) {
      ready = new Outcome(false, Conditions.REASON_POLICY_VIOLATION, String.join("; ", violations));
    }
    conditions.add(
        Conditions.of(READY, ready.usable(), ready.reason(), ready.message(), generation));
    return finish(mirror, context, previous, status, conditions, cache.recheckAfter());
  }

  private static Outcome readiness(Outcome config, CacheState cache, RenderedConfig rendered) {
    if (!config.usable()) {
      return config;
    }
    if (!cache.usable()) {
      return new Outcome(false, cache.reason(), cache.message());
    }
    return new Outcome(
        true,
        Conditions.REASON_READY,
        "pip uses " + String.join(", ", rendered.indexUrls()) + "; " + cache.message());
  }

  private UpdateControl<PypiMirror> finish(
      PypiMirror mirror,
      Context<PypiMirror> context,
      PypiMirrorStatus previous,
      PypiMirrorStatus status,
      List<Condition> conditions,
      Duration recheckAfter) {
    var now = clock.instant();
    status.setConditions(
        conditions.stream()
            .map(c -> Conditions.carryTransitionTime(c, previous.getConditions(), now))
            .toList());
    announceReadyChange(mirror, previous, status);
    ReconcileLog.mirror(mirror, previous, status);
    if (!status.equals(previous)) {
      writer.writeStatus(mirror, status, context);
    }
    UpdateControl<PypiMirror> control = UpdateControl.noUpdate();
    return recheckAfter == null ? control : control.rescheduleAfter(recheckAfter);
  }

  private void announceSync(
      PypiMirror mirror, PypiMirrorStatus previous, CacheSyncer.Outcome sync) {
    String before = previous.condition(CACHE_READY).map(Condition::getReason).orElse(null);
    if (sync.reason().equals(before)) {
      return;
    }
    if (Conditions.REASON_SYNC_FAILED.equals(sync.reason())) {
      events.record(mirror, Type.Warning, sync.reason(), sync.message());
    } else if (Conditions.REASON_SYNCED.equals(sync.reason())) {
      events.record(mirror, Type.Normal, sync.reason(), sync.message());
    }
  }

  private void announceReadyChange(
      PypiMirror mirror, PypiMirrorStatus before, PypiMirrorStatus after) {
    Condition was = before.condition(READY).orElse(null);
    Condition now = after.condition(READY).orElseThrow();
    if (was != null
        && Objects.equals(was.getStatus(), now.getStatus())
        && Objects.equals(was.getReason(), now.getReason())) {
      return;
    }
    boolean ready = "True".equals(now.getStatus());
    events.record(mirror, ready ? Type.Normal : Type.Warning, now.getReason(), now.getMessage());
  }

  private Outcome applyConfigMap(PypiMirror mirror, RenderedConfig rendered) {
    ConfigMap desired = MirrorObjects.configMap(mirror, rendered);
    ResourceID id = ResourceID.fromResource(desired);
    ConfigMap existing = configMaps.get(id).orElse(null);
    ObjectWriter.Result result =
        writer.createOrUpdate(mirror, desired, existing, ConfigMap.class).result();
    String name = desired.getMetadata().getName();
    return switch (result) {
      case CONFLICT -> conflict(mirror, "ConfigMap", name);
      case RESTORED -> {
        events.record(
            mirror,
            Type.Warning,
            "ConfigRestored",
            "ConfigMap " + name + " was edited outside the operator; restored");
        yield rendered(name, rendered);
      }
      case UPDATED -> {
        events.record(
            mirror,
            Type.Normal,
            "ConfigUpdated",
            "ConfigMap " + name + " updated to " + rendered.hashPrefix());
        yield rendered(name, rendered);
      }
      case CREATED, UNCHANGED -> rendered(name, rendered);
    };
  }

  private static Outcome rendered(String name, RenderedConfig rendered) {
    return new Outcome(
        true,
        Conditions.REASON_RENDERED,
        "ConfigMap "
            + name
            + " holds "
            + String.join(
                ", ", rendered.data().keySet().stream().filter(k -> k.contains(".")).toList()));
  }

  private Outcome conflict(PypiMirror mirror, String kind, String name) {
    String message =
        kind
            + " "
            + name
            + " exists and is not owned by this mirror; it is left as it is. Delete or rename it to let"
            + " the mirror use the name.";
    LOG.info(
        "{}/{}: {}", mirror.getMetadata().getNamespace(), mirror.getMetadata().getName(), message);
    return new Outcome(false, Conditions.REASON_CONFLICT, message);
  }

  private CacheState observeCache(PypiMirror mirror) {
    String claimName = MirrorObjects.claimName(mirror);
    if (claimName == null) {
      return new CacheState(true, true, Conditions.REASON_CACHE_DISABLED, "cache disabled", null);
    }
    String namespace = mirror.getMetadata().getNamespace();
    if (MirrorObjects.createsClaim(mirror)) {
      PersistentVolumeClaim desired = MirrorObjects.cacheClaim(mirror);
      PersistentVolumeClaim existing = claims.get(ResourceID.fromResource(desired)).orElse(null);
      var written = writer.createOrUpdate(mirror, desired, existing, PersistentVolumeClaim.class);
      if (written.result() == ObjectWriter.Result.CONFLICT) {
        Outcome c = conflict(mirror, "PersistentVolumeClaim", claimName);
        return new CacheState(false, false, c.reason(), c.message(), null);
      }
      return CacheState.of(claimName, written.object(), null);
    }
    PersistentVolumeClaim existingClaim =
        client.persistentVolumeClaims().inNamespace(namespace).withName(claimName).get();
    return CacheState.of(claimName, existingClaim, EXISTING_CLAIM_RECHECK);
  }

  /** A step's result as a condition: usable, reason, message. */
  record Outcome(boolean usable, String reason, String message) {}

  /**
   * What the cache looks like: usable (pods may mount it: Bound or Pending), bound, and when to
   * look again because no informer will tell us.
   */
  record CacheState(
      boolean usable, boolean bound, String reason, String message, Duration recheckAfter) {
    static CacheState of(
        String claimName, PersistentVolumeClaim claim, Duration recheckIfNotBound) {
      if (claim == null) {
        return new CacheState(
            false,
            false,
            Conditions.REASON_CLAIM_NOT_FOUND,
            "PersistentVolumeClaim " + claimName + " not found",
            recheckIfNotBound);
      }
      String phase = claim.getStatus() == null ? null : claim.getStatus().getPhase();
      if ("Bound".equals(phase)) {
        return new CacheState(
            true, true, Conditions.REASON_BOUND, "cache PVC " + claimName + " is Bound", null);
      }
      if ("Lost".equals(phase)) {
        return new CacheState(
            false,
            false,
            Conditions.REASON_CLAIM_LOST,
            "cache PVC " + claimName + " lost its volume",
            recheckIfNotBound);
      }
      return new CacheState(
          true,
          false,
          Conditions.REASON_PENDING,
          "cache PVC "
              + claimName
              + " is Pending (a WaitForFirstConsumer storage class binds it when the first build pod"
              + " mounts it)",
          recheckIfNotBound);
    }
  }
}
