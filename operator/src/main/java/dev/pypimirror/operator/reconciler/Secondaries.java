package dev.pypimirror.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;

/** The informers through which a reconciler reads the objects its primaries depend on. */
final class Secondaries {
  private Secondaries() {}

  /**
   * Objects of {@code type} carrying the labels {@code selector} names, in the namespaces the
   * controller watches: the ones the operator made (it never lists everyone's ConfigMaps or PVCs).
   */
  static <R extends HasMetadata, P extends HasMetadata> InformerEventSource<R, P> labelled(
      EventSourceContext<P> context,
      Class<R> type,
      String name,
      String selector,
      SecondaryToPrimaryMapper<R> toPrimaries) {
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(type, context.getPrimaryResourceClass())
            .withName(name)
            .withLabelSelector(selector)
            .withSecondaryToPrimaryMapper(toPrimaries)
            .build(),
        context);
  }

  /** Every object of {@code type} in the cluster (namespaces, policies, every mirror). */
  static <R extends HasMetadata, P extends HasMetadata> InformerEventSource<R, P> everywhere(
      EventSourceContext<P> context,
      Class<R> type,
      String name,
      SecondaryToPrimaryMapper<R> toPrimaries) {
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(type, context.getPrimaryResourceClass())
            .withName(name)
            .withWatchAllNamespaces()
            .withSecondaryToPrimaryMapper(toPrimaries)
            .build(),
        context);
  }
}
