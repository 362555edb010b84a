package dev.pypimirror.operator.policy;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Pods.directory;
import static dev.pypimirror.operator.testing.Pods.json;
import static dev.pypimirror.operator.testing.Pods.readyMirror;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.webhook.MirrorAdmission;
import dev.pypimirror.operator.webhook.PodAdmission;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * Malformed label selectors: refused by the CRD, and a policy that has one anyway (written before
 * the rule, or by hand) is contained: it governs nothing, the others keep governing, and a pod the
 * webhook cannot decide on in an enforced namespace is refused.
 */
class MalformedSelectorTest {
  static LabelSelector expression(String key, String operator, String... values) {
    var requirement =
        new LabelSelectorRequirement(key, operator, values.length == 0 ? null : List.of(values));
    var selector = new LabelSelector();
    selector.setMatchExpressions(new ArrayList<>(List.of(requirement)));
    return selector;
  }

  @Test
  void everyMalformedSelectorIsNamedAsTheApiServerWouldRefuseIt() {
    assertThat(LabelSelectors.problems(expression("team", null)))
        .containsExactly("matchExpressions[0].operator is required");
    assertThat(LabelSelectors.problems(expression("team", "In")))
        .containsExactly("matchExpressions[0].values must be non-empty for In");
    assertThat(LabelSelectors.problems(expression("team", "NotIn")))
        .containsExactly("matchExpressions[0].values must be non-empty for NotIn");
    assertThat(LabelSelectors.problems(expression("team", "Exists", "ml")))
        .containsExactly("matchExpressions[0].values must be empty for Exists");
    assertThat(LabelSelectors.problems(expression("team", "in", "ml")))
        .containsExactly(
            "matchExpressions[0].operator in is not one of In, NotIn, Exists, DoesNotExist");
    assertThat(LabelSelectors.problems(expression("-team", "Exists")))
        .containsExactly("matchExpressions[0].key key \"-team\" is not a valid label key");
    assertThat(LabelSelectors.problems(expression("team", "In", "has space")))
        .containsExactly("matchExpressions[0].values[0] \"has space\" is not a valid label value");
    assertThat(LabelSelectors.problems(Policies.selector(Map.of("a/b/c", "x"))))
        .containsExactly("matchLabels key \"a/b/c\" is not a valid label key");

    assertThat(LabelSelectors.problems(expression("example.com/team", "In", "ml", ""))).isEmpty();
    assertThat(LabelSelectors.problems(expression("team", "DoesNotExist"))).isEmpty();
    assertThatThrownBy(() -> LabelSelectors.matches(expression("team", null), Map.of()))
        .isInstanceOf(LabelSelectors.InvalidSelectorException.class)
        .hasMessage("invalid label selector: matchExpressions[0].operator is required");
  }

  @Test
  void theCrdRefusesMalformedSelectorsWithEnumsRequiredFieldsAndARule() throws Exception {
    JsonNode crd =
        new ObjectMapper(new YAMLFactory())
            .readTree(
                Path.of("target/classes/META-INF/fabric8/pypimirrorpolicies.pypimirror.dev-v1.yml")
                    .toFile());
    JsonNode spec = crd.at("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties");
    for (String field : List.of("namespaceSelector", "podSelector")) {
      JsonNode requirement = spec.path(field).at("/properties/matchExpressions/items");
      assertThat(texts(requirement.path("required"))).containsExactly("key", "operator");
      assertThat(texts(requirement.at("/properties/operator/enum")))
          .containsExactlyInAnyOrder("In", "NotIn", "Exists", "DoesNotExist");
      assertThat(requirement.at("/x-kubernetes-validations/0/rule").asText())
          .contains("self.operator in ['In', 'NotIn']", "size(self.values) == 0");
      assertThat(requirement.at("/properties/key/maxLength").asInt()).isEqualTo(317);
      assertThat(spec.path(field).at("/properties/matchExpressions/maxItems").asInt()).isPositive();
      assertThat(requirement.at("/properties/values/maxItems").asInt()).isPositive();
      assertThat(spec.path(field).at("/properties/matchLabels/maxProperties").asInt()).isPositive();
    }
  }

  static List<String> texts(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
  }

  // A namespace "builds" labelled team: ml, and two policies: "broken" (its selector has an
  // expression without operator) and "corp-builds" (Enforce, team: ml).
  static final Map<String, Map<String, String>> NAMESPACES =
      Map.of("builds", Map.of("team", "ml"), "open", Map.of());

  static PolicyDirectory directoryOf(List<PypiMirrorPolicy> policies) {
    return ns ->
        Governance.governing(
            policies, ns, NAMESPACES.getOrDefault(ns, Map.of()), "pypi-mirror-system");
  }

