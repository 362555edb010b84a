package dev.pypimirror.operator.policy;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import java.util.Optional;

/** Which PypiMirrorPolicy governs a namespace (informer caches in the cluster; a file offline). */
public interface PolicyDirectory {
  Optional<PypiMirrorPolicy> governing(String namespace);

  /**
   * As {@link #governing(String)} for an admission the API server sent through the webhook entry of
   * policy {@code routedBy}: it matched that policy's namespaceSelector against the namespace's
   * labels a moment ago, so a namespace or policy this directory has not seen yet, or whose labels
   * it holds say otherwise, is looked up again. Throws when that lookup fails: the caller refuses.
   */
  default Optional<PypiMirrorPolicy> governing(String namespace, String routedBy) {
    return governing(namespace);
  }

  /**
   * Whether {@link #governing(String, String)} answers from memory, without a call to the API
   * server (which a caller on an event loop must not wait for).
   */
  default boolean answersAtOnce(String namespace, String routedBy) {
    return true;
  }

  PolicyDirectory NONE = namespace -> Optional.empty();
}
