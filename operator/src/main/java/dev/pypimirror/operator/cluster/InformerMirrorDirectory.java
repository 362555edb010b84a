package dev.pypimirror.operator.cluster;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.RenderCache;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.MirrorDirectory;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.List;
import java.util.Optional;

/**
 * PypiMirrors from an informer's cache: the webhook never calls the API server per admission. It
 * watches PypiMirrors only, in all namespaces (or the operator's watched ones).
 */
public final class InformerMirrorDirectory implements MirrorDirectory, AutoCloseable {
  private final SharedIndexInformer<PypiMirror> informer;
  private final RenderCache renders = new RenderCache();

  /** Watches nothing yet: {@link #start} does. */
  public InformerMirrorDirectory(KubernetesClient client) {
    this.informer = client.resources(PypiMirror.class).inAnyNamespace().runnableInformer(0);
  }

  /** Starts the informer and returns at once; {@link #hasSynced()} tells when the cache is full. */
  public InformerMirrorDirectory start() {
    informer.start();
    return this;
  }

  public boolean hasSynced() {
    return informer.hasSynced();
  }

  @Override
  public Optional<PypiMirror> get(String namespace, String name) {
    return Optional.ofNullable(
        informer.getStore().getByKey(Cache.namespaceKeyFunc(namespace, name)));
  }

  @Override
  public List<PypiMirror> inNamespace(String namespace) {
    return informer.getIndexer().byIndex(Cache.NAMESPACE_INDEX, namespace);
  }

  @Override
  public RenderedConfig rendered(PypiMirror mirror) {
    return renders.render(mirror);
  }

  /** Every mirror in the cache. */
  public List<PypiMirror> all() {
    return informer.getStore().list();
  }

  /** Stops the informer; a second call, or one before {@link #start}, does nothing more. */
  @Override
  public void close() {
    informer.close();
  }
}
