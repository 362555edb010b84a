package dev.pypimirror.operator.reconciler;

import static dev.pypimirror.operator.api.Conditions.CACHE_READY;
import static dev.pypimirror.operator.api.Conditions.CONFIG_RENDERED;
import static dev.pypimirror.operator.api.Conditions.PROXY_CACHE_FULL;
import static dev.pypimirror.operator.api.Conditions.PROXY_READY;
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
import dev.pypimirror.operator.config.MirrorStatuses;
import dev.pypimirror.operator.config.MirrorStatuses.Availability;
import dev.pypimirror.operator.config.MirrorStatuses.CacheState;
import dev.pypimirror.operator.config.MirrorStatuses.Step;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.owned.OwnedCacheClaim;
import dev.pypimirror.operator.owned.OwnedConfigMap;
import dev.pypimirror.operator.owned.OwnedKind;
import dev.pypimirror.operator.owned.OwnedKinds;
import dev.pypimirror.operator.policy.Governance;
import dev.pypimirror.operator.policy.PolicyRules;
import dev.pypimirror.operator.settings.Defaults;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
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

  private static Duration sooner(Duration a, Duration b) {
    return a == null || b.compareTo(a) < 0 ? b : a;
  }

  private final KubernetesClient client;
  private final EventRecorder events;
  private final Unreadable unreadable;
  private final Clock clock;
  private final ObjectWriter writer;
  private final String operatorNamespace;
  private final OwnedInformers owned = new OwnedInformers(OwnedKinds.ALL);
  private InformerEventSource<PypiMirrorPolicy, PypiMirror> policies;
  private InformerEventSource<Namespace, PypiMirror> namespaces;

  private final CacheSyncer syncer;
  private final CacheProxy proxy;

  /**
   * @param writer the reconciler's writes of the ConfigMap and PVC
   * @param syncer fills the cache (the same writer's)
   * @param proxy runs a proxied mirror's caching proxy (the same writer's)
   * @param operatorNamespace never governed (null: unknown)
   */
  public PypiMirrorReconciler(
      KubernetesClient client,
      ObjectWriter writer,
      CacheSyncer syncer,
      CacheProxy proxy,
      EventRecorder events,
      Clock clock,
      String operatorNamespace) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
    this.events = events;
    this.unreadable = new Unreadable(events);
    this.clock = clock;
    this.writer = writer;
    this.syncer = syncer;
    this.proxy = proxy;
  }

  @Override
  public List<EventSource<?, PypiMirror>> prepareEventSources(
      EventSourceContext<PypiMirror> context) {
    var primaries = context.getPrimaryCache();
    // a policy may govern any mirror; a namespace's labels decide which policy governs its mirrors
    policies =
        Secondaries.everywhere(
            context, PypiMirrorPolicy.class, "policies", EveryPrimary.of(primaries));
    namespaces =
        Secondaries.everywhere(
            context,
            Namespace.class,
            "namespaces",
            ns ->
                primaries
                    .list(m -> ns.getMetadata().getName().equals(m.getMetadata().getNamespace()))
                    .map(ResourceID::fromResource)
                    .collect(Collectors.toSet()));
    List<EventSource<?, PypiMirror>> sources =
        new ArrayList<>(owned.eventSources(context, byMirrorLabel()));
    sources.addAll(List.of(policies, namespaces));
    sources.addAll(syncer.eventSources(context, owned, byMirrorLabel()));
    sources.addAll(proxy.eventSources(context, byMirrorLabel()));
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
    if (unreadable.skip(mirror)) {
      return UpdateControl.noUpdate();
    }
    long generation = Optional.ofNullable(mirror.getMetadata().getGeneration()).orElse(0L);
    PypiMirrorStatus previous =
        Optional.ofNullable(mirror.getStatus()).orElseGet(PypiMirrorStatus::new);
    PypiMirrorStatus status = new PypiMirrorStatus();
    status.setObservedGeneration(generation);

    RenderedConfig rendered;
    try {
      rendered = MirrorConfigRenderer.render(mirror);
    } catch (InvalidMirrorException e) {
      // the ConfigMap and cache that exist stay as they are: an invalid edit loses nothing
      return finish(
          mirror,
          context,
          previous,
          status,
          MirrorStatuses.invalidSpec(e.getMessage(), generation),
          null);
    }
    status.setIndexUrls(rendered.indexUrls());
    status.setConfigHash(rendered.hash());

    Step config = applyConfigMap(mirror, rendered);
    if (config.usable()) {
      status.setConfigMapName(MirrorObjects.configMapName(mirror.getMetadata().getName()));
    }
    CacheState cache = observeCache(mirror);
    status.setClaimName(cache.usable() ? MirrorObjects.claimName(mirror) : null);
    status.setCache(previous.getCache());
    List<String> violations = policyViolations(mirror);
    cache = syncCache(mirror, previous, status, cache, violations);
    Step proxy = serveThroughProxy(mirror, cache, status, violations);
    List<Condition> conditions =
        conditions(mirror, rendered, new Steps(config, cache, proxy), violations, generation);
    Duration recheckAfter = cache.recheckAfter();
    if (proxy != null && proxy.usable()) {
      CacheProxy.CacheFullCheck cacheFull = this.proxy.cacheFull(status.getProxyUrl(), generation);
      conditions.add(cacheFull.condition());
      recheckAfter = sooner(recheckAfter, cacheFull.recheckAfter());
    }
    return finish(mirror, context, previous, status, conditions, recheckAfter);
  }

  /** What the reconcile's steps found: the ConfigMap, the cache, and the proxy (null: none). */
  private record Steps(Step config, CacheState cache, Step proxy) {}

  /**
   * Syncs a synced mirror's usable cache (a mirror the policy forbids gets no sync Job: no
   * forbidden URL is ever used); the cache's state, the sync's where it ran.
   */
  private CacheState syncCache(
      PypiMirror mirror,
      PypiMirrorStatus previous,
      PypiMirrorStatus status,
      CacheState cache,
      List<String> violations) {
    var spec = mirror.getSpec().getCache();
    if (!cache.usable() || spec == null || !spec.isSynced()) {
      return cache;
    }
    CacheSyncer.Outcome sync =
        syncer.sync(mirror, status.getClaimName(), previous.getCache(), violations);
    status.setCache(sync.status());
    announceSync(mirror, previous, sync);
    return new CacheState(
        sync.synced() ? Availability.READY : Availability.MOUNTABLE,
        sync.reason(),
        sync.message(),
        cache.recheckAfter());
  }

  /**
   * ConfigRendered, CacheReady, Ready, DependencyConfusion and, for a proxied mirror, ProxyReady.
   */
  private static List<Condition> conditions(
      PypiMirror mirror,
      RenderedConfig rendered,
      Steps steps,
      List<String> violations,
      long generation) {
    Step config = steps.config();
    CacheState cache = steps.cache();
    Step proxy = steps.proxy();
    Step ready = MirrorStatuses.ready(config, cache, rendered, violations);
    if (proxy != null && Conditions.REASON_CONFLICT.equals(proxy.reason())) {
      ready = proxy; // a proxy that is not ours to run; a proxy still starting does not block
    }
    List<Condition> conditions =
        new ArrayList<>(
            List.of(
                Conditions.of(
                    CONFIG_RENDERED,
                    config.usable(),
                    config.reason(),
                    config.message(),
                    generation),
                Conditions.of(
                    CACHE_READY, cache.bound(), cache.reason(), cache.message(), generation),
                Conditions.of(READY, ready.usable(), ready.reason(), ready.message(), generation),
                MirrorStatuses.dependencyConfusion(
                    MirrorConfigRenderer.served(
                        mirror.getMetadata().getName(),
                        mirror.getMetadata().getNamespace(),
                        mirror.getSpec()),
                    generation)));
    if (proxy != null) {
      conditions.add(
          Conditions.of(PROXY_READY, proxy.usable(), proxy.reason(), proxy.message(), generation));
    }
    return conditions;
  }

  /**
   * The caching proxy of a proxied mirror whose cache is usable: written, its URL in status, its
   * ProxyReady step; null (and any proxy of ours removed) when the mirror serves no proxy.
   */
  private Step serveThroughProxy(
      PypiMirror mirror, CacheState cache, PypiMirrorStatus status, List<String> violations) {
    var spec = mirror.getSpec().getCache();
    if (spec == null || !spec.isProxied()) {
      proxy.remove(mirror, owned);
      return null;
    }
    status.setProxyUrl(
        MirrorObjects.proxyUrl(
            mirror.getMetadata().getName(), mirror.getMetadata().getNamespace()));
    if (!cache.usable()) {
      return new Step(
          false, cache.reason(), "no caching proxy without its cache: " + cache.message());
    }
    Step step = proxy.apply(mirror, status.getClaimName(), violations, owned);
    if (Conditions.REASON_CONFLICT.equals(step.reason())) {
      logged(mirror, step);
    }
    return step;
  }

  private UpdateControl<PypiMirror> finish(
      PypiMirror mirror,
      Context<PypiMirror> context,
      PypiMirrorStatus previous,
      PypiMirrorStatus status,
      List<Condition> conditions,
      Duration recheckAfter) {
    status.setConditions(MirrorStatuses.stamped(conditions, previous, clock.instant()));
    MirrorStatuses.readyChange(previous, status)
        .ifPresent(
            c ->
                events.record(
                    mirror,
                    "True".equals(c.getStatus()) ? Type.Normal : Type.Warning,
                    c.getReason(),
                    c.getMessage()));
    MirrorStatuses.riskRaised(previous, status)
        .ifPresent(c -> events.record(mirror, Type.Warning, c.getType(), c.getMessage()));
    MirrorStatuses.raised(PROXY_CACHE_FULL, previous, status)
        .ifPresent(c -> events.record(mirror, Type.Warning, c.getReason(), c.getMessage()));
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

  private Step applyConfigMap(PypiMirror mirror, RenderedConfig rendered) {
    ConfigMap desired = OwnedConfigMap.desired(mirror, rendered);
    ObjectWriter.Result result = write(mirror, OwnedConfigMap.KIND, desired).result();
    String name = desired.getMetadata().getName();
    return switch (result) {
      case CONFLICT -> logged(mirror, MirrorStatuses.conflict("ConfigMap", name));
      case RESTORED -> {
        events.record(
            mirror,
            Type.Warning,
            "ConfigRestored",
            "ConfigMap " + name + " was edited outside the operator; restored");
        yield MirrorStatuses.rendered(name, rendered);
      }
      case UPDATED -> {
        events.record(
            mirror,
            Type.Normal,
            "ConfigUpdated",
            "ConfigMap " + name + " updated to " + rendered.hashPrefix());
        yield MirrorStatuses.rendered(name, rendered);
      }
      case CREATED, UNCHANGED -> MirrorStatuses.rendered(name, rendered);
    };
  }

  /** Creates or updates {@code desired} from what the kind's informer holds of it. */
  private <R extends HasMetadata> ObjectWriter.Written<R> write(
      PypiMirror mirror, OwnedKind<R> kind, R desired) {
    R existing = owned.get(kind, ResourceID.fromResource(desired)).orElse(null);
    return writer.createOrUpdate(mirror, kind, desired, existing);
  }

  /** A conflict is the user's to resolve; it is logged as well as reported in status. */
  private static Step logged(PypiMirror mirror, Step conflict) {
    LOG.info(
        "{}/{}: {}",
        mirror.getMetadata().getNamespace(),
        mirror.getMetadata().getName(),
        conflict.message());
    return conflict;
  }

  private CacheState observeCache(PypiMirror mirror) {
    String claimName = MirrorObjects.claimName(mirror);
    if (claimName == null) {
      return CacheState.disabled();
    }
    String namespace = mirror.getMetadata().getNamespace();
    if (MirrorObjects.createsClaim(mirror)) {
      var written = write(mirror, OwnedCacheClaim.KIND, OwnedCacheClaim.desired(mirror));
      if (written.result() == ObjectWriter.Result.CONFLICT) {
        logged(mirror, MirrorStatuses.conflict("PersistentVolumeClaim", claimName));
        return CacheState.conflict(claimName);
      }
      return CacheState.of(claimName, written.object(), null);
    }
    PersistentVolumeClaim existingClaim =
        client.persistentVolumeClaims().inNamespace(namespace).withName(claimName).get();
    return CacheState.of(claimName, existingClaim, Defaults.EXISTING_CLAIM_RECHECK.defaultValue());
  }
}
