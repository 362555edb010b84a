package dev.pypimirror.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.testing.CelRulesCheck;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.testing.ProjectPaths;
import dev.pypimirror.operator.webhook.WebhookRoutes;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every CEL expression the project ships, checked as kube-apiserver checks it when the manifest is
 * applied: the CRDs' rules (compile against the schema, estimated cost per rule and per CRD) and
 * the webhook configurations' matchConditions (compile in the admission environment, no
 * namespaceObject). The figures are printed; docs/apiserver.md records them.
 */
class CelRulesCheckTest {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static JsonNode crd(String file) throws Exception {
    return YAML.readTree(Files.readString(ProjectPaths.ROOT.resolve("crds").resolve(file)));
  }

  private static void print(List<CelRulesCheck.Result> results) {
    results.forEach(
        r ->
            System.out.printf(
                "%,12d  %s: %s%s%n", r.cost(), r.where(), r.expression(), r.problems()));
  }

  @Test
  void bothCrdsPassWithALargeMargin() throws Exception {
    try (var files = Files.list(ProjectPaths.ROOT.resolve("crds"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yml")).toList()) {
        List<CelRulesCheck.Result> results =
            CelRulesCheck.checkCrd(crd(file.getFileName().toString()));
        print(results);
        assertThat(results).allSatisfy(r -> assertThat(r.problems()).as(r.where()).isEmpty());
        // a large margin: every rule under 1% of the per-expression limit
        assertThat(results)
            .allSatisfy(r -> assertThat(r.cost()).isLessThan(CelRulesCheck.EXPRESSION_LIMIT / 100));
        assertThat(results).isNotEmpty();
      }
    }
  }

  @Test
  void anUnboundedStringInARuleFailsTheCheck() throws Exception {
    ObjectNode crd = (ObjectNode) crd("pypimirrors.pypimirror.dev-v1.yml");
    ObjectNode mountPath =
        (ObjectNode)
            crd.at(
                "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/cache/properties/mountPath");
    mountPath.remove("maxLength");

    List<CelRulesCheck.Result> results = CelRulesCheck.checkCrd(crd);

    print(results);
    assertThat(results)
        .filteredOn(r -> r.expression().contains("file://"))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.cost()).isGreaterThan(CelRulesCheck.EXPRESSION_LIMIT);
              assertThat(r.problems()).singleElement().asString().contains("exceeds 10,000,000");
            });
  }

  @Test
  void aRuleThatDoesNotCompileAgainstTheSchemaFailsTheCheck() throws Exception {
    ObjectNode crd = (ObjectNode) crd("pypimirrors.pypimirror.dev-v1.yml");
    ObjectNode index =
        (ObjectNode)
            crd.at(
                "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/indexes/items");
    index
        .withArray("x-kubernetes-validations")
        .addObject()
        .put("rule", "self.trusted")
        .put("message", "typo");

    assertThat(CelRulesCheck.checkCrd(crd))
        .filteredOn(r -> r.expression().equals("self.trusted"))
        .singleElement()
        .satisfies(r -> assertThat(r.problems()).singleElement().asString().contains("trusted"));
  }

  @Test
  void theOptInEntryTheLeaderWritesPasses() throws Exception {
    List<CelRulesCheck.Result> results =
        CelRulesCheck.checkWebhooks(
            List.of(asJson(optInConfiguration(), "MutatingWebhookConfiguration")));
    print(results);
    assertThat(results).isNotEmpty();
    assertThat(results).allSatisfy(r -> assertThat(r.problems()).as(r.where()).isEmpty());
  }

  /** The mutating configuration as the leader creates it before any policy: the opt-in entry. */
  private static MutatingWebhookConfiguration optInConfiguration() {
    var configuration = new MutatingWebhookConfiguration();
    configuration.setMetadata(
        new ObjectMetaBuilder().withName(WebhookRoutes.CONFIGURATION).build());
    configuration.setWebhooks(
        List.of(
            WebhookRoutes.optIn(OperatorSettings.Routing.DEFAULTS, "pypi-mirror-system", "Y2E=")));
    return configuration;
  }

  private static JsonNode asJson(Object configuration, String kind) {
    return SERIALIZATION.convertValue(configuration, ObjectNode.class).put("kind", kind);
  }

  @Test
  void theEntriesTheLeaderWritesPerPolicyPass() throws Exception {
    var mutating = optInConfiguration();
    var advisory =
        Policies.policy(
            "advisory",
            Map.of("team", "a"),
            Mirrors.spec(Mirrors.https("https://x.example/simple/")),
            false);
    advisory.getSpec().setPodSelector(Policies.selector(Map.of("build", "true")));
    var enforce =
        Policies.policy(
            "enforce",
            Map.of("team", "e"),
            Mirrors.spec(Mirrors.https("https://x.example/simple/")),
            true);
    var policies = List.of(advisory, enforce);
    mutating.setWebhooks(
        WebhookRoutes.mutating(mutating.getWebhooks(), policies, "pypi-mirror-system", "Y2E="));
    var validating =
        new io.fabric8.kubernetes.api.model.admissionregistration.v1
            .ValidatingWebhookConfiguration();
    validating.setMetadata(mutating.getMetadata());
    validating.setWebhooks(
        WebhookRoutes.validating(
            List.of(), mutating.getWebhooks(), policies, "pypi-mirror-system", "Y2E="));

    List<CelRulesCheck.Result> results =
        CelRulesCheck.checkWebhooks(
            List.of(
                asJson(mutating, "MutatingWebhookConfiguration"),
                asJson(validating, "ValidatingWebhookConfiguration")));

    print(results);
    assertThat(results).anyMatch(r -> r.where().contains("advisory" + WebhookRoutes.POLICY_SUFFIX));
    assertThat(results).allSatisfy(r -> assertThat(r.problems()).as(r.where()).isEmpty());
  }

  @Test
  void aMatchConditionReadingNamespaceObjectFailsTheCheck() {
    CelRulesCheck.Result result =
        CelRulesCheck.checkMatchCondition(
            "governed",
            "has(namespaceObject.metadata.labels) && 'pypimirror.dev/policy' in"
                + " namespaceObject.metadata.labels");
    assertThat(result.problems()).singleElement().asString().contains("never binds");
  }

  @Test
  void aMatchConditionUsingAnUndeclaredFunctionFailsTheCheck() {
    // isSorted() (Kubernetes' list library) is not declared here: the build relies on none of them
    assertThat(
            CelRulesCheck.checkMatchCondition("sorted", "object.spec.containers.isSorted()")
                .problems())
        .singleElement()
        .asString()
        .contains("does not compile");
  }
}
