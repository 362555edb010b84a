package dev.pypimirror.operator.inject;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Pods.applyPatch;
import static dev.pypimirror.operator.testing.Pods.directory;
import static dev.pypimirror.operator.testing.Pods.readyMirror;
import static dev.pypimirror.operator.testing.Pods.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.inject.InjectionPlan.Outcome;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The injection truth table, opt-in/opt-out annotations x no policy/Advisory/Enforce x podSelector,
 * as the README documents it. Each row names the mirror the pod gets, or untouched/denied.
 */
class EnforcementTruthTableTest {
  static final PypiMirrorSpec POLICY_SPEC = spec(https("https://devpi.corp.example/simple/"));
  static final PypiMirrorSpec TEAM_SPEC = spec(https("https://devpi.corp.example/team/+simple/"));

  static PypiMirror policyMade() {
    PypiMirror m = readyMirror("ml", "corp-builds", POLICY_SPEC);
    m.getMetadata().setLabels(Map.of("pypimirror.dev/policy", "corp-builds"));
    return m;
  }

  static PypiMirrorPolicy policy(String enforcement, boolean podSelector) {
    PypiMirrorPolicy p =
        Policies.policy(
            "corp-builds", Map.of("team", "ml"), POLICY_SPEC, enforcement.equals("Enforce"));
    if (podSelector) {
      p.getSpec().setPodSelector(Policies.selector(Map.of("role", "image-build")));
    }
    return p;
  }

  static InjectionPlan admit(
      String annotation, boolean buildLabel, String enforcement, boolean podSelector) {
    String annotations =
        switch (annotation) {
          case "none" -> "{}";
          case "opt-in" -> "{pypimirror.dev/inject: \"true\"}";
          case "opt-out" -> "{pypimirror.dev/inject: \"false\"}";
          case "named" -> "{pypimirror.dev/mirror: team}";
          default -> throw new IllegalArgumentException(annotation);
        };
    ObjectNode pod =
        yaml(
            "metadata: {name: p, labels: %s, annotations: %s}\nspec: {containers: [{name: c}]}"
                .formatted(buildLabel ? "{role: image-build}" : "{}", annotations));
    PolicyDirectory policies =
        enforcement.equals("none")
            ? PolicyDirectory.NONE
            : ns -> Optional.of(policy(enforcement, podSelector));
    MirrorDirectory mirrors = directory(policyMade(), readyMirror("ml", "team", TEAM_SPEC));
    return PodInjector.inject(pod, "ml", "pypi-mirror-system", mirrors, policies);
  }

  @ParameterizedTest(name = "{0} / build label {1} / {2} / podSelector {3} -> {4}")
  @CsvSource({
    // annotation, pod has the build label, policy, policy has podSelector, result
    "none,    false, none,     false, untouched",
    "none,    true,  none,     false, untouched",
    "opt-in,  false, none,     false, corp-builds",
    "named,   false, none,     false, team",
    "opt-out, false, none,     false, untouched",
    "none,    false, Advisory, true,  untouched",
    "none,    true,  Advisory, true,  corp-builds",
    "none,    true,  Advisory, false, untouched",
    "opt-in,  false, Advisory, true,  corp-builds",
    "named,   true,  Advisory, true,  team",
    "opt-out, true,  Advisory, true,  untouched",
    "none,    false, Enforce,  true,  untouched",
    "none,    true,  Enforce,  true,  corp-builds",
    "opt-in,  false, Enforce,  true,  corp-builds",
    "named,   false, Enforce,  true,  team",
    "opt-out, false, Enforce,  true,  corp-builds",
    "opt-out, true,  Enforce,  false, corp-builds",
  })
  void truthTable(
      String annotation,
      boolean buildLabel,
      String enforcement,
      boolean podSelector,
      String expected) {
    InjectionPlan plan = admit(annotation, buildLabel, enforcement, podSelector);

    String result =
        switch (plan.outcome()) {
          case INJECTED -> plan.mirror();
          case UNTOUCHED -> "untouched";
          case SKIPPED -> plan.skipped().equals("no-default-mirror") ? "ambiguous" : "skipped";
          default -> plan.outcome().name();
        };
    assertThat(result).isEqualTo(expected);
  }

  @Test
  void enforcementIgnoresAnOptOutWithAWarning() {
    InjectionPlan plan = admit("opt-out", false, "Enforce", true);

    assertThat(plan.warnings())
        .contains(
            "pypimirror.dev/inject: \"false\" is ignored: PypiMirrorPolicy corp-builds enforces the mirror in namespace ml");
  }

  @Test
  void advisoryHonoursAnOptOutAndSaysWhatEnforceWouldDo() {
    InjectionPlan plan = admit("opt-out", true, "Advisory", true);

    assertThat(plan.hasPatch()).isFalse();
    assertThat(plan.warnings())
        .containsExactly(
            "pypimirror.dev/inject: \"false\" is honoured; PypiMirrorPolicy corp-builds is Advisory, under Enforce this pod would get the mirror");
  }

