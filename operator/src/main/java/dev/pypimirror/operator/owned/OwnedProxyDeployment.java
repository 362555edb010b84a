package dev.pypimirror.operator.owned;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.ProxySpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.SecretRef;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.MirrorObjects;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The caching proxy of a mirror whose cache is served by one (serve: Proxy): the operator's image
 * running {@code proxy} over the cache PVC, mounted read-write. Upstream credentials come from the
 * mirror's credentialsSecrets as secretKeyRef variables, never as values. Its spec is taken again
 * whenever the desired one changes (a hash of it is kept in an annotation: the API server's
 * defaults never count as a change).
 */
public final class OwnedProxyDeployment extends OwnedKind<Deployment> {
  public static final OwnedProxyDeployment KIND = new OwnedProxyDeployment();

  public static final String COMPONENT = "proxy";

  /** Where the proxy container mounts the cache. */
  public static final String CACHE_ROOT = "/cache";

  /** The variable prefix of upstream i's credentials, as the {@code proxy} command reads them. */
  public static final String CREDENTIALS_ENV_PREFIX = "PYPI_PROXY_UPSTREAM_";

  public static final String SPEC_HASH_ANNOTATION = "pypimirror.dev/spec-hash";

  private OwnedProxyDeployment() {
    super(Deployment.class, "proxy-deployments", MirrorObjects.OWNED_SELECTOR);
  }

  /**
   * One upstream of the proxy, in priority order, and the Secret with its credentials (or null).
   */
  public record Upstream(String url, SecretRef credentials) {}

  /**
   * The proxy's upstreams: the mirror's own indexes in order (not the cache's file:// one), then
   * the public index unless offline or disabled.
   */
  public static List<Upstream> upstreams(PypiMirrorSpec spec) {
    List<Upstream> upstreams = new ArrayList<>();
    for (IndexSpec index : spec.getIndexes() == null ? List.<IndexSpec>of() : spec.getIndexes()) {
      if (index.getUrl() != null && !index.getUrl().startsWith("file:")) {
        upstreams.add(new Upstream(index.getUrl(), index.getCredentialsSecret()));
      }
    }
    String publicUrl = MirrorConfigRenderer.publicUrl(spec);
    if (publicUrl != null) {
      upstreams.add(new Upstream(publicUrl, null));
    }
    return upstreams;
  }

  /**
   * @param image the operator's own image (the one the cache sync's trusted step runs)
   * @param claimName the cache PVC
   */
  public static Deployment desired(PypiMirror mirror, String image, String claimName) {
    String name = mirror.getMetadata().getName();
    CacheSpec cache = mirror.getSpec().getCache();
    ProxySpec proxy = cache.getProxy() == null ? new ProxySpec() : cache.getProxy();
    Map<String, String> labels = MirrorObjects.labels(name, COMPONENT);
    boolean shared = cache.getAccessModes().contains(CacheSpec.AccessMode.ReadWriteMany);
    Deployment deployment =
        new DeploymentBuilder()
            .withMetadata(
                MirrorObjects.metadata(mirror, MirrorObjects.proxyName(name), COMPONENT, true))
            .withNewSpec()
            .withReplicas(proxy.getReplicas())
            .withNewSelector()
            .withMatchLabels(selector(name))
            .endSelector()
            // a ReadWriteOnce volume attaches to one node: the old pod goes before the new one
            .withNewStrategy()
            .withType(shared ? "RollingUpdate" : "Recreate")
            .endStrategy()
            .withNewTemplate()
            .withNewMetadata()
            .withLabels(labels)
            // the proxy talks to upstream itself: never a target of the webhook
            .withAnnotations(Map.of("pypimirror.dev/inject", "false"))
            .endMetadata()
            .withNewSpec()
            .withAutomountServiceAccountToken(false)
            .withEnableServiceLinks(false)
            .withSecurityContext(MirrorObjects.restrictedPod())
            .withContainers(container(mirror.getSpec(), proxy, image))
            .addNewVolume()
            .withName("cache")
            .withNewPersistentVolumeClaim(claimName, false)
            .endVolume()
            .addNewVolume()
            .withName("tmp")
            .withNewEmptyDir()
            .endEmptyDir()
            .endVolume()
            .endSpec()
            .endTemplate()
            .endSpec()
            .build();
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(
        SPEC_HASH_ANNOTATION, CacheSync.sha256(Serialization.asJson(deployment.getSpec())));
    deployment.getMetadata().setAnnotations(annotations);
    return deployment;
  }

