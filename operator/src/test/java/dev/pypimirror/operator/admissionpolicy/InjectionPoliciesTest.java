package dev.pypimirror.operator.admissionpolicy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.apiserver.KubeCel;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.CelCost;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What admission-policy mode writes for a namespace. */
class InjectionPoliciesTest {
  static final PypiMirror CORP =
      Pods.readyMirror(
          "builds",
          "corp",
          Mirrors.withCache(
              Mirrors.spec(Mirrors.https("https://devpi.corp.example/root/pypi/+simple/")),
              "/tmp/pypi"));

  static InjectionPolicies.Generated generate(MirrorDirectory mirrors, PolicyDirectory policies) {
    return InjectionPolicies.forNamespace("builds", mirrors, policies, "pypi-mirror-system");
  }

  @Test
  void aReadyMirrorGetsAPolicyAndABindingAndTheNamespaceASkippedPolicy() {
    List<ObjectNode> objects = generate(Pods.directory(CORP), PolicyDirectory.NONE).objects();

    assertThat(objects)
        .extracting(o -> o.path("kind").asText() + " " + o.at("/metadata/name").asText())
        .containsExactly(
            "MutatingAdmissionPolicy pypi-mirror.builds.corp",
            "MutatingAdmissionPolicyBinding pypi-mirror.builds.corp",
            "MutatingAdmissionPolicy pypi-mirror-skipped.builds",
            "MutatingAdmissionPolicyBinding pypi-mirror-skipped.builds");
    JsonNode spec = objects.get(0).path("spec");
    assertThat(spec.at("/matchConstraints/namespaceSelector/matchExpressions/0/values/0").asText())
        .isEqualTo("builds");
    assertThat(spec.path("reinvocationPolicy").asText()).isEqualTo("IfNeeded");
    assertThat(spec.path("failurePolicy").asText()).isEqualTo("Ignore");
    assertThat(objects.get(1).at("/spec/policyName").asText()).isEqualTo("pypi-mirror.builds.corp");
    assertThat(objects.get(0).at("/metadata/labels/app.kubernetes.io~1managed-by").asText())
        .isEqualTo("pypi-mirror-operator");
  }

  @Test
  void aMirrorThatIsNotReadyGetsNoPolicyOnlyTheSkippedOne() {
    List<ObjectNode> objects =
        generate(
                Pods.directory(
                    Pods.notReady(Pods.readyMirror("builds", "corp", CORP.getSpec()), "Broken")),
                PolicyDirectory.NONE)
            .objects();

    assertThat(objects)
        .extracting(o -> o.at("/metadata/name").asText())
        .containsOnly("pypi-mirror-skipped.builds");
  }

  @Test
  void anEnforcedNamespaceGetsValidatingPoliciesBesidesTheMutatingOnes() {
    var policy =
        Policies.policy(
            "corp", Map.of("kubernetes.io/metadata.name", "builds"), CORP.getSpec(), true);

    List<ObjectNode> objects =
        generate(Pods.directory(CORP), namespace -> Optional.of(policy)).objects();

    assertThat(objects)
        .extracting(o -> o.path("kind").asText() + " " + o.at("/metadata/name").asText())
        .containsExactly(
            "MutatingAdmissionPolicy pypi-mirror.builds.corp",
            "MutatingAdmissionPolicyBinding pypi-mirror.builds.corp",
            "ValidatingAdmissionPolicy pypi-mirror.builds.corp",
            "ValidatingAdmissionPolicyBinding pypi-mirror.builds.corp",
            "ValidatingAdmissionPolicy pypi-mirror-unavailable.builds",
            "ValidatingAdmissionPolicyBinding pypi-mirror-unavailable.builds");
    assertThat(objects.get(2).at("/spec/failurePolicy").asText()).isEqualTo("Fail");
    assertThat(objects.get(3).at("/spec/validationActions/0").asText()).isEqualTo("Deny");
    assertThat(objects.get(0).at("/spec/matchConditions/0/name").asText())
        .isEqualTo("not-a-static-pod-of-a-node");
    assertThat(InjectionPolicies.forPolicy(policy, List.of("builds"), "pypi-mirror-system"))
        .extracting(o -> o.path("kind").asText() + " " + o.at("/metadata/name").asText())
        .containsExactly(
            "ValidatingAdmissionPolicy pypi-mirror-policy.corp",
            "ValidatingAdmissionPolicyBinding pypi-mirror-policy.corp");
  }

