package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.owned.OwnedKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * One informer per kind a mirror owns, each mapping an object to its mirror by the mirror label:
 * what the reconcilers read the objects they wrote through.
 */
final class OwnedInformers {
  private final List<OwnedKind<?>> kinds;
  private final Map<OwnedKind<?>, InformerEventSource<?, PypiMirror>> informers =
      new LinkedHashMap<>();

  OwnedInformers(List<OwnedKind<?>> kinds) {
    this.kinds = List.copyOf(kinds);
  }

  /** Makes the informers, once, when the reconciler prepares its event sources. */
  List<EventSource<?, PypiMirror>> eventSources(
      EventSourceContext<PypiMirror> context, SecondaryToPrimaryMapper<HasMetadata> toMirror) {
    for (OwnedKind<?> kind : kinds) {
      informers.put(kind, informer(context, kind, toMirror));
    }
    return List.copyOf(informers.values());
  }

  private static <R extends HasMetadata> InformerEventSource<R, PypiMirror> informer(
      EventSourceContext<PypiMirror> context,
      OwnedKind<R> kind,
      SecondaryToPrimaryMapper<HasMetadata> toMirror) {
    return Secondaries.labelled(
        context, kind.type(), kind.informerName(), kind.selector(), toMirror::toPrimaryResourceIDs);
  }

  /** The object of {@code kind} named {@code id} as the informer last saw it. */
  <R extends HasMetadata> Optional<R> get(OwnedKind<R> kind, ResourceID id) {
    return informer(kind).get(id);
  }

  /** The objects of {@code kind} the informer holds that pass {@code filter}. */
  <R extends HasMetadata> Stream<R> list(OwnedKind<R> kind, Predicate<R> filter) {
    return informer(kind).list(filter);
  }

  @SuppressWarnings("unchecked") // keyed by the kind, whose type the informer watches
  private <R extends HasMetadata> InformerEventSource<R, PypiMirror> informer(OwnedKind<R> kind) {
    InformerEventSource<?, PypiMirror> informer = informers.get(kind);
    if (informer == null) {
      throw new IllegalStateException(kind.informerName() + ": no informer (not prepared yet)");
    }
    return (InformerEventSource<R, PypiMirror>) informer;
  }
}