  static ObjectNode podWithOwnSettings() {
    return yaml(
        """
        metadata: {name: p, labels: {role: image-build}, annotations: {pypimirror.dev/containers: other}}
        spec:
          containers:
          - name: c
            env:
            - {name: A, value: a}
            - {name: PIP_INDEX_URL, value: "https://evil.example/simple/"}
            - {name: PIP_FIND_LINKS, value: /wheels}
            - {name: UV_INDEX_URL, value: "https://evil.example/uv/"}
            - {name: PIP_INDEX_URL, value: "https://second.example/"}
            - {name: B, value: b}
        """);
  }

  @Test
  void enforcementReplacesAndRemovesTheContainersOwnIndexSettings() {
    ObjectNode pod = podWithOwnSettings();
    PolicyDirectory enforce = ns -> Optional.of(policy("Enforce", true));
    InjectionPlan twice = PodInjector.inject(pod, "ml", null, directory(policyMade()), enforce);
    ((com.fasterxml.jackson.databind.node.ArrayNode) pod.at("/spec/containers/0/env")).remove(4);

    InjectionPlan plan = PodInjector.inject(pod, "ml", null, directory(policyMade()), enforce);
    JsonNode env = applyPatch(pod, plan.patch()).at("/spec/containers/0/env");

    assertThat(env.findValuesAsText("name"))
        .containsExactly(
            "A",
            "PIP_INDEX_URL",
            "PIP_FIND_LINKS",
            "B",
            "PIP_CONFIG_FILE",
            "PIP_EXTRA_INDEX_URL",
            "UV_INDEX",
            "UV_DEFAULT_INDEX",
            "PIP_REQUIREMENT",
            "PIP_CONSTRAINT",
            "PIP_BUILD_CONSTRAINT",
            "UV_CONFIG_FILE");
    // Enforce pins find-links to the mirror's config directory (a config file the mirror does
    // not control could set it otherwise)
    assertThat(env.get(2).path("value").asText()).isEqualTo("/etc/pypi-mirror");
    assertThat(env.get(1).path("value").asText()).isEqualTo("https://devpi.corp.example/simple/");
    assertThat(plan.warnings())
        .contains(
            "pypimirror.dev/containers is ignored: PypiMirrorPolicy corp-builds enforces the mirror in every container",
            "container c sets PIP_FIND_LINKS itself; replaced by the mirror's value (PypiMirrorPolicy corp-builds enforces it)",
            "container c sets UV_INDEX_URL itself; removed (PypiMirrorPolicy corp-builds enforces the mirror)");
    // which of two entries the process gets is the kubelet's choice (the last): refused
    assertThat(twice.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(twice.refusal())
        .isEqualTo(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here: container c sets PIP_INDEX_URL 2 times; set it once");
  }

  @Test
  void advisoryKeepsTheContainersOwnSettingsAndSaysWhatWouldChange() {
    ObjectNode pod = podWithOwnSettings();
    ((ObjectNode) pod.at("/metadata/annotations")).remove("pypimirror.dev/containers");
    PolicyDirectory advisory = ns -> Optional.of(policy("Advisory", true));

    InjectionPlan plan = PodInjector.inject(pod, "ml", null, directory(policyMade()), advisory);
    JsonNode env = applyPatch(pod, plan.patch()).at("/spec/containers/0/env");

    assertThat(env.get(1).path("value").asText()).isEqualTo("https://evil.example/simple/");
    assertThat(env.findValuesAsText("name")).contains("PIP_FIND_LINKS", "UV_INDEX_URL");
    assertThat(plan.warnings())
        .contains(
            "container c sets PIP_INDEX_URL itself; kept, so it overrides the mirror for this container (PypiMirrorPolicy corp-builds is Advisory; under Enforce it would replace it)",
            "container c sets PIP_FIND_LINKS itself; kept (PypiMirrorPolicy corp-builds is Advisory; under Enforce it would remove it)");
  }

  @Test
  void enforcementDeniesAPodWhoseMirrorIsNotReady() {
    ObjectNode pod =
        yaml("metadata: {name: p, labels: {role: image-build}}\nspec: {containers: [{name: c}]}");
    PolicyDirectory enforce = ns -> Optional.of(policy("Enforce", true));
    PypiMirror broken = Pods.notReady(policyMade(), "PolicyViolation");

    InjectionPlan denied = PodInjector.inject(pod, "ml", null, directory(broken), enforce);
    InjectionPlan missing = PodInjector.inject(pod, "ml", null, directory(), enforce);

    assertThat(denied.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(denied.hasPatch()).isFalse();
    assertThat(denied.refusal())
        .isEqualTo(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here, and it cannot be injected: PypiMirror ml/corp-builds is not Ready (PolicyViolation: broken)");
    assertThat(missing.refusal())
        .isEqualTo(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here, and it cannot be injected: PypiMirrorPolicy corp-builds's mirror ml/corp-builds does not exist (yet)");
  }

  @Test
  void aUsersMirrorNamedLikeThePolicyIsNotThePolicysMirror() {
    ObjectNode pod =
        yaml("metadata: {name: p, labels: {role: image-build}}\nspec: {containers: [{name: c}]}");
    PypiMirror usersOwn = readyMirror("ml", "corp-builds", TEAM_SPEC);
    PolicyDirectory advisory = ns -> Optional.of(policy("Advisory", true));

    InjectionPlan plan = PodInjector.inject(pod, "ml", null, directory(usersOwn), advisory);

    assertThat(plan.outcome()).isEqualTo(Outcome.SKIPPED);
  }
}
