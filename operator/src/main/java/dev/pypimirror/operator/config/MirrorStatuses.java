package dev.pypimirror.operator.config;

import static dev.pypimirror.operator.api.Conditions.CACHE_READY;
import static dev.pypimirror.operator.api.Conditions.CONFIG_RENDERED;
import static dev.pypimirror.operator.api.Conditions.DEPENDENCY_CONFUSION_RISK;
import static dev.pypimirror.operator.api.Conditions.READY;

import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a PypiMirror's conditions say, decided from what its reconciler rendered, wrote and found:
 * the ConfigMap step, the cache claim, readiness, and which change of Ready is announced.
 */
public final class MirrorStatuses {
  private MirrorStatuses() {}

  /** A step's result as a condition: usable, reason, message. */
  public record Step(boolean usable, String reason, String message) {}

  /** How far a cache is: of no use yet, mountable by pods (Pending, or syncing), or ready. */
  public enum Availability {
    UNAVAILABLE,
    MOUNTABLE,
    READY
  }

  /**
   * What the cache looks like: how available it is, and when to look again because no informer will
   * tell (null: an informer will).
   */
  public record CacheState(
      Availability availability, String reason, String message, Duration recheckAfter) {
    /** Whether pods may mount it (Bound or Pending). */
    public boolean usable() {
      return availability != Availability.UNAVAILABLE;
    }

    /** Whether it is ready: bound (and synced, for a synced cache), or disabled. */
    public boolean bound() {
      return availability == Availability.READY;
    }

    /** No cache: nothing to wait for. */
    public static CacheState disabled() {
      return new CacheState(
          Availability.READY, Conditions.REASON_CACHE_DISABLED, "cache disabled", null);
    }

    /** The cache PVC's name is taken by an object the mirror does not own. */
    public static CacheState conflict(String claimName) {
      Step c = MirrorStatuses.conflict("PersistentVolumeClaim", claimName);
      return new CacheState(Availability.UNAVAILABLE, c.reason(), c.message(), null);
    }

    /** The cache as {@code claim} (null: not found) shows it. */
    public static CacheState of(
        String claimName, PersistentVolumeClaim claim, Duration recheckIfNotBound) {
      if (claim == null) {
        return new CacheState(
            Availability.UNAVAILABLE,
            Conditions.REASON_CLAIM_NOT_FOUND,
            "PersistentVolumeClaim " + claimName + " not found",
            recheckIfNotBound);
      }
      String phase = claim.getStatus() == null ? null : claim.getStatus().getPhase();
      if ("Bound".equals(phase)) {
        return new CacheState(
            Availability.READY,
            Conditions.REASON_BOUND,
            "cache PVC " + claimName + " is Bound",
            null);
      }
      if ("Lost".equals(phase)) {
        return new CacheState(
            Availability.UNAVAILABLE,
            Conditions.REASON_CLAIM_LOST,
            "cache PVC " + claimName + " lost its volume",
            recheckIfNotBound);
      }
      return new CacheState(
          Availability.MOUNTABLE,
          Conditions.REASON_PENDING,
          "cache PVC "
              + claimName
              + " is Pending (a WaitForFirstConsumer storage class binds it when the first build pod"
              + " mounts it)",
          recheckIfNotBound);
    }
  }

  /** The three conditions of a spec that cannot be rendered: each says why. */
  public static List<Condition> invalidSpec(String problem, long generation) {
    String message = "invalid spec: " + problem;
    return List.of(
        Conditions.of(CONFIG_RENDERED, false, Conditions.REASON_INVALID_SPEC, message, generation),
        Conditions.of(CACHE_READY, false, Conditions.REASON_INVALID_SPEC, message, generation),
        Conditions.of(READY, false, Conditions.REASON_INVALID_SPEC, message, generation));
  }

  /** The ConfigMap holds the rendered files. */
  public static Step rendered(String configMapName, RenderedConfig rendered) {
    return new Step(
        true,
        Conditions.REASON_RENDERED,
        "ConfigMap "
            + configMapName
            + " holds "
            + String.join(
                ", ", rendered.data().keySet().stream().filter(k -> k.contains(".")).toList()));
  }

  /** An object of the mirror's name for {@code kind} exists that the mirror does not own. */
  public static Step conflict(String kind, String name) {
    return new Step(
        false,
        Conditions.REASON_CONFLICT,
        kind
            + " "
            + name
            + " exists and is not owned by this mirror; it is left as it is. Delete or rename it to let"
            + " the mirror use the name.");
  }

  /** ProxyReady from the proxy's Deployment: True once it is Available. */
  public static Step proxy(Deployment deployment) {
    String name = deployment.getMetadata().getName();
    var available =
        deployment.getStatus() == null || deployment.getStatus().getConditions() == null
            ? Optional.<DeploymentCondition>empty()
            : deployment.getStatus().getConditions().stream()
                .filter(c -> "Available".equals(c.getType()))
                .findFirst();
    if (available.isPresent() && "True".equals(available.get().getStatus())) {
      return new Step(
          true, Conditions.REASON_AVAILABLE, "proxy Deployment " + name + " is Available");
    }
    return new Step(
        false,
        Conditions.REASON_UNAVAILABLE,
        "proxy Deployment "
            + name
            + " is not Available"
            + available
                .map(c -> " (" + c.getReason() + ": " + c.getMessage() + ")")
                .orElse(" yet"));
  }

