package dev.pypimirror.operator.policy;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static dev.pypimirror.operator.testing.Policies.policy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicyStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A policy's status as a function of what its reconciler read and wrote. */
class PolicyStatusesTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final Instant T1 = Instant.parse("2026-01-01T01:00:00Z");

  static Namespace ns(String name, Map<String, String> labels) {
    return new NamespaceBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(labels)
        .endMetadata()
        .build();
  }

  static final List<Namespace> CLUSTER =
      List.of(
          ns("ml-a", Map.of("team", "ml")),
          ns("ml-b", Map.of("team", "ml", "tier", "gpu")),
          ns("web", Map.of("team", "web")),
          ns("kube-system", Map.of("team", "ml")),
          ns("pypi-mirror-system", Map.of("team", "ml")));

  static PypiMirrorPolicy ranked(String name, Map<String, String> selects, int priority) {
    PypiMirrorPolicy p = policy(name, selects, null, false);
    p.getSpec().setPriority(priority);
    p.getMetadata().setGeneration(3L);
    return p;
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        // the other policy (gpu) selects, its priority | governed by ml | overlaps
        "         | 0  | ml-a,ml-b | ",
        "tier=gpu | -1 | ml-a,ml-b | ",
        "tier=gpu | 0  | ml-a      | ml-b (gpu)", // a tie goes to name order
        "tier=gpu | 1  | ml-a      | ml-b (gpu)",
        "team=ml  | 5  |           | ml-a (gpu);ml-b (gpu)",
      })
  void reachIsWhatItSelectsLessWhatBetterRankedPoliciesTake(
      String otherSelects, int otherPriority, String governed, String overlaps) {
    PypiMirrorPolicy ml = ranked("ml", Map.of("team", "ml"), 0);
    List<PypiMirrorPolicy> all =
        otherSelects == null
            ? List.of(ml)
            : List.of(
                ml,
                ranked(
                    "gpu",
                    Map.of(otherSelects.split("=")[0], otherSelects.split("=")[1]),
                    otherPriority));

    PolicyStatuses.Reach reach = PolicyStatuses.reach(ml, all, CLUSTER, "pypi-mirror-system");

    assertThat(reach.governed()).containsExactlyElementsOf(split(governed, ","));
    assertThat(reach.overlaps()).containsExactlyElementsOf(split(overlaps, ";"));
  }

  static List<String> split(String s, String sep) {
    return s == null ? List.of() : List.of(s.split(sep));
  }

  @Test
  void violatingMirrorsAreTheGovernedOnesBreakingARuleEachWithItsFirst() {
    PypiMirrorPolicy strict = ranked("strict", Map.of("team", "ml"), 0);
    strict.getSpec().setAllowInsecureHttp(false);
    var mirrors =
        List.of(
            mirror("ml-b", "plain", spec(trustedHttp("http://devpi.corp.example/simple/"))),
            mirror("ml-a", "plain", spec(trustedHttp("http://devpi.corp.example/simple/"))),
            mirror("ml-a", "tls", spec(https("https://devpi.corp.example/simple/"))),
            mirror("web", "plain", spec(trustedHttp("http://devpi.corp.example/simple/"))));

    assertThat(
            PolicyStatuses.violatingMirrors(
                strict, new TreeSet<>(List.of("ml-a", "ml-b")), mirrors))
        .containsExactly(
            "ml-a/plain: PypiMirrorPolicy strict: allowInsecureHttp is false, but spec.indexes[0].url is plain http: http://devpi.corp.example/simple/",
            "ml-b/plain: PypiMirrorPolicy strict: allowInsecureHttp is false, but spec.indexes[0].url is plain http: http://devpi.corp.example/simple/");
  }

  static PypiMirrorPolicyStatus status(
      PypiMirrorPolicy p, List<String> conflicts, PypiMirrorPolicyStatus previous, Instant now) {
    var reach =
        PolicyStatuses.reach(
            p, List.of(p, ranked("gpu", Map.of("tier", "gpu"), 9)), CLUSTER, "pypi-mirror-system");
    return PolicyStatuses.status(p, reach, 1, conflicts, List.of(), List.of(), previous, now);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "valid                 | false | ''          | True  | Ready",
        "valid, a user's there | false | ml-a/ml     | False | Conflict",
        "invalid selector      | true  | ''          | False | InvalidSpec",
        "invalid and conflict  | true  | ml-a/ml     | False | InvalidSpec",
      })
  void readySaysTheFirstThingWrong(
      String what, boolean invalid, String conflicts, String ready, String reason) {
    PypiMirrorPolicy p = ranked("ml", Map.of("team", "ml"), 0);
    if (invalid) {
      p.getSpec()
          .setPodSelector(
              new LabelSelectorBuilder()
                  .addNewMatchExpression()
                  .withKey("role")
                  .withOperator("Sideways")
                  .endMatchExpression()
                  .build());
    }

    PypiMirrorPolicyStatus s =
        status(
            p,
            split(conflicts.isEmpty() ? null : conflicts, ","),
            new PypiMirrorPolicyStatus(),
            T0);

    Condition c = s.condition(Conditions.READY).orElseThrow();
    assertThat(c.getStatus()).isEqualTo(ready);
    assertThat(c.getReason()).isEqualTo(reason);
    assertThat(c.getObservedGeneration()).isEqualTo(3L);
    assertThat(c.getMessage())
        .contains(
            switch (reason) {
              case "Ready" -> "governs 1 namespace(s), made 1 mirror(s)";
              case "Conflict" -> "left as they are: ml-a/ml";
              default -> "spec.podSelector";
            });
    assertThat(s.getObservedGeneration()).isEqualTo(3L);
    assertThat(s.getGovernedNamespaces()).isEqualTo(1);
    assertThat(s.getNamespaces()).containsExactly("ml-a");
    assertThat(s.getOverlaps()).containsExactly("ml-b (gpu)");
    Condition overlapping = s.condition(PolicyStatuses.OVERLAPPING).orElseThrow();
    assertThat(overlapping.getStatus()).isEqualTo("True");
    assertThat(overlapping.getReason()).isEqualTo(PolicyStatuses.REASON_GOVERNED_BY_ANOTHER_POLICY);
    assertThat(overlapping.getMessage()).endsWith("ml-b (gpu)");
  }

  @Test
  void theStatusListsAtMostTenViolatorsAndCountsAll() {
    PypiMirrorPolicy p = ranked("ml", Map.of("team", "ml"), 0);
    var reach = PolicyStatuses.reach(p, List.of(p), CLUSTER, "pypi-mirror-system");
    List<String> violating = IntStream.range(0, 12).mapToObj(i -> "ml-a/m" + i + ": x").toList();

    var s =
        PolicyStatuses.status(
            p, reach, 0, List.of(), violating, List.of(), new PypiMirrorPolicyStatus(), T0);

    assertThat(s.getViolations()).isEqualTo(12);
    assertThat(s.getViolatingMirrors()).hasSize(PolicyStatuses.LISTED_VIOLATIONS);
    assertThat(s.condition(PolicyStatuses.OVERLAPPING).orElseThrow().getReason())
        .isEqualTo(PolicyStatuses.REASON_NO_OVERLAP);
  }

  @Test
  void anUnchangedConditionKeepsItsTransitionTime() {
    PypiMirrorPolicy p = ranked("ml", Map.of("team", "ml"), 0);
    var first = status(p, List.of(), new PypiMirrorPolicyStatus(), T0);
    var again = status(p, List.of(), first, T1);
    var changed = status(p, List.of("ml-a/ml"), first, T1);

    assertThat(again).isEqualTo(first);
    assertThat(again.condition(Conditions.READY).orElseThrow().getLastTransitionTime())
        .isEqualTo(T0.toString());
    assertThat(changed.condition(Conditions.READY).orElseThrow().getLastTransitionTime())
        .isEqualTo(T1.toString());
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "'', Ready, false",
    "'', Conflict, true",
    "'', InvalidSpec, true",
    "Ready, Conflict, true",
    "Conflict, Conflict, false",
    "Conflict, InvalidSpec, true",
    "InvalidSpec, InvalidSpec, false",
    "InvalidSpec, Ready, false",
  })
  void aWarningWhenReadyBecomesConflictOrInvalidSpec(String before, String after, boolean warns) {
    PypiMirrorPolicyStatus previous = withReady(before);
    PypiMirrorPolicyStatus next = withReady(after);

    assertThat(PolicyStatuses.warning(previous, next).map(Condition::getReason))
        .isEqualTo(warns ? java.util.Optional.of(after) : java.util.Optional.empty());
  }

  static PypiMirrorPolicyStatus withReady(String reason) {
    var s = new PypiMirrorPolicyStatus();
    if (!reason.isEmpty()) {
      s.setConditions(
          List.of(Conditions.of(Conditions.READY, reason.equals("Ready"), reason, "m", 1)));
    }
    return s;
  }

  @Test
  void ineffectiveSettingsAreAConditionAndAWarningWhenTheyAppearOrChange() {
    PypiMirrorPolicy p =
        policy("ml", Map.of("team", "ml"), spec(https("https://x.example/")), true);
    p.getMetadata().setGeneration(3L);
    var reach = PolicyStatuses.reach(p, List.of(p), CLUSTER, "pypi-mirror-system");
    var none =
        PolicyStatuses.status(
            p, reach, 1, List.of(), List.of(), List.of(), new PypiMirrorPolicyStatus(), T0);
    var one =
        PolicyStatuses.status(
            p, reach, 1, List.of(), List.of(), List.of("restrictEgress has no effect"), none, T1);
    var two =
        PolicyStatuses.status(
            p,
            reach,
            1,
            List.of(),
            List.of(),
            List.of("restrictEgress has no effect", "allowedEnv"),
            one,
            T1);

    Condition clear = none.condition(PolicyStatuses.INEFFECTIVE_SETTINGS).orElseThrow();
    assertThat(List.of(clear.getStatus(), clear.getReason(), clear.getMessage()))
        .containsExactly("False", "EverySettingApplies", "every setting of the spec takes effect");
    Condition found = two.condition(PolicyStatuses.INEFFECTIVE_SETTINGS).orElseThrow();
    assertThat(List.of(found.getStatus(), found.getReason(), found.getMessage()))
        .containsExactly(
            "True", "SettingsWithoutEffect", "restrictEgress has no effect; allowedEnv");
    assertThat(found.getObservedGeneration()).isEqualTo(3L);

    assertThat(PolicyStatuses.ineffectiveWarning(new PypiMirrorPolicyStatus(), none)).isEmpty();
    assertThat(PolicyStatuses.ineffectiveWarning(none, one)).isPresent();
    assertThat(PolicyStatuses.ineffectiveWarning(one, one)).as("unchanged: no new event").isEmpty();
    assertThat(PolicyStatuses.ineffectiveWarning(one, two).map(Condition::getMessage))
        .contains("restrictEgress has no effect; allowedEnv");
    assertThat(PolicyStatuses.ineffectiveWarning(two, none)).isEmpty();
  }
}
