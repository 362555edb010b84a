package dev.pypimirror.operator.api;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;

/** Condition types and reasons of a PypiMirror, and the rule for carrying transition times. */
public final class Conditions {
  public static final String READY = "Ready";
  public static final String CONFIG_RENDERED = "ConfigRendered";
  public static final String CACHE_READY = "CacheReady";

  /** serve: Proxy: the proxy's Deployment is Available. */
  public static final String PROXY_READY = "ProxyReady";

  /**
   * serve: Proxy, while the proxy is Ready: True when its cache's volume is full and files pass
   * through to builds unstored; Unknown when the proxy could not be asked.
   */
  public static final String PROXY_CACHE_FULL = "ProxyCacheFull";

  public static final String REASON_VOLUME_FULL = "VolumeFull";
  public static final String REASON_HAS_ROOM = "HasRoom";
  public static final String REASON_UNREACHABLE = "Unreachable";

  /** Not blocking: pip gets the public index beside a private one (see DependencyConfusion). */
  public static final String DEPENDENCY_CONFUSION_RISK = "DependencyConfusionRisk";

  public static final String REASON_READY = "Ready";
  public static final String REASON_RENDERED = "Rendered";
  public static final String REASON_INVALID_SPEC = "InvalidSpec";
  public static final String REASON_CONFLICT = "Conflict";
  public static final String REASON_CACHE_DISABLED = "CacheDisabled";
  public static final String REASON_BOUND = "Bound";
  public static final String REASON_PENDING = "Pending";
  public static final String REASON_CLAIM_NOT_FOUND = "ClaimNotFound";
  public static final String REASON_CLAIM_LOST = "ClaimLost";
  public static final String REASON_POLICY_VIOLATION = "PolicyViolation";

  /** ProxyReady: the proxy's Deployment is (not) Available. */
  public static final String REASON_AVAILABLE = "Available";

  public static final String REASON_UNAVAILABLE = "Unavailable";

  /** DependencyConfusionRisk: True, False with one index for pip, False without a public index. */
  public static final String REASON_PUBLIC_BESIDE_PRIVATE = "PublicIndexBesidePrivate";

  public static final String REASON_SINGLE_INDEX = "SingleIndexForPip";
  public static final String REASON_NO_PUBLIC_INDEX = "NoPublicIndex";

  /** CacheReady with a cache sync. */
  public static final String REASON_SYNCING = "Syncing";

  public static final String REASON_SYNCED = "Synced";
  public static final String REASON_SYNC_FAILED = "SyncFailed";
  public static final String REASON_INVALID_REQUIREMENTS = "InvalidRequirements";

  private Conditions() {}

  public static Condition of(
      String type, boolean status, String reason, String message, long generation) {
    return new ConditionBuilder()
        .withType(type)
        .withStatus(status ? "True" : "False")
        .withReason(reason)
        .withMessage(message)
        .withObservedGeneration(generation)
        .build();
  }

  /**
   * Stamps {@code next} with a lastTransitionTime: the previous one when status, reason and message
   * are unchanged, else now.
   */
  public static Condition carryTransitionTime(
      Condition next, List<Condition> previous, Instant now) {
    String time =
        previous.stream()
            .filter(p -> p.getType().equals(next.getType()))
            .filter(p -> Objects.equals(p.getStatus(), next.getStatus()))
            .filter(p -> Objects.equals(p.getReason(), next.getReason()))
            .filter(p -> Objects.equals(p.getMessage(), next.getMessage()))
            .map(Condition::getLastTransitionTime)
            .filter(Objects::nonNull)
            .findFirst()
            .orElse(now.truncatedTo(ChronoUnit.SECONDS).toString());
    return new ConditionBuilder(next).withLastTransitionTime(time).build();
  }
}
