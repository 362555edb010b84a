package dev.pypimirror.operator.policy;

import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicyStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Namespace;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What a policy's status says, decided from what its reconciler read: the namespaces it governs and
 * those a higher-ranked policy takes, the mirrors under it that break its rules, its conditions,
 * and which change deserves a Warning event.
 */
public final class PolicyStatuses {
  /** How many violating mirrors the status names (it counts all). */
  public static final int LISTED_VIOLATIONS = 10;

  public static final String OVERLAPPING = "Overlapping";
  public static final String REASON_NO_OVERLAP = "NoOverlap";
  public static final String REASON_GOVERNED_BY_ANOTHER_POLICY = "GovernedByAnotherPolicy";

  /** True when a setting of the spec does nothing as written (restrictEgress, allowedEnv...). */
  public static final String INEFFECTIVE_SETTINGS = "IneffectiveSettings";

  public static final String REASON_SETTINGS_WITHOUT_EFFECT = "SettingsWithoutEffect";
  public static final String REASON_EVERY_SETTING_APPLIES = "EverySettingApplies";

  private PolicyStatuses() {}

  /**
   * Where a policy reaches.
   *
   * @param governed the namespaces it selects and governs, in name order
   * @param overlaps the namespaces it selects that a higher-ranked policy governs, each as {@code
   *     namespace (policy)}, in order
   */
  public record Reach(SortedSet<String> governed, List<String> overlaps) {}

  /** Where {@code policy} reaches among {@code namespaces}, {@code policies} being all of them. */
  public static Reach reach(
      PypiMirrorPolicy policy,
      Collection<PypiMirrorPolicy> policies,
      Collection<Namespace> namespaces,
      String operatorNamespace) {
    String name = policy.getMetadata().getName();
    SortedSet<String> governed = new TreeSet<>();
    List<String> overlaps = new ArrayList<>();
    for (Namespace ns : namespaces) {
      String nsName = ns.getMetadata().getName();
      var labels = ns.getMetadata().getLabels();
      if (!Governance.selects(policy, nsName, labels, operatorNamespace)) {
        continue;
      }
      String winner =
          Governance.governing(policies, nsName, labels, operatorNamespace)
              .orElse(policy)
              .getMetadata()
              .getName();
      if (winner.equals(name)) {
        governed.add(nsName);
      } else {
        overlaps.add(nsName + " (" + winner + ")");
      }
    }
    overlaps.sort(null);
    return new Reach(governed, overlaps);
  }

  /**
   * The mirrors in {@code governed} namespaces that break the policy's rules, each as {@code
   * namespace/name: the first rule broken}, in order.
   */
  public static List<String> violatingMirrors(
      PypiMirrorPolicy policy, Set<String> governed, Collection<PypiMirror> mirrors) {
    List<String> violating = new ArrayList<>();
    for (PypiMirror mirror : mirrors) {
      String namespace = mirror.getMetadata().getNamespace();
      if (governed.contains(namespace)) {
        List<String> broken = PolicyRules.violations(policy, mirror.getSpec());
        if (!broken.isEmpty()) {
          violating.add(namespace + "/" + mirror.getMetadata().getName() + ": " + broken.get(0));
        }
      }
    }
    violating.sort(null);
    return violating;
  }

  /**
   * The status the policy reports next.
   *
   * @param made how many of its mirrors exist as it wants them
   * @param conflicts the {@code namespace/name} of PypiMirrors of its name it did not make
   * @param ineffective why each setting that does nothing as written does nothing
   * @param previous the status it reports now (lastTransitionTimes are carried from it)
   */
  public static PypiMirrorPolicyStatus status(
      PypiMirrorPolicy policy,
      Reach reach,
      int made,
      List<String> conflicts,
      List<String> violating,
      List<String> ineffective,
      PypiMirrorPolicyStatus previous,
      Instant now) {
    long generation = Optional.ofNullable(policy.getMetadata().getGeneration()).orElse(0L);
    PypiMirrorPolicyStatus status = new PypiMirrorPolicyStatus();
    status.setObservedGeneration(generation);
    status.setGovernedNamespaces(reach.governed().size());
    status.setNamespaces(
        reach.governed().stream().limit(PypiMirrorPolicyStatus.LISTED_NAMESPACES).toList());
    status.setMirrorsMade(made);
    status.setViolations(violating.size());
    status.setViolatingMirrors(violating.stream().limit(LISTED_VIOLATIONS).toList());
    status.setOverlaps(reach.overlaps());
    status.setConditions(
        List.of(
                ready(Governance.problems(policy), reach, made, conflicts, generation),
                overlapping(reach.overlaps(), generation),
                ineffective(ineffective, generation))
            .stream()
            .map(c -> Conditions.carryTransitionTime(c, previous.getConditions(), now))
            .toList());
    return status;
  }

