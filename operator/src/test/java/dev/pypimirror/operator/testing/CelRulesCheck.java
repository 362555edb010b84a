package dev.pypimirror.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.common.CelValidationException;
import dev.pypimirror.operator.apiserver.KubeCel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What kube-apiserver checks of the CEL a manifest carries when the manifest is written: every CRD
 * rule compiles against its schema and stays within the static cost limits; every webhook
 * matchCondition compiles in the admission environment, reads no {@code namespaceObject} (always
 * null for webhooks), and its estimated cost stays under the same per-expression limit.
 */
public final class CelRulesCheck {
  /** apiextensions-apiserver StaticEstimatedCostLimit: one rule, times its cardinality. */
  public static final long EXPRESSION_LIMIT = 10_000_000L;

  /** apiextensions-apiserver StaticEstimatedCRDCostLimit: all rules of one CRD version. */
  public static final long CRD_LIMIT = 100_000_000L;

  /** One expression's verdict: where, its estimated cost (times cardinality), what is wrong. */
  public record Result(String where, String expression, long cost, List<String> problems) {}

  private CelRulesCheck() {}

  /** Every rule of every version of a CRD, then the CRD total per version. */
  public static List<Result> checkCrd(JsonNode crd) {
    List<Result> results = new ArrayList<>();
    String name = crd.at("/metadata/name").asText();
    for (JsonNode version : crd.at("/spec/versions")) {
      JsonNode schema = version.at("/schema/openAPIV3Schema");
      List<Result> rules = new ArrayList<>();
      walk(schema, name + "/" + version.path("name").asText(), "", 1, rules);
      long total = rules.stream().mapToLong(Result::cost).reduce(0, CelCost::add);
      results.addAll(rules);
      results.add(
          new Result(
              name + "/" + version.path("name").asText(),
              "(all rules of the version)",
              total,
              total > CRD_LIMIT
                  ? List.of("total CRD cost %,d exceeds %,d".formatted(total, CRD_LIMIT))
                  : List.of()));
    }
    return results;
  }

  private static void walk(
      JsonNode schema, String crd, String path, long cardinality, List<Result> out) {
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      out.add(checkRule(schema, crd + " " + (path.isEmpty() ? "<root>" : path), rule, cardinality));
    }
    for (var property : schema.path("properties").properties()) {
      walk(property.getValue(), crd, path + "." + property.getKey(), cardinality, out);
    }
    JsonNode items = schema.path("items");
    if (items.isObject()) {
      KubeCel.Decl list = KubeCel.declOf(schema, "list");
      long times = list == null ? 1 : list.maxElements();
      walk(items, crd, path + "[*]", CelCost.multiply(cardinality, times), out);
    }
    JsonNode additional = schema.path("additionalProperties");
    if (additional.isObject()) {
      KubeCel.Decl map = KubeCel.declOf(schema, "map");
      long times = map == null ? 1 : map.maxElements();
      walk(additional, crd, path + "[*]", CelCost.multiply(cardinality, times), out);
    }
  }

  private static Result checkRule(JsonNode schema, String where, JsonNode rule, long cardinality) {
    String expression = rule.path("rule").asText();
    List<String> problems = new ArrayList<>();
    KubeCel.Decl self = KubeCel.declOf(schema, "self");
    if (self == null) {
      return new Result(where, expression, 0, List.of("the schema here is not visible to CEL"));
    }
    try {
      KubeCel.Compiled compiled = KubeCel.compileRule(self, expression);
      long raw =
          CelCost.maxCost(
              compiled.ast(),
              path ->
                  path.get(0).equals("self") || path.get(0).equals("oldSelf")
                      ? self.at(path.subList(1, path.size()))
                          .map(KubeCel.Decl::maxElements)
                          .filter(n -> n > 0)
                      : Optional.empty());
      long cost = CelCost.multiply(raw, cardinality);
      if (cost > EXPRESSION_LIMIT) {
        problems.add(
            "estimated rule cost %,d (%,d per evaluation x %,d evaluations) exceeds %,d"
                .formatted(cost, raw, cardinality, EXPRESSION_LIMIT));
      }
      return new Result(where, expression, cost, problems);
    } catch (CelValidationException e) {
      return new Result(where, expression, 0, List.of("does not compile: " + e.getMessage()));
    }
  }

  /** Every matchCondition of the admission webhook configurations among these objects. */
  public static List<Result> checkWebhooks(List<JsonNode> objects) {
    List<Result> results = new ArrayList<>();
    for (JsonNode object : objects) {
      String kind = object.path("kind").asText();
      if (!kind.endsWith("WebhookConfiguration")) {
        continue;
      }
      for (JsonNode webhook : object.path("webhooks")) {
        for (JsonNode condition : webhook.path("matchConditions")) {
          String where =
              "%s/%s %s matchCondition %s"
                  .formatted(
                      kind,
                      object.at("/metadata/name").asText(),
                      webhook.path("name").asText(),
                      condition.path("name").asText());
          results.add(checkMatchCondition(where, condition.path("expression").asText()));
        }
      }
    }
    return results;
  }

  public static Result checkMatchCondition(String where, String expression) {
    List<String> problems = new ArrayList<>();
    try {
      KubeCel.Compiled compiled = KubeCel.compileMatchCondition(expression);
      if (KubeCel.namespaceObjectUses(compiled)) {
        problems.add(
            "reads namespaceObject, which kube-apiserver never binds for webhook matchConditions:"
                + " it errors at evaluation and failurePolicy decides; select namespaces with"
                + " namespaceSelector");
      }
      // object and oldObject are dyn: no container in a request holds more than it has bytes
      long cost =
          CelCost.maxCost(compiled.ast(), path -> Optional.of(KubeCel.MAX_REQUEST_BYTES - 2));
      if (cost > EXPRESSION_LIMIT) {
        problems.add("estimated cost %,d exceeds %,d".formatted(cost, EXPRESSION_LIMIT));
      }
      return new Result(where, expression, cost, problems);
    } catch (CelValidationException e) {
      return new Result(where, expression, 0, List.of("does not compile: " + e.getMessage()));
    }
  }
}
