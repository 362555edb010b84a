package dev.pypimirror.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.apiserver.AdmissionChain;
import dev.pypimirror.operator.apiserver.KubeCel;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Webhook matchConditions evaluated as kube-apiserver evaluates them: CEL over {@code object},
 * {@code oldObject} and {@code request}; {@code namespaceObject} is declared but null, as the
 * webhook matcher leaves it, so reading it errors and the webhook's failurePolicy decides; {@code
 * authorizer} has no functions.
 */
public final class CelMatchConditions implements AdmissionChain.MatchConditions {
  private final Map<String, KubeCel.Compiled> compiled = new ConcurrentHashMap<>();

  @Override
  public boolean evaluate(String expression, JsonNode object, JsonNode oldObject, JsonNode request)
      throws Exception {
    KubeCel.Compiled condition = compiled.get(expression);
    if (condition == null) {
      condition = KubeCel.compileMatchCondition(expression);
      compiled.put(expression, condition);
    }
    Map<String, JsonNode> variables = new HashMap<>();
    variables.put("object", object);
    variables.put("oldObject", oldObject);
    variables.put("request", request);
    return condition.evaluate(variables, Map.of(KubeCel.NAMESPACE_OBJECT, KubeCel.NULL));
  }
}
