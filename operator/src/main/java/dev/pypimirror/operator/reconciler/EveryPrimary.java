package dev.pypimirror.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import java.util.stream.Collectors;

/**
 * Maps a change of a secondary to every primary in the cache: for secondaries that may matter to
 * all of them (a policy may govern any mirror; any namespace may be selected by any policy).
 */
final class EveryPrimary {
  private EveryPrimary() {}

  static <R extends HasMetadata, P extends HasMetadata> SecondaryToPrimaryMapper<R> of(
      IndexerResourceCache<P> primaries) {
    return secondary -> primaries.list().map(ResourceID::fromResource).collect(Collectors.toSet());
  }
}
