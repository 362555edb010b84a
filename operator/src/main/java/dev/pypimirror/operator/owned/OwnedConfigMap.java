package dev.pypimirror.operator.owned;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.RenderedConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.Map;
import java.util.Objects;

/** The mirror's ConfigMap: the rendered files and keys; its data is replaced as a whole. */
public final class OwnedConfigMap extends OwnedKind<ConfigMap> {
  public static final OwnedConfigMap KIND = new OwnedConfigMap();

  private OwnedConfigMap() {
    super(ConfigMap.class, "configmaps", MirrorObjects.OWNED_SELECTOR);
  }

  public static ConfigMap desired(PypiMirror mirror, RenderedConfig rendered) {
    String name = mirror.getMetadata().getName();
    ObjectMeta meta =
        MirrorObjects.metadata(mirror, MirrorObjects.configMapName(name), "config", true);
    meta.setAnnotations(Map.of(MirrorObjects.CONFIG_HASH_ANNOTATION, rendered.hash()));
    return new ConfigMapBuilder().withMetadata(meta).withData(rendered.data()).build();
  }

  @Override
  public void merge(ConfigMap target, ConfigMap desired) {
    target.setData(desired.getData());
    target.setBinaryData(null);
  }

  /** The data differs although the hash annotation says it is the current rendering. */
  @Override
  public boolean handEdited(ConfigMap existing, ConfigMap desired) {
    return !Objects.equals(existing.getData(), desired.getData())
        && Objects.equals(hash(existing), hash(desired));
  }

  private static String hash(HasMetadata o) {
    var annotations = o.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(MirrorObjects.CONFIG_HASH_ANNOTATION);
  }
}
