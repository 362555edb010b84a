package dev.pypimirror.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.testing.Kustomize;
import dev.pypimirror.operator.testing.ProjectPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every CEL expression the project ships, checked as kube-apiserver checks it when the manifest is
 * applied: the CRDs' rules (compile against the schema, estimated cost per rule and per CRD) and
 * the webhook configurations' matchConditions (compile in the admission environment, no
 * namespaceObject). The figures are printed; docs/apiserver.md records them.
 */
class CelRulesCheckTest {
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
  void theRenderedWebhookMatchConditionsPass() throws Exception {
    List<CelRulesCheck.Result> results =
        CelRulesCheck.checkWebhooks(Kustomize.render("deploy/default"));
    print(results);
    assertThat(results).isNotEmpty();
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