  @Test
  void aValueOfTheMirrorIsAQuotedLiteralWhateverItHolds() {
    assertThat(CelText.string("a'b\\c\n\u00e9\ud83d\ude00"))
        .isEqualTo("'a\\'b\\\\c\\u000a\\u00e9\\U0001f600'");
  }

  /**
   * Every expression compiles as kube-apiserver compiles it, and its cost, estimated as cel-go
   * estimates it with every list and string sized from the pod it runs on, stays within the runtime
   * budget of one binding evaluation for a large build pod: the mutating policies, and under an
   * Enforce policy (with an allow-list) the mutating and validating ones.
   */
  @Test
  void everyExpressionCompilesAndStaysWithinTheBudgetForALargePod() throws Exception {
    var enforce =
        Policies.policy(
            "corp", Map.of("kubernetes.io/metadata.name", "builds"), CORP.getSpec(), true);
    enforce.getSpec().setPodSelector(Policies.selector(Map.of("team", "ml")));
    enforce.getSpec().setAllowedEnv(List.of("PIP_TIMEOUT", "PYTHONPATH"));
    List<ObjectNode> objects = new ArrayList<>();
    objects.addAll(generate(Pods.directory(CORP), PolicyDirectory.NONE).objects());
    objects.addAll(generate(Pods.directory(CORP), namespace -> Optional.of(enforce)).objects());
    objects.addAll(InjectionPolicies.forPolicy(enforce, List.of("builds"), "pypi-mirror-system"));
    long worst = 0;
    for (ObjectNode object : objects) {
      List<String> expressions = new ArrayList<>();
      JsonNode spec = object.path("spec");
      spec.path("matchConditions").forEach(c -> expressions.add(c.path("expression").asText()));
      spec.path("variables").forEach(v -> expressions.add(v.path("expression").asText()));
      spec.path("mutations").forEach(m -> expressions.add(m.at("/jsonPatch/expression").asText()));
      for (JsonNode validation : spec.path("validations")) {
        expressions.add(validation.path("expression").asText());
        if (validation.has("messageExpression")) {
          expressions.add(validation.path("messageExpression").asText());
        }
      }
      long total = 0;
      for (String expression : expressions) {
        long cost = cost(expression);
        assertThat(cost).as(expression).isLessThan(1_000_000L);
        total = CelCost.add(total, cost);
      }
      System.out.printf(
          "estimated cost of one evaluation of %s %s: %,d%n",
          object.path("kind").asText(), object.at("/metadata/name").asText(), total);
      assertThat(total).as("one binding's evaluation").isLessThan(10_000_000L);
      worst = Math.max(worst, total);
    }
    assertThat(worst).isPositive();
  }

  /**
   * The estimated cost for a large build pod: 8 containers (and 8 init containers), each with 16
   * mounts, 4 block devices, 50 variables and 8 envFrom sources, 50 volumes, 50 annotations; every
   * string (paths, names, values) 128 bytes.
   */
  static long cost(String expression) throws Exception {
    KubeCel.Compiled compiled = KubeCel.compilePolicyExpression(expression);
    return CelCost.maxCost(
        compiled.ast(),
        path -> {
          String last = path.get(path.size() - 1);
          return Optional.of(
              switch (last) {
                case "containers", "initContainers", "envFrom", "groups" -> 8L;
                case "volumeMounts" -> 16L;
                case "volumeDevices" -> 4L;
                case "env", "volumes", "annotations" -> 50L;
                default -> 128L;
              });
        });
  }
}
