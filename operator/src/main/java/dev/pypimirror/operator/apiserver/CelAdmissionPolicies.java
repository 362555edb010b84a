package dev.pypimirror.operator.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.fabric8.zjsonpatch.JsonPatch;
import io.fabric8.zjsonpatch.JsonPatchException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * MutatingAdmissionPolicies and ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1)
 * evaluated as kube-apiserver's {@code policy/mutating} and {@code policy/validating} plugins do,
 * read from the store on every request:
 *
 * <ul>
 *   <li>each binding (by binding name) of an existing policy; the policy's {@code matchConstraints}
 *       and the binding's {@code matchResources} (resource rules, namespace and object selectors)
 *       must both select the request;
 *   <li>every matchCondition true (a false one skips the binding; one that errors is a failure);
 *   <li>{@code variables} evaluated in order, each seeing those before it;
 *   <li>mutations: {@code JSONPatch} expressions give a list of {@code JSONPatch{op, path, from,
 *       value}}, applied with RFC 6902 (zjsonpatch: {@code remove} of a missing member fails, a
 *       failed {@code test} leaves the object unchanged); validations: a false expression denies
 *       with its {@code message} (or {@code messageExpression}), as {@code
 *       ValidatingAdmissionPolicy '<policy>' with binding '<binding>' denied request: <message>};
 *   <li>a failure (compile error, evaluation error, a patch that does not apply) refuses the
 *       request under {@code failurePolicy: Fail} (the default) and skips the binding under {@code
 *       Ignore}.
 * </ul>
 *
 * Not emulated: {@code paramKind}/{@code paramRef} (a binding with a paramRef fails), {@code
 * ApplyConfiguration} mutations (fail), {@code auditAnnotations}, {@code validationActions} other
 * than Deny, {@code excludeResourceRules}, {@code matchPolicy: Equivalent}, the runtime cost budget
 * (the expressions' static estimate is checked instead, see {@code AdmissionPolicyCostTest}), the
 * type check of {@code Object...} initializers against the schema.
 */
public final class CelAdmissionPolicies
    implements dev.pypimirror.operator.apiserver.AdmittingDispatcher.Policies {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(CelAdmissionPolicies.class);
  private static final String BASE = "/apis/admissionregistration.k8s.io/v1/";
  private final Map<String, Object> compiled = new ConcurrentHashMap<>();
  private final AtomicLong evaluations = new AtomicLong();

  /** How many policy bindings were evaluated (matched and run), for the tests' counts. */
  public long evaluations() {
    return evaluations.get();
  }

  @Override
  public boolean anyMatch(AdmissionChain.Request request, AdmittingDispatcher.Store store) {
    for (String kind : List.of("mutating", "validating")) {
      for (JsonNode policy : items(store, kind + "admissionpolicies")) {
        if (AdmissionChain.resourceRulesMatch(policy.at("/spec/matchConstraints"), request)) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  public AdmissionChain.Outcome mutate(
      AdmissionChain.Request request, AdmittingDispatcher.Store store, boolean reinvocation) {
    JsonNode object = request.object();
    for (Bound bound : bound(store, "mutating")) {
      if (reinvocation
          && !"IfNeeded".equals(bound.policy.at("/spec/reinvocationPolicy").asText())) {
        continue;
      }
      AdmissionChain.Request current = request.with(object);
      try {
        Map<String, Object> context = selected(bound, current, store);
        if (context == null) {
          continue;
        }
        for (JsonNode mutation : bound.policy.at("/spec/mutations")) {
          if (!"JSONPatch".equals(mutation.path("patchType").asText())) {
            throw new IllegalStateException(
                "patchType " + mutation.path("patchType").asText() + " is not emulated");
          }
          Object patch =
              compile(mutation.at("/jsonPatch/expression").asText()).value(Map.of(), context);
          ArrayNode operations = JSON.createArrayNode();
          for (Object op : (List<?>) patch) {
            operations.add(JSON.valueToTree(toJson(op)));
          }
          try {
            object = JsonPatch.apply(operations, object);
          } catch (JsonPatchException e) {
            if (!String.valueOf(e.getMessage()).startsWith("Expected")) {
              throw e;
            }
          }
          context = context(current.with(object), store, bound);
        }
      } catch (Exception e) {
        AdmissionChain.Refusal refusal = failure(bound, "MutatingAdmissionPolicy", e);
        if (refusal != null) {
          return new AdmissionChain.Outcome(null, List.of(), refusal);
        }
      }
    }
    return new AdmissionChain.Outcome(object, List.of(), null);
  }

  @Override
  public AdmissionChain.Outcome validate(
      AdmissionChain.Request request, AdmittingDispatcher.Store store) {
    for (Bound bound : bound(store, "validating")) {
      try {
        Map<String, Object> context = selected(bound, request, store);
        if (context == null) {
          continue;
        }
        for (JsonNode validation : bound.policy.at("/spec/validations")) {
          Object allowed = compile(validation.path("expression").asText()).value(Map.of(), context);
          if (!Boolean.TRUE.equals(allowed)) {
            String message = validation.path("message").asText("");
            if (validation.hasNonNull("messageExpression")) {
              message =
                  String.valueOf(
                      compile(validation.path("messageExpression").asText())
                          .value(Map.of(), context));
            }
            if (message.isEmpty()) {
              message = "failed expression: " + validation.path("expression").asText();
            }
            int code = "Forbidden".equals(validation.path("reason").asText("Invalid")) ? 403 : 422;
            return new AdmissionChain.Outcome(
                null,
                List.of(),
                new AdmissionChain.Refusal(
                    code,
                    validation.path("reason").asText("Invalid"),
                    // GroupResource.String(): the resource alone in the core group
                    "%s \"%s\" is forbidden: ValidatingAdmissionPolicy '%s' with binding '%s' denied request: %s"
                        .formatted(
                            request.group().isEmpty()
                                ? request.resource()
                                : request.resource() + "." + request.group(),
                            request.name(),
                            bound.policyName(),
                            bound.bindingName(),
                            message)));
          }
        }
      } catch (Exception e) {
        AdmissionChain.Refusal refusal = failure(bound, "ValidatingAdmissionPolicy", e);
        if (refusal != null) {
          return new AdmissionChain.Outcome(null, List.of(), refusal);
        }
      }
    }
    return new AdmissionChain.Outcome(request.object(), List.of(), null);
  }

  /** A binding and its policy. */
  private record Bound(JsonNode binding, JsonNode policy) {
    String policyName() {
      return policy.at("/metadata/name").asText();
    }

    String bindingName() {
      return binding.at("/metadata/name").asText();
    }
  }

  /** The bindings of existing policies, in the order kube-apiserver runs them (by name). */
  private static List<Bound> bound(AdmittingDispatcher.Store store, String kind) {
    Map<String, JsonNode> policies = new HashMap<>();
    items(store, kind + "admissionpolicies")
        .forEach(p -> policies.put(p.at("/metadata/name").asText(), p));
    List<Bound> bound = new ArrayList<>();
    items(store, kind + "admissionpolicybindings").stream()
        .sorted(Comparator.comparing(b -> b.at("/metadata/name").asText()))
        .forEach(
            b -> {
              JsonNode policy = policies.get(b.at("/spec/policyName").asText());
              if (policy != null) {
                bound.add(new Bound(b, policy));
              }
            });
    return bound;
  }

  /** The evaluation context when the binding selects the request, else null. */
  private Map<String, Object> selected(
      Bound bound, AdmissionChain.Request request, AdmittingDispatcher.Store store)
      throws Exception {
    if (!AdmissionChain.matchResources(bound.policy.at("/spec/matchConstraints"), request)
        || !AdmissionChain.matchResources(bound.binding.at("/spec/matchResources"), request)) {
      return null;
    }
    if (bound.binding.at("/spec/paramRef").isObject()) {
      throw new IllegalStateException("paramRef is not emulated");
    }
    Map<String, Object> context = base(request, store);
    Exception error = null;
    for (JsonNode condition : bound.policy.at("/spec/matchConditions")) {
      try {
        if (!Boolean.TRUE.equals(
            compile(condition.path("expression").asText()).value(Map.of(), context))) {
          return null;
        }
      } catch (Exception e) {
        error = e;
      }
    }
    if (error != null) {
      throw error;
    }
    evaluations.incrementAndGet();
    return context(request, store, bound);
  }

  private Map<String, Object> context(
      AdmissionChain.Request request, AdmittingDispatcher.Store store, Bound bound) {
    Map<String, Object> context = base(request, store);
    Map<String, Object> variables = new LinkedHashMap<>();
    context.put("variables", variables);
    for (JsonNode variable : bound.policy.at("/spec/variables")) {
      try {
        variables.put(
            variable.path("name").asText(),
            compile(variable.path("expression").asText()).value(Map.of(), context));
      } catch (Exception e) {
        // an expression reading it errors (no such key), as kube-apiserver's lazy variable does
      }
    }
    return context;
  }

  private static Map<String, Object> base(
      AdmissionChain.Request request, AdmittingDispatcher.Store store) {
    Map<String, Object> context = new HashMap<>();
    put(context, "object", request.object());
    put(context, "oldObject", request.oldObject());
    context.put("params", KubeCel.NULL);
    if (request.namespace() != null && !request.namespace().isEmpty()) {
      put(
          context,
          KubeCel.NAMESPACE_OBJECT,
          store.get("/api/v1/namespaces/" + request.namespace()));
    } else {
      context.put(KubeCel.NAMESPACE_OBJECT, KubeCel.NULL);
    }
    put(context, "request", AdmissionChain.review(request).get("request"));
    return context;
  }

  private static void put(Map<String, Object> context, String name, JsonNode json) {
    context.put(name, json == null || json.isNull() ? KubeCel.NULL : KubeCel.toCel(json));
  }

  private KubeCel.Compiled compile(String expression) throws Exception {
    Object known = compiled.get(expression);
    if (known == null) {
      try {
        known = KubeCel.compilePolicyExpression(expression);
      } catch (Exception e) {
        known = e;
      }
      compiled.put(expression, known);
    }
    if (known instanceof Exception e) {
      throw e;
    }
    return (KubeCel.Compiled) known;
  }

  private static AdmissionChain.Refusal failure(Bound bound, String kind, Exception e) {
    LOG.warn("{} {} failed: {}", kind, bound.policyName(), e.toString());
    if ("Ignore".equals(bound.policy.at("/spec/failurePolicy").asText("Fail"))) {
      return null;
    }
    return new AdmissionChain.Refusal(
        500,
        "InternalError",
        "Internal error occurred: %s '%s' with binding '%s' failed: %s"
            .formatted(kind, bound.policyName(), bound.bindingName(), e.getMessage()));
  }

  /** A CEL value as JSON: maps (struct values are maps of their fields), lists and scalars. */
  static Object toJson(Object value) {
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(String.valueOf(k), toJson(v)));
      return out;
    }
    if (value instanceof List<?> list) {
      return list.stream().map(CelAdmissionPolicies::toJson).toList();
    }
    if (value == KubeCel.NULL) {
      return null;
    }
    if (value instanceof com.google.common.primitives.UnsignedLong u) {
      return u.bigIntegerValue();
    }
    return value;
  }

  private static List<JsonNode> items(AdmittingDispatcher.Store store, String resource) {
    JsonNode list = store.get(BASE + resource);
    List<JsonNode> items = new ArrayList<>();
    if (list != null) {
      list.path("items").forEach(items::add);
    }
    return items;
  }
}
