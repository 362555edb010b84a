package dev.pypimirror.operator.config;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.config.MirrorStatuses.CacheState;
import dev.pypimirror.operator.config.MirrorStatuses.Step;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A mirror's conditions as a function of what its reconciler rendered, wrote and found. */
class MirrorStatusesTest {
  static final Duration RECHECK = Duration.ofSeconds(30);

  static PersistentVolumeClaim claim(String phase) {
    var b = new PersistentVolumeClaimBuilder().withNewMetadata().withName("c").endMetadata();
    return phase.equals("-") ? b.build() : b.withNewStatus().withPhase(phase).endStatus().build();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    // phase (absent: no claim; -: no status yet) | usable | bound | reason | recheck
    "absent, false, false, ClaimNotFound, true",
    "Bound,  true,  true,  Bound,         false",
    "Pending, true, false, Pending,       true",
    "-,      true,  false, Pending,       true",
    "Lost,   false, false, ClaimLost,     true",
  })
  void theCacheIsWhatItsClaimShows(
      String phase, boolean usable, boolean bound, String reason, boolean recheck) {
    CacheState cache = CacheState.of("c", phase.equals("absent") ? null : claim(phase), RECHECK);

    assertThat(cache.usable()).isEqualTo(usable);
    assertThat(cache.bound()).isEqualTo(bound);
    assertThat(cache.reason()).isEqualTo(reason);
    assertThat(cache.recheckAfter()).isEqualTo(recheck ? RECHECK : null);
    assertThat(cache.message()).contains(phase.equals("absent") ? "not found" : "c ");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    // config usable | cache | violations | Ready | reason
    "true,  bound,    '',         true,  Ready",
    "true,  pending,  '',         true,  Ready",
    "true,  disabled, '',         true,  Ready",
    "false, bound,    '',         false, Conflict",
    "false, lost,     broken,     false, Conflict",
    "true,  lost,     broken,     false, ClaimLost",
    "true,  conflict, '',         false, Conflict",
    "true,  bound,    broken,     false, PolicyViolation",
    "true,  pending,  'a;b',      false, PolicyViolation",
  })
  void readySaysTheFirstThingWrong(
      boolean configUsable, String cacheKind, String violations, boolean ready, String reason) {
    RenderedConfig rendered =
        MirrorConfigRenderer.render("m", spec(https("https://devpi.corp.example/simple/")));
    Step config =
        configUsable
            ? MirrorStatuses.rendered("pypi-mirror-m", rendered)
            : MirrorStatuses.conflict("ConfigMap", "pypi-mirror-m");
    CacheState cache =
        switch (cacheKind) {
          case "bound" -> CacheState.of("c", claim("Bound"), null);
          case "pending" -> CacheState.of("c", claim("Pending"), null);
          case "lost" -> CacheState.of("c", claim("Lost"), null);
          case "conflict" -> CacheState.conflict("c");
          default -> CacheState.disabled();
        };
    List<String> broken = violations.isEmpty() ? List.of() : List.of(violations.split(";"));

    Step step = MirrorStatuses.ready(config, cache, rendered, broken);

    assertThat(step.usable()).isEqualTo(ready);
    assertThat(step.reason()).isEqualTo(reason);
    if (ready) {
      assertThat(step.message())
          .startsWith("pip uses https://devpi.corp.example/simple/")
          .endsWith(cache.message());
    }
    if (reason.equals("PolicyViolation")) {
      assertThat(step.message()).isEqualTo(String.join("; ", broken));
    }
  }

  @Test
  void anInvalidSpecSaysSoInEveryCondition() {
    assertThat(MirrorStatuses.invalidSpec("spec.indexes[0].url is empty", 4))
        .extracting(Condition::getType, Condition::getReason, Condition::getMessage)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                Conditions.CONFIG_RENDERED,
                "InvalidSpec",
                "invalid spec: spec.indexes[0].url is empty"),
            org.assertj.core.groups.Tuple.tuple(
                Conditions.CACHE_READY,
                "InvalidSpec",
                "invalid spec: spec.indexes[0].url is empty"),
            org.assertj.core.groups.Tuple.tuple(
                Conditions.READY, "InvalidSpec", "invalid spec: spec.indexes[0].url is empty"));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "'',              True:Ready,           true",
    "True:Ready,      True:Ready,           false",
    "False:Pending,   False:Pending,        false",
    "True:Ready,      False:ClaimLost,      true",
    "False:ClaimLost, False:ClaimNotFound,  true",
    "False:Conflict,  True:Ready,           true",
  })
  void readyIsAnnouncedWhenItsStatusOrReasonChanges(String before, String after, boolean told) {
    assertThat(MirrorStatuses.readyChange(withReady(before, "old"), withReady(after, "new")))
        .isEqualTo(
            told ? Optional.of(withReady(after, "new").getConditions().get(0)) : Optional.empty());
  }

  static PypiMirrorStatus withReady(String statusAndReason, String message) {
    PypiMirrorStatus s = new PypiMirrorStatus();
    if (!statusAndReason.isEmpty()) {
      String[] parts = statusAndReason.split(":");
      s.setConditions(
          List.of(Conditions.of(Conditions.READY, parts[0].equals("True"), parts[1], message, 1)));
    }
    return s;
  }
}