  private static Condition ready(
      List<String> invalid, Reach reach, int made, List<String> conflicts, long generation) {
    if (!invalid.isEmpty()) {
      return Conditions.of(
          Conditions.READY,
          false,
          Conditions.REASON_INVALID_SPEC,
          "this policy governs no namespace and has no webhook entry until its selectors are fixed: "
              + String.join("; ", invalid),
          generation);
    }
    if (!conflicts.isEmpty()) {
      return Conditions.of(
          Conditions.READY,
          false,
          Conditions.REASON_CONFLICT,
          "PypiMirrors of this policy's name exist and were not made by it; left as they are: "
              + String.join(", ", conflicts),
          generation);
    }
    return Conditions.of(
        Conditions.READY,
        true,
        Conditions.REASON_READY,
        "governs %d namespace(s), made %d mirror(s)".formatted(reach.governed().size(), made),
        generation);
  }

  private static Condition overlapping(List<String> overlaps, long generation) {
    return overlaps.isEmpty()
        ? Conditions.of(
            OVERLAPPING,
            false,
            REASON_NO_OVERLAP,
            "no selected namespace is governed by another policy",
            generation)
        : Conditions.of(
            OVERLAPPING,
            true,
            REASON_GOVERNED_BY_ANOTHER_POLICY,
            "selected, but governed by a higher-ranked policy: " + String.join(", ", overlaps),
            generation);
  }

  private static Condition ineffective(List<String> ineffective, long generation) {
    return ineffective.isEmpty()
        ? Conditions.of(
            INEFFECTIVE_SETTINGS,
            false,
            REASON_EVERY_SETTING_APPLIES,
            "every setting of the spec takes effect",
            generation)
        : Conditions.of(
            INEFFECTIVE_SETTINGS,
            true,
            REASON_SETTINGS_WITHOUT_EFFECT,
            String.join("; ", ineffective),
            generation);
  }

  /**
   * The IneffectiveSettings condition to announce as a Warning event: when it has just become True,
   * or says something else than before (not on every reconcile while it stays the same).
   */
  public static Optional<Condition> ineffectiveWarning(
      PypiMirrorPolicyStatus previous, PypiMirrorPolicyStatus next) {
    Optional<Condition> now =
        next.condition(INEFFECTIVE_SETTINGS).filter(c -> "True".equals(c.getStatus()));
    String before =
        previous
            .condition(INEFFECTIVE_SETTINGS)
            .filter(c -> "True".equals(c.getStatus()))
            .map(Condition::getMessage)
            .orElse(null);
    return now.filter(c -> !c.getMessage().equals(before));
  }

  /**
   * The Ready condition to announce as a Warning event: when Ready has just become InvalidSpec or
   * Conflict (not on every reconcile while it stays so).
   */
  public static Optional<Condition> warning(
      PypiMirrorPolicyStatus previous, PypiMirrorPolicyStatus next) {
    Condition ready = next.condition(Conditions.READY).orElseThrow();
    String before = previous.condition(Conditions.READY).map(Condition::getReason).orElse(null);
    boolean warns =
        Conditions.REASON_INVALID_SPEC.equals(ready.getReason())
            || Conditions.REASON_CONFLICT.equals(ready.getReason());
    return warns && !ready.getReason().equals(before) ? Optional.of(ready) : Optional.empty();
  }
}
