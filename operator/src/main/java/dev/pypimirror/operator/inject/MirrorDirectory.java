package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.RenderedConfig;
import java.util.List;
import java.util.Optional;

/** Read access to the PypiMirrors known to the operator (its informer cache; a file offline). */
public interface MirrorDirectory {
  Optional<PypiMirror> get(String namespace, String name);

  List<PypiMirror> inNamespace(String namespace);

  /** These mirrors, each in its namespace (offline: mirrors read from files). */
  static MirrorDirectory of(List<PypiMirror> mirrors) {
    List<PypiMirror> known = List.copyOf(mirrors);
    return new MirrorDirectory() {
      @Override
      public Optional<PypiMirror> get(String namespace, String name) {
        return inNamespace(namespace).stream()
            .filter(m -> m.getMetadata().getName().equals(name))
            .findFirst();
      }

      @Override
      public List<PypiMirror> inNamespace(String namespace) {
        return known.stream()
            .filter(m -> namespace.equals(m.getMetadata().getNamespace()))
            .toList();
      }
    };
  }

  /** The mirror's rendered config (a directory backed by a cache may keep it). */
  default RenderedConfig rendered(PypiMirror mirror) {
    return MirrorConfigRenderer.render(mirror);
  }
}