  /** No proxy runs for a mirror its governing policy forbids. */
  public static Step proxyForbidden(List<String> violations) {
    return new Step(
        false,
        Conditions.REASON_POLICY_VIOLATION,
        "no caching proxy: " + String.join("; ", violations));
  }

  /**
   * Ready: the first step that is not usable says why; else the governing policy's violations
   * (empty: none); else the indexes pip uses and the cache.
   */
  public static Step ready(
      Step config, CacheState cache, RenderedConfig rendered, List<String> violations) {
    if (!config.usable()) {
      return config;
    }
    if (!cache.usable()) {
      return new Step(false, cache.reason(), cache.message());
    }
    if (!violations.isEmpty()) {
      return new Step(false, Conditions.REASON_POLICY_VIOLATION, String.join("; ", violations));
    }
    return new Step(
        true,
        Conditions.REASON_READY,
        "pip uses " + String.join(", ", rendered.indexUrls()) + "; " + cache.message());
  }

  /**
   * DependencyConfusionRisk of a renderable spec: True (not blocking) when pip gets the public
   * index beside a private one, saying why and what avoids it; else False, saying what pip gets.
   */
  public static Condition dependencyConfusion(PypiMirrorSpec spec, long generation) {
    List<String> pipIndexes = MirrorConfigRenderer.pipIndexes(spec);
    return DependencyConfusion.risk(spec)
        .map(
            why ->
                Conditions.of(
                    DEPENDENCY_CONFUSION_RISK,
                    true,
                    Conditions.REASON_PUBLIC_BESIDE_PRIVATE,
                    why,
                    generation))
        .orElseGet(
            () ->
                pipIndexes.size() == 1
                    ? Conditions.of(
                        DEPENDENCY_CONFUSION_RISK,
                        false,
                        Conditions.REASON_SINGLE_INDEX,
                        "pip gets one index: " + pipIndexes.get(0),
                        generation)
                    : Conditions.of(
                        DEPENDENCY_CONFUSION_RISK,
                        false,
                        Conditions.REASON_NO_PUBLIC_INDEX,
                        "pip gets no public index: " + String.join(", ", pipIndexes),
                        generation));
  }

  /** The conditions stamped with their transition times, carried from {@code previous}. */
  public static List<Condition> stamped(
      List<Condition> conditions, PypiMirrorStatus previous, Instant now) {
    return conditions.stream()
        .map(c -> Conditions.carryTransitionTime(c, previous.getConditions(), now))
        .toList();
  }

  /**
   * The Ready condition to announce as an event (Normal when True, else Warning): when its status
   * or reason changed, or on the first status.
   */
  public static Optional<Condition> readyChange(PypiMirrorStatus before, PypiMirrorStatus after) {
    Condition was = before.condition(READY).orElse(null);
    Condition now = after.condition(READY).orElseThrow();
    boolean same =
        was != null
            && Objects.equals(was.getStatus(), now.getStatus())
            && Objects.equals(was.getReason(), now.getReason());
    return same ? Optional.empty() : Optional.of(now);
  }

  /** DependencyConfusionRisk when it has just become True (announced as a Warning event). */
  public static Optional<Condition> riskRaised(PypiMirrorStatus before, PypiMirrorStatus after) {
    return raised(DEPENDENCY_CONFUSION_RISK, before, after);
  }

  /** The condition {@code type} when it turned True between the two statuses. */
  public static Optional<Condition> raised(
      String type, PypiMirrorStatus before, PypiMirrorStatus after) {
    boolean was = before.condition(type).map(MirrorStatuses::isTrue).orElse(false);
    return was ? Optional.empty() : after.condition(type).filter(MirrorStatuses::isTrue);
  }

  /**
   * ProxyCacheFull from what the proxy said: True (full: files pass through unstored), False, or
   * Unknown when it could not be asked.
   */
  public static Condition proxyCacheFull(Optional<Boolean> full, String detail, long generation) {
    if (full.isEmpty()) {
      return new ConditionBuilder(
              Conditions.of(
                  Conditions.PROXY_CACHE_FULL,
                  false,
                  Conditions.REASON_UNREACHABLE,
                  "the proxy could not be asked whether its cache is full: " + detail,
                  generation))
          .withStatus("Unknown")
          .build();
    }
    return full.get()
        ? Conditions.of(
            Conditions.PROXY_CACHE_FULL,
            true,
            Conditions.REASON_VOLUME_FULL,
            "the cache's volume is full even after evicting what the proxy fetched: files pass"
                + " through to builds unstored (pypimirror_proxy_cache_full). Grow spec.cache.size"
                + " (the claim grows if its StorageClass allows expansion), or remove files the"
                + " sync put there from spec.cache.sync.requirements",
            generation)
        : Conditions.of(
            Conditions.PROXY_CACHE_FULL,
            false,
            Conditions.REASON_HAS_ROOM,
            "the proxy stores what it fetches",
            generation);
  }

  private static boolean isTrue(Condition condition) {
    return "True".equals(condition.getStatus());
  }
}
