package dev.pypimirror.operator.metrics;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.CacheStatus;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.OptionalDouble;

/**
 * What one mirror's series say, read from the object alone (the operator does not mount the cache):
 * the cache's size as its last sync counted it ({@code status.cache.sizeBytes}), the size its spec
 * requests for the PVC, when the last sync succeeded, whether the last one failed, and whether its
 * caching proxy said its volume is full (condition ProxyCacheFull, asked every minute). Empty where
 * the mirror has no such figure (no cache, an existing claim, never synced, no sync, no proxy or
 * one that could not be asked).
 */
record MirrorFigures(
    String namespace,
    String name,
    OptionalDouble cacheBytes,
    OptionalDouble requestedBytes,
    OptionalDouble lastSyncSeconds,
    OptionalDouble syncFailing,
    OptionalDouble proxyCacheFull) {

  static MirrorFigures of(PypiMirror mirror) {
    CacheSpec cache = mirror.getSpec() == null ? null : mirror.getSpec().getCache();
    CacheStatus status =
        mirror.getStatus() == null || mirror.getStatus().getCache() == null
            ? null
            : mirror.getStatus().getCache();
    boolean enabled = cache != null && cache.isEnabled();
    boolean synced = enabled && cache.isSynced();
    return new MirrorFigures(
        mirror.getMetadata().getNamespace(),
        mirror.getMetadata().getName(),
        enabled && status != null && status.getSizeBytes() != null
            ? OptionalDouble.of(status.getSizeBytes())
            : OptionalDouble.empty(),
        enabled && cache.getExistingClaim() == null
            ? bytes(cache.getSize())
            : OptionalDouble.empty(),
        synced && status != null ? epochSeconds(status.getLastSyncTime()) : OptionalDouble.empty(),
        synced ? OptionalDouble.of(failing(mirror) ? 1 : 0) : OptionalDouble.empty(),
        proxyCacheFull(mirror));
  }

  private static OptionalDouble proxyCacheFull(PypiMirror mirror) {
    return mirror.getStatus() == null
        ? OptionalDouble.empty()
        : mirror
            .getStatus()
            .condition(Conditions.PROXY_CACHE_FULL)
            .map(c -> c.getStatus())
            .filter(s -> s.equals("True") || s.equals("False"))
            .map(s -> OptionalDouble.of(s.equals("True") ? 1 : 0))
            .orElse(OptionalDouble.empty());
  }

  String key() {
    return namespace + '/' + name;
  }

  private static boolean failing(PypiMirror mirror) {
    return mirror.getStatus() != null
        && mirror
            .getStatus()
            .condition(Conditions.CACHE_READY)
            .map(c -> Conditions.REASON_SYNC_FAILED.equals(c.getReason()))
            .orElse(false);
  }

  private static OptionalDouble bytes(String quantity) {
    try {
      return quantity == null
          ? OptionalDouble.empty()
          : OptionalDouble.of(Quantity.getAmountInBytes(new Quantity(quantity)).doubleValue());
    } catch (IllegalArgumentException | ArithmeticException e) {
      return OptionalDouble.empty();
    }
  }

  private static OptionalDouble epochSeconds(String timestamp) {
    try {
      return timestamp == null
          ? OptionalDouble.empty()
          : OptionalDouble.of(Instant.parse(timestamp).getEpochSecond());
    } catch (DateTimeParseException e) {
      return OptionalDouble.empty();
    }
  }
}
