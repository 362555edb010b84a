package dev.pypimirror.operator.admissionpolicy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.apiserver.CelCost;
import dev.pypimirror.operator.apiserver.KubeCel;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.policy.PolicyDirectory;
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
            "MutatingAdmissionPolicy pypi-mirror.builds.skipped",
            "MutatingAdmissionPolicyBinding pypi-mirror.builds.skipped");
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
        .containsOnly("pypi-mirror.builds.skipped");
  }

  @Test
  void anEnforcedNamespaceIsLeftToTheWebhook() {
    var policy =
        Policies.policy(
            "corp", Map.of("kubernetes.io/metadata.name", "builds"), CORP.getSpec(), true);

    InjectionPolicies.Generated generated =
        generate(Pods.directory(CORP), namespace -> Optional.of(policy));

    assertThat(generated.objects()).isEmpty();
    assertThat(generated.uncovered())
        .containsExactly(
            "namespace builds: PypiMirrorPolicy corp enforces, which admission policies do not cover yet");
  }

  @Test
  void aValueOfTheMirrorIsAQuotedLiteralWhateverItHolds() {
    assertThat(CelText.string("a'b\\c\n\u00e9\ud83d\ude00"))
        .isEqualTo("'a\\'b\\\\c\\u000a\\u00e9\\U0001f600'");
  }

  /**
   * Every expression compiles as kube-apiserver compiles it, and its cost, estimated as cel-go
   * estimates it with every list and string sized from the pod it runs on, stays within the runtime
   * budget of one binding evaluation for a large build pod.
   */
  @Test
  void everyExpressionCompilesAndStaysWithinTheBudgetForALargePod() throws Exception {
    List<String> expressions = new ArrayList<>();
    for (ObjectNode object : generate(Pods.directory(CORP), PolicyDirectory.NONE).objects()) {
      JsonNode spec = object.path("spec");
      spec.path("matchConditions").forEach(c -> expressions.add(c.path("expression").asText()));
      spec.path("variables").forEach(v -> expressions.add(v.path("expression").asText()));
      spec.path("mutations").forEach(m -> expressions.add(m.at("/jsonPatch/expression").asText()));
    }
    long total = 0;
    for (String expression : expressions) {
      KubeCel.Compiled compiled = KubeCel.compilePolicyExpression(expression);
      // a large build pod: 8 containers (and 8 init containers), each with 16 mounts, 4 block
      // devices and 50
      // variables, 50 volumes, 20 annotations; every string (paths, names, values) 128 bytes
      long cost =
          CelCost.maxCost(
              compiled.ast(),
              path -> {
                String last = path.get(path.size() - 1);
                return Optional.of(
                    switch (last) {
                      case "containers", "initContainers" -> 8L;
                      case "volumeMounts" -> 16L;
                      case "volumeDevices" -> 4L;
                      case "env", "volumes", "annotations" -> 50L;
                      default -> 128L;
                    });
              });
      assertThat(cost).as(expression).isLessThan(1_000_000L);
      total = CelCost.add(total, cost);
    }
    System.out.printf("estimated cost of one binding evaluation: %,d%n", total);
    assertThat(total).as("one binding's evaluation").isLessThan(10_000_000L);
  }
}