  /** What the proxy's Deployment and Service select: its pods. */
  public static Map<String, String> selector(String mirrorName) {
    Map<String, String> selector = new LinkedHashMap<>();
    selector.put("app.kubernetes.io/instance", mirrorName);
    selector.put("app.kubernetes.io/component", COMPONENT);
    selector.put(MirrorObjects.MIRROR_LABEL, mirrorName);
    return selector;
  }

  private static Container container(PypiMirrorSpec spec, ProxySpec proxy, String image) {
    List<Upstream> upstreams = upstreams(spec);
    List<String> args =
        new ArrayList<>(
            List.of(
                "proxy",
                "--cache",
                CACHE_ROOT,
                "--listen",
                "0.0.0.0:" + MirrorObjects.PROXY_PORT,
                "--index-ttl",
                Integer.toString(proxy.getIndexTTLSeconds()),
                "--resolution",
                proxy.getResolution().name()));
    upstreams.forEach(u -> args.addAll(List.of("--upstream", u.url())));
    if (spec.isOffline()) {
      args.add("--offline");
    }
    return new ContainerBuilder()
        .withName(COMPONENT)
        .withImage(image)
        .withArgs(args)
        .withEnv(
            MirrorObjects.credentialVariables(
                CREDENTIALS_ENV_PREFIX, upstreams.stream().map(Upstream::credentials).toList()))
        .addNewPort()
        .withName("http")
        .withContainerPort(MirrorObjects.PROXY_PORT)
        .withProtocol("TCP")
        .endPort()
        .withReadinessProbe(probe("/-/readyz", 5))
        .withLivenessProbe(probe("/-/healthz", 20))
        .withResources(resources(proxy))
        .addNewVolumeMount()
        .withName("cache")
        .withMountPath(CACHE_ROOT)
        .endVolumeMount()
        .addNewVolumeMount()
        .withName("tmp")
        .withMountPath("/tmp")
        .endVolumeMount()
        .withSecurityContext(MirrorObjects.restrictedContainer())
        .build();
  }

  private static Probe probe(String path, int periodSeconds) {
    return new ProbeBuilder()
        .withNewHttpGet()
        .withPath(path)
        .withNewPort("http")
        .endHttpGet()
        .withPeriodSeconds(periodSeconds)
        .withFailureThreshold(3)
        .build();
  }

  private static ResourceRequirements resources(ProxySpec proxy) {
    ResourceRequirements given = proxy.getResources();
    boolean empty =
        given == null
            || ((given.getRequests() == null || given.getRequests().isEmpty())
                && (given.getLimits() == null || given.getLimits().isEmpty()));
    return empty
        ? new ResourceRequirementsBuilder()
            .addToRequests("cpu", new Quantity("100m"))
            .addToRequests("memory", new Quantity("256Mi"))
            .addToLimits("memory", new Quantity("512Mi"))
            .build()
        : given;
  }

  /** The desired spec when the operator's own one changed since it was written; else nothing. */
  @Override
  public void merge(Deployment target, Deployment desired) {
    if (!Objects.equals(hash(target), hash(desired))) {
      target.setSpec(desired.getSpec());
    }
  }

  private static String hash(HasMetadata o) {
    var annotations = o.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(SPEC_HASH_ANNOTATION);
  }
}
