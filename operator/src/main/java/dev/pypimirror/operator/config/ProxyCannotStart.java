package dev.pypimirror.operator.config;

import dev.pypimirror.operator.config.MirrorStatuses.Step;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * ProxyReady while the proxy's pods exit at start: what the last exit said. A pod counts only
 * through the controller chain the Deployment and ReplicaSet controllers keep (pod, its controlling
 * ReplicaSet, that one's controlling Deployment: the proxy's, by uid); labels, which anyone who can
 * create a pod in the namespace can copy, decide nothing.
 */
public final class ProxyCannotStart {
  private ProxyCannotStart() {}

  /** Reason of ProxyReady while the proxy's pods exit at start, saying why. */
  public static final String REASON = "CannotStart";

  /** The most of a proxy's termination message shown in the condition. */
  public static final int MAX_MESSAGE = 512;

  /**
   * ProxyReady when a pod of {@code proxy} last exited with a termination message starting with
   * {@code prefix} (a line the proxy writes, never a secret's value): its first line, cut to
   * {@value #MAX_MESSAGE} characters.
   *
   * @param replicaSets the ReplicaSets that may stand between {@code proxy} and its pods
   * @param pods candidates, such as those carrying the proxy's labels
   */
  public static Optional<Step> step(
      Deployment proxy, Collection<ReplicaSet> replicaSets, Stream<Pod> pods, String prefix) {
    Set<String> proxysReplicaSets =
        replicaSets.stream()
            .filter(rs -> controlledBy(rs, proxy, "Deployment"))
            .map(rs -> rs.getMetadata().getUid())
            .filter(Objects::nonNull)
            .collect(Collectors.toSet());
    return pods.filter(pod -> sameNamespace(pod, proxy))
        .filter(
            pod ->
                controller(pod)
                    .filter(ref -> "ReplicaSet".equals(ref.getKind()))
                    .filter(ref -> proxysReplicaSets.contains(ref.getUid()))
                    .isPresent())
        .filter(p -> p.getStatus() != null && p.getStatus().getContainerStatuses() != null)
        .flatMap(p -> p.getStatus().getContainerStatuses().stream())
        .flatMap(c -> Stream.of(c.getState(), c.getLastState()))
        .filter(state -> state != null && state.getTerminated() != null)
        .map(state -> String.valueOf(state.getTerminated().getMessage()))
        .filter(message -> message.startsWith(prefix))
        .findFirst()
        .map(message -> new Step(false, REASON, firstLine(message, MAX_MESSAGE)));
  }

  /**
   * Whether {@code object}'s controller reference names {@code owner} of {@code kind} by uid, in
   * the owner's namespace (a reference never crosses namespaces). An owner without a uid (never
   * stored) controls nothing.
   */
  static boolean controlledBy(HasMetadata object, HasMetadata owner, String kind) {
    String uid = owner.getMetadata().getUid();
    return uid != null
        && sameNamespace(object, owner)
        && controller(object)
            .filter(ref -> kind.equals(ref.getKind()) && uid.equals(ref.getUid()))
            .isPresent();
  }

  /**
   * The one owner reference with {@code controller: true}; none when there are several, which the
   * API server refuses anyway.
   */
  static Optional<OwnerReference> controller(HasMetadata object) {
    List<OwnerReference> refs =
        Optional.ofNullable(object.getMetadata().getOwnerReferences()).orElse(List.of()).stream()
            .filter(ref -> Boolean.TRUE.equals(ref.getController()))
            .toList();
    return refs.size() == 1 ? Optional.of(refs.get(0)) : Optional.empty();
  }

  private static boolean sameNamespace(HasMetadata a, HasMetadata b) {
    return Objects.equals(a.getMetadata().getNamespace(), b.getMetadata().getNamespace());
  }

  private static String firstLine(String text, int most) {
    String line = text.lines().findFirst().orElse("");
    return line.length() <= most ? line : line.substring(0, most);
  }
}
