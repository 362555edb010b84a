package dev.pypimirror.operator.config;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.SecretRef;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The names, labels, metadata and ownership rule of the objects a PypiMirror owns (their desired
 * state: {@code owned}).
 */
public final class MirrorObjects {
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "pypi-mirror-operator";
  public static final String MIRROR_LABEL = "pypimirror.dev/mirror";
  public static final String CONFIG_HASH_ANNOTATION = "pypimirror.dev/config-hash";

  /** Label selector of everything the operator owns; its informers see nothing else. */
  public static final String OWNED_SELECTOR = MANAGED_BY_LABEL + "=" + MANAGED_BY;

  private MirrorObjects() {}

  /** What the names of the objects a mirror makes start with. */
  public static final String NAME_PREFIX = "pypi-mirror-";

  public static String configMapName(String mirrorName) {
    return NAME_PREFIX + mirrorName;
  }

  /**
   * The PVC the mirror's cache uses: the existing claim, else its own; null when the cache is off.
   */
  public static String claimName(PypiMirror mirror) {
    CacheSpec cache = mirror.getSpec().getCache();
    if (cache == null || !cache.isEnabled()) {
      return null;
    }
    return hasText(cache.getExistingClaim())
        ? cache.getExistingClaim()
        : ownClaimName(mirror.getMetadata().getName());
  }

  /** The port the caching proxy's Service and container listen on. */
  public static final int PROXY_PORT = 8080;

  /** The caching proxy's Deployment and Service (serve: Proxy). */
  public static String proxyName(String mirrorName) {
    return NAME_PREFIX + mirrorName + "-proxy";
  }

  /** The one index build pods of a proxied mirror get: its proxy Service's simple index. */
  public static String proxyUrl(String mirrorName, String namespace) {
    return "http://%s.%s.svc:%d/simple/"
        .formatted(proxyName(mirrorName), namespace == null ? "default" : namespace, PROXY_PORT);
  }

  /**
   * The PVC build pods mount: the cache's claim when it is served by mounting it (serve: Mount);
   * null when the cache is off or a proxy serves it.
   */
  public static String mountedClaimName(PypiMirror mirror) {
    CacheSpec cache = mirror.getSpec().getCache();
    return cache != null && cache.isProxied() ? null : claimName(mirror);
  }

  public static String ownClaimName(String mirrorName) {
    return NAME_PREFIX + mirrorName + "-cache";
  }

  /** True when the mirror's cache is on and it creates its own PVC (no existingClaim). */
  public static boolean createsClaim(PypiMirror mirror) {
    CacheSpec cache = mirror.getSpec().getCache();
    return cache != null && cache.isEnabled() && !hasText(cache.getExistingClaim());
  }