  static PypiMirrorPolicy broken(boolean enforce) {
    PypiMirrorPolicy broken = Policies.policy("a-broken", Map.of(), null, enforce);
    broken.getSpec().setNamespaceSelector(expression("team", null));
    broken.getSpec().setPriority(100);
    return broken;
  }

  static PypiMirrorPolicy enforced() {
    PypiMirrorPolicy policy =
        Policies.policy(
            "corp-builds",
            Map.of("team", "ml"),
            spec(https("https://devpi.corp.example/simple/")),
            true);
    policy.getSpec().getMirror().setOffline(true);
    policy.getSpec().setPodSelector(Policies.selector(Map.of("role", "image-build")));
    policy.getSpec().setAllowedIndexPrefixes(List.of("https://devpi.corp.example/"));
    return policy;
  }

  static PypiMirror policyMirror(PypiMirrorPolicy policy) {
    PypiMirror mirror =
        readyMirror("builds", policy.getMetadata().getName(), policy.getSpec().getMirror());
    mirror.getMetadata().setLabels(Map.of("pypimirror.dev/policy", policy.getMetadata().getName()));
    return mirror;
  }

  static JsonNode admit(PodAdmission admission, String labels, String annotations) {
    ObjectNode review = (ObjectNode) json(Pods.recordedAdmissionReview());
    ObjectNode metadata = (ObjectNode) review.at("/request/object/metadata");
    metadata.set("labels", Pods.yaml(labels));
    metadata.set("annotations", Pods.yaml(annotations));
    return json(new String(
            admission.review(review.toString().getBytes(StandardCharsets.UTF_8)).body(),
            StandardCharsets.UTF_8))
        .path("response");
  }

  @Test
  void oneBrokenPolicyDoesNotSwitchEnforcementOffForTheOthers() {
    PypiMirrorPolicy good = enforced();
    var policies = directoryOf(List.of(broken(false), good));
    var admission =
        new PodAdmission(
            directory(policyMirror(good)),
            policies,
            "pypi-mirror-system",
            PodAdmission.Listener.NONE);

    assertThat(Governance.problems(broken(false)))
        .containsExactly("spec.namespaceSelector.matchExpressions[0].operator is required");
    assertThat(policies.governing("builds"))
        .map(p -> p.getMetadata().getName())
        .contains("corp-builds");
    JsonNode injected = admit(admission, "{role: image-build}", "{}");
    assertThat(injected.path("allowed").asBoolean()).isTrue();
    assertThat(new String(java.util.Base64.getDecoder().decode(injected.path("patch").asText())))
        .contains("corp-builds@");

    var mirrors = new MirrorAdmission(policies);
    ObjectNode review = (ObjectNode) json(Pods.recordedAdmissionReview());
    ObjectNode request = (ObjectNode) review.path("request");
    ((ObjectNode) request.path("resource"))
        .put("group", "pypimirror.dev")
        .put("resource", "pypimirrors");
    request.set(
        "object",
        Pods.yaml(
            "apiVersion: pypimirror.dev/v1alpha1\nkind: PypiMirror\nmetadata: {name: mine, namespace: builds}\n"
                + "spec: {indexes: [{url: 'https://elsewhere.example/simple/'}], offline: true}"));
    JsonNode refused =
        json(new String(
                mirrors.review(review.toString().getBytes(StandardCharsets.UTF_8)).body(),
                StandardCharsets.UTF_8))
            .path("response");
    assertThat(refused.path("allowed").asBoolean()).isFalse();
    assertThat(refused.at("/status/message").asText()).contains("not under allowedIndexPrefixes");
  }

  @Test
  void aPodTheWebhookCannotDecideOnIsRefusedUnderEnforceAndWarnedUnderAdvisory() {
    PypiMirrorPolicy policy = enforced();
    policy.getSpec().setPodSelector(expression("role", "Exists", "image-build"));
    var admission =
        new PodAdmission(
            directory(policyMirror(policy)),
            ns -> ns.equals("builds") ? Optional.of(policy) : Optional.empty(),
            "pypi-mirror-system",
            PodAdmission.Listener.NONE);

    JsonNode refused = admit(admission, "{role: image-build}", "{}");
    assertThat(refused.path("allowed").asBoolean()).isFalse();
    assertThat(refused.at("/status/message").asText())
        .startsWith(
            "pypi-mirror: PypiMirrorPolicy corp-builds enforces a PyPI mirror in namespace builds and the webhook could not decide")
        .contains("matchExpressions[0].values must be empty for Exists");

    policy
        .getSpec()
        .setEnforcement(dev.pypimirror.operator.api.PypiMirrorPolicySpec.Enforcement.Advisory);
    JsonNode admitted = admit(admission, "{role: image-build}", "{}");
    assertThat(admitted.path("allowed").asBoolean()).isTrue();
    assertThat(admitted.path("warnings").get(0).asText())
        .startsWith("pypi-mirror: internal error (invalid label selector");
  }
}
