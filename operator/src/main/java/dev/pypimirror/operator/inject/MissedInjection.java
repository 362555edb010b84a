package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.api.Annotations;
import dev.pypimirror.operator.config.MirrorObjects;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;
import java.util.Set;

/**
 * Which admitted pods missed their mirror (the webhook was down and the opt-in entry fails open);
 * {@code cluster.MissedInjectionAudit} looks for them.
 */
public final class MissedInjection {
  private MissedInjection() {}

  /**
   * Whether a pod asked for a mirror and got neither the mirror nor a reason why not. Whether it
   * got the mirror is read from its content (a container mounting a mirror's ConfigMap at {@code
   * /etc/pypi-mirror}), not from the injected marker or any label its author could write.
   */
  public static boolean missed(Pod pod, String operatorNamespace) {
    Map<String, String> annotations =
        pod.getMetadata().getAnnotations() == null ? Map.of() : pod.getMetadata().getAnnotations();
    Map<String, String> labels =
        pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
    var facts = new MirrorSelector.PodFacts(annotations, labels, pod.getMetadata().getNamespace());
    if (MirrorSelector.neverInjected(facts, operatorNamespace, false).isPresent()) {
      return false;
    }
    boolean asked =
        annotations.containsKey(Annotations.MIRROR)
            || "true".equalsIgnoreCase(annotations.get(Annotations.INJECT));
    // a forged skipped marker hides nothing the author could not hide by not asking
    return asked && !annotations.containsKey(Annotations.SKIPPED) && !holdsMirrorConfig(pod);
  }

  /** Whether a container mounts a mirror's ConfigMap volume at the mirror's config directory. */
  static boolean holdsMirrorConfig(Pod pod) {
    if (pod.getSpec() == null || pod.getSpec().getVolumes() == null) {
      return false;
    }
    Set<String> mirrorVolumes = new java.util.HashSet<>();
    pod.getSpec().getVolumes().stream()
        .filter(v -> v.getConfigMap() != null && v.getConfigMap().getName() != null)
        .filter(v -> v.getConfigMap().getName().startsWith(MirrorObjects.NAME_PREFIX))
        .forEach(v -> mirrorVolumes.add(v.getName()));
    return java.util.stream.Stream.concat(
            pod.getSpec().getInitContainers().stream(), pod.getSpec().getContainers().stream())
        .flatMap(c -> c.getVolumeMounts().stream())
        .anyMatch(
            m ->
                mirrorVolumes.contains(m.getName())
                    && InjectedLayout.CONFIG_DIR.equals(
                        ContainerPatch.normalisedPath(m.getMountPath())));
  }
}