  public static Map<String, String> labels(String mirrorName, String component) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("app.kubernetes.io/name", "pypi-mirror");
    labels.put("app.kubernetes.io/instance", mirrorName);
    labels.put("app.kubernetes.io/component", component);
    labels.put(MANAGED_BY_LABEL, MANAGED_BY);
    labels.put(MIRROR_LABEL, mirrorName);
    return labels;
  }

  public static boolean deletesClaim(CacheSpec cache) {
    return cache.getReclaimPolicy() == CacheSpec.ReclaimPolicy.Delete;
  }

  /**
   * The metadata of an object the mirror makes: our labels, and (when {@code owned}) a controller
   * reference to the mirror.
   */
  public static ObjectMeta metadata(
      PypiMirror mirror, String name, String component, boolean owned) {
    ObjectMetaBuilder meta =
        new ObjectMetaBuilder()
            .withName(name)
            .withNamespace(mirror.getMetadata().getNamespace())
            .withLabels(labels(mirror.getMetadata().getName(), component));
    // offline (render) there is no uid to point at
    if (owned && mirror.getMetadata().getUid() != null) {
      meta.withOwnerReferences(ownerReference(mirror));
    }
    return meta.build();
  }

  /** The user and group the operator's own pods run as (the image's user). */
  public static final long NON_ROOT_ID = 65532;

  /** Pod Security restricted, for a pod the operator runs: non-root, seccomp RuntimeDefault. */
  public static PodSecurityContext restrictedPod() {
    return new PodSecurityContextBuilder()
        .withRunAsNonRoot(true)
        .withRunAsUser(NON_ROOT_ID)
        .withRunAsGroup(NON_ROOT_ID)
        .withFsGroup(NON_ROOT_ID)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .build();
  }

  /**
   * Pod Security restricted, for a container the operator runs: no privilege escalation, every
   * capability dropped, read-only root file system.
   */
  public static SecurityContext restrictedContainer() {
    return new SecurityContextBuilder()
        .withAllowPrivilegeEscalation(false)
        .withReadOnlyRootFilesystem(true)
        .withRunAsNonRoot(true)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .build();
  }

  /**
   * Upstream i's credentials as variables {@code <prefix><i>_USERNAME}, {@code _PASSWORD} and
   * {@code _TOKEN}: references to the optional keys {@code username}, {@code password} and {@code
   * token} of its Secret ({@code secrets}, by upstream; null: none), never values.
   */
  public static List<EnvVar> credentialVariables(String prefix, List<SecretRef> secrets) {
    List<EnvVar> env = new ArrayList<>();
    for (int i = 0; i < secrets.size(); i++) {
      SecretRef secret = secrets.get(i);
      if (secret == null) {
        continue;
      }
      for (String key : List.of("username", "password", "token")) {
        env.add(
            new EnvVarBuilder()
                .withName(prefix + i + "_" + key.toUpperCase(Locale.ROOT))
                .withNewValueFrom()
                .withNewSecretKeyRef(key, secret.getName(), true)
                .endValueFrom()
                .build());
      }
    }
    return env;
  }

  /** A controller reference to {@code owner} (a mirror, or the policy that made a mirror). */
  public static OwnerReference ownerReference(HasMetadata owner) {
    return new OwnerReferenceBuilder()
        .withApiVersion(owner.getApiVersion())
        .withKind(owner.getKind())
        .withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  /**
   * Whether {@code object} belongs to {@code mirror}: it names the mirror as owner, or it carries
   * our labels for this mirror and no controller but a PypiMirror of this name. A controller
   * reference to an earlier mirror of the same name (another uid) is a leftover that garbage
   * collection has not removed yet: ours to adopt.
   */
  public static boolean isOwnedBy(HasMetadata object, PypiMirror mirror) {
    ObjectMeta meta = object.getMetadata();
    Map<String, String> labels = meta.getLabels() == null ? Map.of() : meta.getLabels();
    boolean labelledOurs =
        MANAGED_BY.equals(labels.get(MANAGED_BY_LABEL))
            && mirror.getMetadata().getName().equals(labels.get(MIRROR_LABEL));
    List<OwnerReference> refs =
        meta.getOwnerReferences() == null ? List.of() : meta.getOwnerReferences();
    if (refs.stream().anyMatch(r -> Objects.equals(r.getUid(), mirror.getMetadata().getUid()))) {
      return true;
    }
    boolean controlledByOther =
        refs.stream()
            .anyMatch(
                r -> Boolean.TRUE.equals(r.getController()) && !isMirrorOfSameName(r, mirror));
    return labelledOurs && !controlledByOther;
  }

  /** An owner reference to a PypiMirror named like {@code mirror}, whatever its uid. */
  public static boolean isMirrorOfSameName(OwnerReference ref, PypiMirror mirror) {
    return "PypiMirror".equals(ref.getKind())
        && ref.getApiVersion() != null
        && ref.getApiVersion().startsWith(PypiMirror.GROUP + "/")
        && mirror.getMetadata().getName().equals(ref.getName());
  }

  public static boolean hasText(String s) {
    return s != null && !s.isBlank();
  }
}
