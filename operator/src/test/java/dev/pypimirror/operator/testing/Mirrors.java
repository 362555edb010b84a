package dev.pypimirror.operator.testing;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PipSpec;
import dev.pypimirror.operator.api.PublicIndexSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.SecretRef;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.ArrayList;
import java.util.List;

/** Small builders for PypiMirror specs in tests. */
public final class Mirrors {
  private Mirrors() {}

  public static PypiMirrorSpec spec(IndexSpec... indexes) {
    PypiMirrorSpec spec = new PypiMirrorSpec();
    spec.setIndexes(new ArrayList<>(List.of(indexes)));
    return spec;
  }

  public static IndexSpec https(String url) {
    return new IndexSpec(url, false);
  }

  public static IndexSpec trustedHttp(String url) {
    return new IndexSpec(url, true);
  }

  public static PypiMirrorSpec withCache(PypiMirrorSpec spec, String mountPath) {
    CacheSpec cache = new CacheSpec();
    cache.setEnabled(true);
    cache.setMountPath(mountPath);
    spec.setCache(cache);
    return spec;
  }

  /** The cache on, served through the caching proxy (serve: Proxy). */
  public static PypiMirrorSpec withProxy(PypiMirrorSpec spec) {
    withCache(spec, CacheSpec.DEFAULT_MOUNT_PATH);
    spec.getCache().setServe(CacheSpec.Serve.Proxy);
    return spec;
  }

  /** {@code index} with its credentials in Secret {@code secret}. */
  public static IndexSpec withCredentials(IndexSpec index, String secret) {
    index.setCredentialsSecret(new SecretRef(secret));
    return index;
  }

  public static PypiMirrorSpec withPublic(PypiMirrorSpec spec, boolean enabled, String url) {
    PublicIndexSpec publicIndex = new PublicIndexSpec();
    publicIndex.setEnabled(enabled);
    publicIndex.setUrl(url);
    spec.setPublicIndex(publicIndex);
    return spec;
  }

  public static PypiMirrorSpec withPip(PypiMirrorSpec spec, Integer retries, Integer timeout) {
    PipSpec pip = new PipSpec();
    pip.setRetries(retries);
    pip.setTimeoutSeconds(timeout);
    spec.setPip(pip);
    return spec;
  }

  public static PypiMirror mirror(String namespace, String name, PypiMirrorSpec spec) {
    PypiMirror mirror = new PypiMirror();
    mirror.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    mirror.setSpec(spec);
    return mirror;
  }
}
