package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.MirrorStatuses;
import dev.pypimirror.operator.config.MirrorStatuses.Step;
import dev.pypimirror.operator.config.ProxyCannotStart;
import dev.pypimirror.operator.owned.OwnedKind;
import dev.pypimirror.operator.owned.OwnedProxyDeployment;
import dev.pypimirror.operator.owned.OwnedProxyService;
import dev.pypimirror.operator.proxy.ProxySettings;
import dev.pypimirror.operator.settings.Defaults;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Keeps a proxied mirror's caching proxy (its Deployment and Service), and removes them when the
 * mirror no longer serves through one or its governing policy forbids it (the proxy is no way
 * around a policy).
 */
public class CacheProxy {
  private final KubernetesClient client;
  private final ObjectWriter writer;
  private final String image;
  private final ProxyAnswers answers;
  private InformerEventSource<Pod, PypiMirror> pods;
  private InformerEventSource<ReplicaSet, PypiMirror> replicaSets;

  /** How often a Ready proxy is asked; an answer older than half of it is asked again. */

  /** When to look again after an ask started: once it has answered or timed out. */
  static final Duration ANSWER_WAIT = Defaults.PROXY_PROBE_TIMEOUT.defaultValue().plusSeconds(1);

  /**
   * @param image the operator's own image, which the proxy runs (the same as the cache sync's)
   */
  public CacheProxy(KubernetesClient client, ObjectWriter writer, String image) {
    this(client, writer, image, ProxyProbe.http());
  }

  /** As above, asking the proxies through {@code probe}. */
  public CacheProxy(KubernetesClient client, ObjectWriter writer, String image, ProxyProbe probe) {
    this.client = client;
    this.writer = writer;
    this.image = image;
    this.answers =
        new ProxyAnswers(
            probe, Clock.systemUTC(), Defaults.PROXY_RECHECK.defaultValue().dividedBy(2));
  }

  /** The ProxyCacheFull condition, and when to look again: soon while the proxy is being asked. */
  record CacheFullCheck(Condition condition, Duration recheckAfter) {}

  /**
   * ProxyCacheFull, from what the mirror's Ready proxy last said at {@code proxyUrl}, its Service;
   * asked again off this thread when that answer is due (see {@link ProxyAnswers}).
   */
  CacheFullCheck cacheFull(String proxyUrl, long generation) {
    ProxyAnswers.Look look = answers.look(URI.create(proxyUrl), generation);
    ProxyProbe.Answer answer = look.answer().orElse(ProxyProbe.Answer.unknown("not asked yet"));
    return new CacheFullCheck(
        MirrorStatuses.proxyCacheFull(answer.full(), answer.detail(), generation),
        look.asking() ? ANSWER_WAIT : Defaults.PROXY_RECHECK.defaultValue());
  }

  /**
   * Writes the proxy over {@code claimName} unless {@code violations} forbid the mirror; the
   * ProxyReady step from the Deployment found.
   */
  Step apply(PypiMirror mirror, String claimName, List<String> violations, OwnedInformers owned) {
    if (!violations.isEmpty()) {
      remove(mirror, owned);
      return MirrorStatuses.proxyForbidden(violations);
    }
    var service =
        writer.createOrUpdate(
            mirror,
            OwnedProxyService.KIND,
            OwnedProxyService.desired(mirror),
            cached(owned, OwnedProxyService.KIND, mirror).orElse(null));
    if (service.result() == ObjectWriter.Result.CONFLICT) {
      return MirrorStatuses.conflict("Service", MirrorObjects.proxyName(name(mirror)));
    }
    var deployment =
        writer.createOrUpdate(
            mirror,
            OwnedProxyDeployment.KIND,
            OwnedProxyDeployment.desired(mirror, image, claimName),
            cached(owned, OwnedProxyDeployment.KIND, mirror).orElse(null));
    if (deployment.result() == ObjectWriter.Result.CONFLICT) {
      return MirrorStatuses.conflict("Deployment", MirrorObjects.proxyName(name(mirror)));
    }
    Step step = MirrorStatuses.proxy(deployment.object());
    return step.usable() ? step : whyNotStarting(deployment.object()).orElse(step);
  }

  /**
   * The proxy's pods and the ReplicaSets between them and its Deployment, as the informers see
   * them: a pod that cannot start (a credentials Secret that gives both a token and a user name,
   * say) leaves why as its termination message. The labels only narrow what is watched; whose pod
   * it is, is decided by owner references (see {@link ProxyCannotStart}).
   */
  List<EventSource<?, PypiMirror>> eventSources(
      EventSourceContext<PypiMirror> context, SecondaryToPrimaryMapper<HasMetadata> byMirrorLabel) {
    String proxyObjects =
        MirrorObjects.OWNED_SELECTOR
            + ",app.kubernetes.io/component="
            + OwnedProxyDeployment.COMPONENT;
    pods =
        Secondaries.labelled(
            context, Pod.class, "proxy-pods", proxyObjects, byMirrorLabel::toPrimaryResourceIDs);
    replicaSets =
        Secondaries.labelled(
            context,
            ReplicaSet.class,
            "proxy-replicasets",
            proxyObjects,
            byMirrorLabel::toPrimaryResourceIDs);
    return List.of(pods, replicaSets);
  }

  /** ProxyReady when a pod of {@code deployment}, the mirror's proxy, says it cannot start. */
  private Optional<Step> whyNotStarting(Deployment deployment) {
    if (pods == null || replicaSets == null) {
      return Optional.empty();
    }
    String namespace = deployment.getMetadata().getNamespace();
    return ProxyCannotStart.step(
        deployment,
        replicaSets.list(namespace).toList(),
        pods.list(namespace),
        ProxySettings.TERMINATION_PREFIX);
  }

  /** Deletes the mirror's own proxy objects, if there are any; others' are never touched. */
  void remove(PypiMirror mirror, OwnedInformers owned) {
    for (OwnedKind<?> kind : List.of(OwnedProxyDeployment.KIND, OwnedProxyService.KIND)) {
      cached(owned, kind, mirror)
          .filter(existing -> MirrorObjects.isOwnedBy(existing, mirror))
          .ifPresent(existing -> client.resource(existing).delete());
    }
  }

  private static <R extends HasMetadata> Optional<R> cached(
      OwnedInformers owned, OwnedKind<R> kind, PypiMirror mirror) {
    return owned.get(
        kind,
        new ResourceID(MirrorObjects.proxyName(name(mirror)), mirror.getMetadata().getNamespace()));
  }

  private static String name(PypiMirror mirror) {
    return mirror.getMetadata().getName();
  }
}
