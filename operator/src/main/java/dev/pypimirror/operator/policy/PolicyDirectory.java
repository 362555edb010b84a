package dev.pypimirror.operator.policy;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import java.util.Optional;

/** Which PypiMirrorPolicy governs a namespace (informer caches in the cluster; a file offline). */
public interface PolicyDirectory {
  Optional<PypiMirrorPolicy> governing(String namespace);

  PolicyDirectory NONE = namespace -> Optional.empty();
}
