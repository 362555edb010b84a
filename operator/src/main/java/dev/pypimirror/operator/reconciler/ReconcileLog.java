package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.api.ConditionedStatus;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirrorPolicyStatus;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line per reconcile: what changed in the object's status (INFO), or that nothing did
 * (DEBUG, since every object is reconciled again at least every 10 minutes).
 */
final class ReconcileLog {
  private static final Logger LOG = LoggerFactory.getLogger(ReconcileLog.class);

  private ReconcileLog() {}

  static void mirror(HasMetadata mirror, PypiMirrorStatus before, PypiMirrorStatus after) {
    List<String> changes = conditionChanges(before, after);
    changed(changes, "configHash", prefix(before.getConfigHash()), prefix(after.getConfigHash()));
    changed(changes, "indexUrls", before.getIndexUrls(), after.getIndexUrls());
    changed(changes, "claimName", before.getClaimName(), after.getClaimName());
    changed(changes, "cache", before.getCache(), after.getCache());
    log(mirror, after, changes);
  }

  static void policy(
      HasMetadata policy, PypiMirrorPolicyStatus before, PypiMirrorPolicyStatus after) {
    List<String> changes = conditionChanges(before, after);
    changed(
        changes,
        "governedNamespaces",
        before.getGovernedNamespaces(),
        after.getGovernedNamespaces());
    var added = new TreeSet<>(after.getNamespaces());
    added.removeAll(before.getNamespaces());
    var removed = new TreeSet<>(before.getNamespaces());
    removed.removeAll(after.getNamespaces());
    if (!added.isEmpty()) {
      changes.add("now governs " + String.join(", ", added));
    }
    if (!removed.isEmpty()) {
      changes.add("no longer governs " + String.join(", ", removed));
    }
    changed(changes, "mirrorsMade", before.getMirrorsMade(), after.getMirrorsMade());
    changed(changes, "violations", before.getViolations(), after.getViolations());
    changed(changes, "overlaps", before.getOverlaps(), after.getOverlaps());
    log(policy, after, changes);
  }

  private static void log(HasMetadata object, ConditionedStatus after, List<String> changes) {
    String name =
        object.getKind()
            + " "
            + (object.getMetadata().getNamespace() == null
                ? ""
                : object.getMetadata().getNamespace() + "/")
            + object.getMetadata().getName();
    String ready =
        after
            .condition(Conditions.READY)
            .map(c -> "Ready=" + c.getStatus() + " (" + c.getReason() + ")")
            .orElse("no Ready condition");
    if (changes.isEmpty()) {
      LOG.debug("{} generation {}: unchanged, {}", name, after.getObservedGeneration(), ready);
    } else {
      LOG.info(
          "{} generation {}: {}; {}",
          name,
          after.getObservedGeneration(),
          String.join("; ", changes),
          ready);
    }
  }

  private static List<String> conditionChanges(ConditionedStatus before, ConditionedStatus after) {
    List<String> changes = new ArrayList<>();
    for (Condition now : after.getConditions()) {
      Condition was = before.condition(now.getType()).orElse(null);
      if (was == null) {
        changes.add("%s %s (%s)".formatted(now.getType(), now.getStatus(), now.getReason()));
      } else if (!Objects.equals(was.getStatus(), now.getStatus())
          || !Objects.equals(was.getReason(), now.getReason())) {
        changes.add(
            "%s %s (%s) -> %s (%s): %s"
                .formatted(
                    now.getType(),
                    was.getStatus(),
                    was.getReason(),
                    now.getStatus(),
                    now.getReason(),
                    now.getMessage()));
      }
    }
    return changes;
  }

  private static void changed(List<String> changes, String field, Object before, Object after) {
    if (!Objects.equals(before, after)) {
      changes.add(field + " " + before + " -> " + after);
    }
  }

  private static String prefix(String hash) {
    return hash == null ? null : hash.substring(0, Math.min(12, hash.length()));
  }
}
