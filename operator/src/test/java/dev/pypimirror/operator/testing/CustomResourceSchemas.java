package dev.pypimirror.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.re2j.Pattern;
import dev.pypimirror.operator.apiserver.AdmittingDispatcher;
import dev.pypimirror.operator.apiserver.AdmittingDispatcher.Resource;
import dev.pypimirror.operator.apiserver.AdmittingDispatcher.Store;
import dev.pypimirror.operator.apiserver.KubeCel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What kube-apiserver does with a custom resource before it stores it, from the CRD in the store
 * (so a CRD is in force once it is created): unknown fields pruned, defaults applied, the
 * structural schema checked (type, required, enum, pattern with RE2 as Go's regexp, length, items,
 * minimum/maximum) and every {@code x-kubernetes-validations} rule evaluated with CEL ({@code
 * oldSelf} rules only on update, where the old value exists at the same place). Problems read as
 * the API server words them; a rule's {@code message} (or "failed rule: ...") is what the user
 * sees, and a rule that errors reports the error, as kube-apiserver does.
 *
 * <p>The name must be a DNS subdomain; a /status write has its status checked the same way;
 * maxProperties is checked. Not emulated: formats, x-kubernetes-list-type/map keys, ratcheting of
 * unchanged invalid values, messageExpression, metadata other than the name.
 */
public final class CustomResourceSchemas implements AdmittingDispatcher.Strategy {
  private static final Set<String> ROOT_FIELDS = Set.of("apiVersion", "kind", "metadata");
  private static final String DNS_SUBDOMAIN_FORMAT =
      "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
  private static final java.util.regex.Pattern DNS_SUBDOMAIN =
      java.util.regex.Pattern.compile(DNS_SUBDOMAIN_FORMAT);
  private final Map<String, KubeCel.Compiled> rules = new ConcurrentHashMap<>();
  private final Map<String, Pattern> patterns = new ConcurrentHashMap<>();

  private static JsonNode crd(Resource resource, Store store) {
    if (resource.group().isEmpty()) {
      return null;
    }
    return store.get(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
            + resource.resource()
            + "."
            + resource.group());
  }

  private static JsonNode schema(Resource resource, Store store) {
    JsonNode crd = crd(resource, store);
    if (crd == null) {
      return null;
    }
    for (JsonNode version : crd.at("/spec/versions")) {
      if (version.path("name").asText().equals(resource.version())) {
        return version.at("/schema/openAPIV3Schema");
      }
    }
    return null;
  }

  @Override
  public boolean handles(Resource resource, Store store) {
    return schema(resource, store) != null;
  }

  @Override
  public JsonNode decode(Resource resource, JsonNode object, Store store) {
    JsonNode schema = schema(resource, store);
    JsonNode copy = object.deepCopy();
    prune(schema, copy, true);
    applyDefaults(schema, copy);
    return copy;
  }

  @Override
  public List<String> validate(
      Resource resource, JsonNode object, JsonNode oldObject, Store store) {
    JsonNode schema = schema(resource, store);
    List<String> problems = new ArrayList<>();
    String name = object.at("/metadata/name").asText("");
    if (!name.isEmpty() && !(name.length() <= 253 && DNS_SUBDOMAIN.matcher(name).matches())) {
      problems.add(
          "metadata.name: Invalid value: \"%s\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '%s')"
              .formatted(name, DNS_SUBDOMAIN_FORMAT));
    }
    for (var property : schema.path("properties").properties()) {
      if (!ROOT_FIELDS.contains(property.getKey()) && object.has(property.getKey())) {
        check(
            property.getValue(),
            object.get(property.getKey()),
            oldObject == null ? null : oldObject.get(property.getKey()),
            property.getKey(),
            problems);
      }
    }
    return problems;
  }

  /**
   * A /status write: its status is checked against the schema (as kube-apiserver's status strategy
   * validates it; the rest of the object is the stored one's).
   */
  @Override
  public List<String> validateStatus(
      Resource resource, JsonNode object, JsonNode oldObject, Store store) {
    JsonNode statusSchema = schema(resource, store).path("properties").path("status");
    List<String> problems = new ArrayList<>();
    if (statusSchema.isObject() && object.has("status")) {
      check(
          statusSchema,
          object.get("status"),
          oldObject == null ? null : oldObject.get("status"),
          "status",
          problems);
    }
    return problems;
  }

