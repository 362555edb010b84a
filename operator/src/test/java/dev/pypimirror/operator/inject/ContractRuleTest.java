package dev.pypimirror.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.testing.Policies;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which rule of the contract's "Which pods" list decides, the first that applies. */
class ContractRuleTest {
  @ParameterizedTest(name = "{0} {1} {2} {3} -> {4}")
  @CsvSource({
    // namespace | inject | mirror | role label | rule
    "kube-system,        true,  m,  build, 1",
    "pypi-mirror-system, '',    m,  '',    1",
    "builds,             false, m,  build, 2",
    "builds,             FALSE, '', '',    2",
    "builds,             true,  m,  build, 3",
    "builds,             '',    ' m ', '', 3",
    "builds,             true,  ' ', build, 4",
    "builds,             maybe, '', build, 5",
    "builds,             '',    '', build, 5",
    "builds,             '',    '', other, 6",
  })
  void theFirstRuleThatAppliesDecides(
      String namespace, String inject, String mirror, String role, int rule) {
    Map<String, String> annotations = new HashMap<>();
    if (!inject.isEmpty()) {
      annotations.put("pypimirror.dev/inject", inject);
    }
    if (!mirror.isEmpty()) {
      annotations.put("pypimirror.dev/mirror", mirror);
    }
    PypiMirrorPolicy policy = Policies.policy("team", Map.of(), null, false);
    policy.getSpec().setPodSelector(Policies.selector(Map.of("role", "build")));
    var pod =
        new MirrorSelector.PodFacts(
            annotations, role.isEmpty() ? Map.of() : Map.of("role", role), namespace);

    assertThat(MirrorSelector.rule(pod, policy, "pypi-mirror-system").number()).isEqualTo(rule);
  }
}
