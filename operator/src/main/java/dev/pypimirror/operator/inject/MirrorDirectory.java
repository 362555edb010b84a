package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.api.PypiMirror;
import java.util.List;
import java.util.Optional;

/** Read access to the PypiMirrors known to the operator (its informer cache; a file offline). */
public interface MirrorDirectory {
  Optional<PypiMirror> get(String namespace, String name);

  List<PypiMirror> inNamespace(String namespace);
}