  /** Drops fields the schema does not declare (x-kubernetes-preserve-unknown-fields keeps them). */
  static void prune(JsonNode schema, JsonNode value, boolean root) {
    if (schema == null || value == null) {
      return;
    }
    if (value.isObject()) {
      JsonNode properties = schema.path("properties");
      JsonNode additional = schema.path("additionalProperties");
      boolean keepUnknown = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
      for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
        var field = it.next();
        if (root && ROOT_FIELDS.contains(field.getKey())) {
          continue;
        }
        if (properties.has(field.getKey())) {
          prune(properties.get(field.getKey()), field.getValue(), false);
        } else if (additional.isObject()) {
          prune(additional, field.getValue(), false);
        } else if (!keepUnknown && !additional.asBoolean(false)) {
          it.remove();
        }
      }
    } else if (value.isArray() && schema.path("items").isObject()) {
      value.forEach(item -> prune(schema.get("items"), item, false));
    }
  }

  /** Fills in every absent property that has a default, in objects that are present. */
  static void applyDefaults(JsonNode schema, JsonNode value) {
    if (schema == null || value == null) {
      return;
    }
    if (value.isObject()) {
      for (var property : schema.path("properties").properties()) {
        JsonNode current = value.get(property.getKey());
        if ((current == null || current.isNull()) && property.getValue().has("default")) {
          ((ObjectNode) value)
              .set(property.getKey(), property.getValue().get("default").deepCopy());
        }
        applyDefaults(property.getValue(), value.get(property.getKey()));
      }
      if (schema.path("additionalProperties").isObject()) {
        value.forEach(v -> applyDefaults(schema.get("additionalProperties"), v));
      }
    } else if (value.isArray() && schema.path("items").isObject()) {
      value.forEach(item -> applyDefaults(schema.get("items"), item));
    }
  }

  private void check(
      JsonNode schema, JsonNode value, JsonNode old, String path, List<String> problems) {
    if (value == null || value.isNull()) {
      if (!schema.path("nullable").asBoolean(false) && value != null) {
        problems.add(
            path
                + ": Invalid value: \"null\": "
                + path
                + " in body must be of type "
                + schema.path("type").asText());
      }
      return;
    }
    int before = problems.size();
    String type = schema.path("type").asText();
    boolean intOrString = schema.path("x-kubernetes-int-or-string").asBoolean(false);
    if (!intOrString && !type.isEmpty() && !hasType(value, type)) {
      problems.add(
          "%s: Invalid value: \"%s\": %s in body must be of type %s: \"%s\""
              .formatted(path, jsonType(value), path, type, jsonType(value)));
      return;
    }
    if (schema.has("enum")) {
      boolean found = false;
      List<String> supported = new ArrayList<>();
      for (JsonNode allowed : schema.get("enum")) {
        found |= allowed.equals(value);
        supported.add("\"" + allowed.asText() + "\"");
      }
      if (!found) {
        problems.add(
            "%s: Unsupported value: \"%s\": supported values: %s"
                .formatted(path, value.asText(), String.join(", ", supported)));
      }
    }
    if (value.isTextual()) {
      String text = value.asText();
      int length = text.codePointCount(0, text.length());
      if (schema.has("maxLength") && length > schema.get("maxLength").asInt()) {
        problems.add(
            "%s: Too long: may not be more than %d bytes"
                .formatted(path, schema.get("maxLength").asInt()));
      }
      if (schema.has("minLength") && length < schema.get("minLength").asInt()) {
        problems.add(
            "%s: Invalid value: \"%s\": %s in body should be at least %d chars long"
                .formatted(path, text, path, schema.get("minLength").asInt()));
      }
      if (schema.has("pattern")) {
        String regex = schema.get("pattern").asText();
        if (!patterns.computeIfAbsent(regex, Pattern::compile).matcher(text).find()) {
          problems.add(
              "%s: Invalid value: \"%s\": %s in body should match '%s'"
                  .formatted(path, text, path, regex));
        }
      }
    }
    if (value.isNumber()) {
      if (schema.has("minimum") && value.asDouble() < schema.get("minimum").asDouble()) {
        problems.add(
            "%s: Invalid value: %s: %s in body should be greater than or equal to %s"
                .formatted(path, value.asText(), path, number(schema.get("minimum"))));
      }
      if (schema.has("maximum") && value.asDouble() > schema.get("maximum").asDouble()) {
        problems.add(
            "%s: Invalid value: %s: %s in body should be less than or equal to %s"
                .formatted(path, value.asText(), path, number(schema.get("maximum"))));
      }
    }
    if (value.isArray()) {
      if (schema.has("maxItems") && value.size() > schema.get("maxItems").asInt()) {
        problems.add(
            "%s: Too many: %d: must have at most %d items"
                .formatted(path, value.size(), schema.get("maxItems").asInt()));
      }
      if (schema.has("minItems") && value.size() < schema.get("minItems").asInt()) {
        problems.add(
            "%s: Invalid value: %d: %s in body should have at least %d items"
                .formatted(path, value.size(), path, schema.get("minItems").asInt()));
      }
      if (schema.path("items").isObject()) {
        for (int i = 0; i < value.size(); i++) {
          check(schema.get("items"), value.get(i), null, path + "[" + i + "]", problems);
        }
      }
    }
    if (value.isObject()) {
      if (schema.has("maxProperties") && value.size() > schema.get("maxProperties").asInt()) {
        problems.add(
            "%s: Too many: %d: must have at most %d items"
                .formatted(path, value.size(), schema.get("maxProperties").asInt()));
      }
      for (JsonNode required : schema.path("required")) {
        if (!value.has(required.asText())) {
          problems.add(path + "." + required.asText() + ": Required value");
        }
      }
      for (var property : schema.path("properties").properties()) {
        if (value.has(property.getKey())) {
          check(
              property.getValue(),
              value.get(property.getKey()),
              old == null ? null : old.get(property.getKey()),
              path + "." + property.getKey(),
              problems);
        }
      }
      if (schema.path("additionalProperties").isObject()) {
        value
            .properties()
            .forEach(
                e ->
                    check(
                        schema.get("additionalProperties"),
                        e.getValue(),
                        old == null ? null : old.get(e.getKey()),
                        path + "[" + e.getKey() + "]",
                        problems));
      }
    }
    if (problems.size() == before) {
      evaluateRules(schema, value, old, path, problems);
    }
  }

  private void evaluateRules(
      JsonNode schema, JsonNode value, JsonNode old, String path, List<String> problems) {
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      String expression = rule.path("rule").asText();
      try {
        KubeCel.Compiled compiled =
            rules.computeIfAbsent(
                schema.toString() + "\n" + expression,
                k -> {
                  try {
                    return KubeCel.compileRule(KubeCel.declOf(schema, "self"), expression);
                  } catch (Exception e) {
                    throw new IllegalStateException(e.getMessage(), e);
                  }
                });
        if (compiled.uses("oldSelf") && old == null) {
          continue; // a transition rule: only on update, where an old value exists
        }
        Map<String, JsonNode> variables = new HashMap<>();
        variables.put("self", value);
        variables.put("oldSelf", old);
        if (!compiled.evaluate(variables)) {
          String message =
              rule.hasNonNull("message")
                  ? rule.get("message").asText()
                  : "failed rule: " + expression;
          problems.add("%s: Invalid value: \"%s\": %s".formatted(path, jsonType(value), message));
        }
      } catch (Exception e) {
        problems.add(
            "%s: Invalid value: \"%s\": %s".formatted(path, jsonType(value), e.getMessage()));
      }
    }
  }

  private static boolean hasType(JsonNode value, String type) {
    return switch (type) {
      case "object" -> value.isObject();
      case "array" -> value.isArray();
      case "string" -> value.isTextual();
      case "integer" -> value.isIntegralNumber();
      case "number" -> value.isNumber();
      case "boolean" -> value.isBoolean();
      default -> true;
    };
  }

  private static String jsonType(JsonNode value) {
    if (value.isObject()) {
      return "object";
    }
    if (value.isArray()) {
      return "array";
    }
    return value.asText();
  }

  private static String number(JsonNode n) {
    return n.asDouble() == Math.rint(n.asDouble()) ? String.valueOf(n.asLong()) : n.asText();
  }
}
