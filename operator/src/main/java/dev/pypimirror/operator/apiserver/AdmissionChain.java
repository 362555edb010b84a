package dev.pypimirror.operator.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.policy.LabelSelectors;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * kube-apiserver's dynamic admission, for one request: the mutating webhooks, then the validating
 * ones, chosen from the webhook configurations given (as stored, so what a leader patched into them
 * counts) by the documented rules.
 *
 * <ul>
 *   <li>Order: configurations by name, webhooks in their order. Mutating webhooks run one after
 *       another, each patch applied (JSON Patch, RFC 6902, by zjsonpatch: not this project's own
 *       patch writer) before the next is called; a webhook with {@code reinvocationPolicy:
 *       IfNeeded} is called once more if a later webhook changed the object.
 *   <li>A webhook is called when a rule matches (operation, apiGroup, apiVersion, resource or
 *       {@code resource/subresource} with the {@code *} forms, scope), its namespaceSelector
 *       matches the namespace's labels (a Namespace's own; cluster-scoped objects always match),
 *       its objectSelector matches the object's or the old object's labels, and every
 *       matchCondition is true. A false condition skips it; a condition that errors (and none
 *       false) is a call failure.
 *   <li>A call failure (no endpoints, TLS, timeout, non-200, unreadable or mismatched response)
 *       refuses the request under {@code failurePolicy: Fail} (the default) and skips the webhook
 *       under {@code Ignore}. A denial refuses the request with the webhook's code (400 without
 *       one) and message. Warnings of every webhook are returned.
 * </ul>
 *
 * Not emulated: matchPolicy Equivalent (only exact rules match), validating webhooks run one after
 * another instead of in parallel, no audit annotations, no authorizer, no side-effect/dryRun
 * handling.
 */
public final class AdmissionChain {
  private static final Logger LOG = LoggerFactory.getLogger(AdmissionChain.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Evaluates one matchCondition: true/false, or throws when the expression errors. */
  @FunctionalInterface
  public interface MatchConditions {
    boolean evaluate(String expression, JsonNode object, JsonNode oldObject, JsonNode request)
        throws Exception;

    /**
     * Every condition holds: for an embedded API server without a CEL engine (demo), which then
     * calls a webhook for more requests than kube-apiserver would; the webhook decides anyway.
     */
    MatchConditions NOT_EVALUATED = (expression, object, oldObject, request) -> true;
  }

  /** An admission request: what the API server knows before it calls webhooks. */
  public record Request(
      String operation,
      String group,
      String version,
      String resource,
      String subResource,
      String kind,
      String namespace,
      String name,
      JsonNode object,
      JsonNode oldObject,
      Map<String, String> namespaceLabels) {
    boolean namespaced() {
      return namespace != null && !namespace.isEmpty();
    }

    /** The same request with the objects read: its kind and name, and the namespace's labels. */
    public Request withObjects(
        String objectName, JsonNode newObject, JsonNode old, Map<String, String> labels) {
      return new Request(
          operation,
          group,
          version,
          resource,
          subResource,
          newObject.path("kind").asText(),
          namespace,
          objectName,
          newObject,
          old,
          labels);
    }

    public Request with(JsonNode newObject) {
      return new Request(
          operation,
          group,
          version,
          resource,
          subResource,
          kind,
          namespace,
          name,
          newObject,
          oldObject,
          namespaceLabels);
    }
  }

  /** The chain's answer: the object to store, or why not, and the webhooks' warnings. */
  public record Outcome(JsonNode object, List<String> warnings, Refusal refusal) {
    public boolean allowed() {
      return refusal == null;
    }
  }

  /** A refused request as the API server answers it: HTTP code, Status reason, message. */
  public record Refusal(int code, String reason, String message) {}

  /** One webhook call: which webhook, for which object, what it answered and patched. */
  public record Call(
      String webhook,
      String operation,
      String namespace,
      String name,
      JsonNode response,
      JsonNode patch) {}

  private final WebhookTransport transport;
  private final MatchConditions conditions;
  private volatile java.util.function.Consumer<Call> observer = call -> {};

  public AdmissionChain(WebhookTransport transport, MatchConditions conditions) {
    this.transport = transport;
    this.conditions = conditions;
  }

  /** Tells the observer of every webhook call that got an answer (to show what happened). */
  public AdmissionChain observe(java.util.function.Consumer<Call> observer) {
    this.observer = observer;
    return this;
  }

  /** The mutating webhooks of these configurations, in the order they are called. */
  public Outcome mutate(Request request, List<JsonNode> configurations) {
    List<JsonNode> webhooks = ordered(configurations);
    List<String> warnings = new ArrayList<>();
    JsonNode object = request.object();
    List<Integer> calledIfNeeded = new ArrayList<>();
    java.util.SortedSet<Integer> due = new java.util.TreeSet<>();
    for (int i = 0; i < webhooks.size(); i++) {
      JsonNode webhook = webhooks.get(i);
      Called called = callIfSelected(webhook, request.with(object), true, warnings);
      if (called.refusal != null) {
        return new Outcome(null, warnings, called.refusal);
      }
      if (!called.object.equals(object)) {
        // every IfNeeded webhook called before this change is called once more at the end
        due.addAll(calledIfNeeded);
      }
      object = called.object;
      if (called.invoked && "IfNeeded".equals(webhook.path("reinvocationPolicy").asText())) {
        calledIfNeeded.add(i);
      }
    }
    for (int i : due) {
      Called called = callIfSelected(webhooks.get(i), request.with(object), true, warnings);
      if (called.refusal != null) {
        return new Outcome(null, warnings, called.refusal);
      }
      object = called.object;
    }
    return new Outcome(object, warnings, null);
  }

  /** The validating webhooks of these configurations; the object is not changed. */
  public Outcome validate(Request request, List<JsonNode> configurations) {
    List<String> warnings = new ArrayList<>();
    for (JsonNode webhook : ordered(configurations)) {
      Called called = callIfSelected(webhook, request, false, warnings);
      if (called.refusal != null) {
        return new Outcome(null, warnings, called.refusal);
      }
    }
    return new Outcome(request.object(), warnings, null);
  }

  /** Whether any webhook of these configurations has a rule for this request's kind of write. */
  public static boolean anyRuleMatches(Request request, List<JsonNode> configurations) {
    return ordered(configurations).stream().anyMatch(w -> rulesMatch(w, request));
  }

  private record Called(boolean invoked, JsonNode object, Refusal refusal) {}

  private Called callIfSelected(
      JsonNode webhook, Request request, boolean mutating, List<String> warnings) {
    String name = webhook.path("name").asText();
    boolean failOpen = "Ignore".equals(webhook.path("failurePolicy").asText("Fail"));
    if (!rulesMatch(webhook, request)
        || !namespaceMatches(webhook, request)
        || !objectMatches(webhook, request)) {
      return new Called(false, request.object(), null);
    }
    ObjectNode review = review(request);
    JsonNode admissionRequest = review.get("request");
    String conditionError = null;
    for (JsonNode condition : webhook.path("matchConditions")) {
      try {
        if (!conditions.evaluate(
            condition.path("expression").asText(),
            request.object(),
            request.oldObject(),
            admissionRequest)) {
          return new Called(false, request.object(), null);
        }
      } catch (Exception e) {
        conditionError =
            "matchCondition " + condition.path("name").asText() + " errored: " + e.getMessage();
      }
    }
    try {
      if (conditionError != null) {
        throw new WebhookFailure(conditionError);
      }
      Duration timeout = Duration.ofSeconds(webhook.path("timeoutSeconds").asInt(10));
      byte[] body =
          transport.post(webhook.path("clientConfig"), JSON.writeValueAsBytes(review), timeout);
      JsonNode response = JSON.readTree(body).path("response");
      if (!response.path("uid").asText().equals(admissionRequest.path("uid").asText())) {
        throw new WebhookFailure(
            "expected response.uid="
                + admissionRequest.path("uid").asText()
                + ", got "
                + response.path("uid").asText());
      }
      response.path("warnings").forEach(w -> warnings.add(w.asText()));
      JsonNode patch =
          response.hasNonNull("patch")
              ? JSON.readTree(Base64.getDecoder().decode(response.path("patch").asText()))
              : JSON.createArrayNode();
      observer.accept(
          new Call(
              name, request.operation(), request.namespace(), request.name(), response, patch));
      if (!response.path("allowed").asBoolean(false)) {
        JsonNode status = response.path("status");
        int code = status.path("code").asInt(0);
        String message = status.path("message").asText("");
        return new Called(
            true,
            request.object(),
            new Refusal(
                code == 0 ? 400 : code,
                status.path("reason").asText(""),
                "admission webhook \""
                    + name
                    + "\" denied the request"
                    + (message.isEmpty() ? " without explanation" : ": " + message)));
      }
      if (!mutating || !response.hasNonNull("patch")) {
        return new Called(true, request.object(), null);
      }
      if (!"JSONPatch".equals(response.path("patchType").asText())) {
        throw new WebhookFailure("unsupported patchType " + response.path("patchType").asText());
      }
      try {
        return new Called(true, StrictJsonPatch.apply(patch, request.object()), null);
      } catch (RuntimeException e) {
        // not a call failure: kube-apiserver answers 500 whatever the failurePolicy
        return new Called(
            true,
            request.object(),
            new Refusal(
                500,
                "InternalError",
                "Internal error occurred: "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())));
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      String reason =
          "failed calling webhook \""
              + name
              + "\": "
              + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
      if (failOpen) {
        LOG.warn("{} (failurePolicy Ignore: admitted without it)", reason);
        return new Called(false, request.object(), null);
      }
      return new Called(
          false,
          request.object(),
          new Refusal(500, "InternalError", "Internal error occurred: " + reason));
    }
  }

  private static final class WebhookFailure extends Exception {
    WebhookFailure(String message) {
      super(message);
    }
  }

  private static List<JsonNode> ordered(List<JsonNode> configurations) {
    List<JsonNode> webhooks = new ArrayList<>();
    configurations.stream()
        .sorted(Comparator.comparing(c -> c.at("/metadata/name").asText()))
        .forEach(c -> c.path("webhooks").forEach(webhooks::add));
    return webhooks;
  }

  /**
   * Whether a MatchResources ({@code resourceRules}, {@code namespaceSelector}, {@code
   * objectSelector}, as admission policies and their bindings carry it) selects the request; an
   * absent one selects everything.
   */
  public static boolean matchResources(JsonNode match, Request request) {
    return resourceRulesMatch(match, request)
        && namespaceMatches(match, request)
        && objectMatches(match, request);
  }

  /** Whether a MatchResources' {@code resourceRules} name this kind of write (absent: all do). */
  public static boolean resourceRulesMatch(JsonNode match, Request request) {
    return !match.has("resourceRules") || anyRule(match.path("resourceRules"), request);
  }

  static boolean rulesMatch(JsonNode webhook, Request request) {
    return anyRule(webhook.path("rules"), request);
  }

  private static boolean anyRule(JsonNode rules, Request request) {
    for (JsonNode rule : rules) {
      if (contains(rule.path("operations"), request.operation())
          && contains(rule.path("apiGroups"), request.group())
          && contains(rule.path("apiVersions"), request.version())
          && resourceMatches(rule.path("resources"), request.resource(), request.subResource())
          && scopeMatches(rule.path("scope").asText("*"), request)) {
        return true;
      }
    }
    return false;
  }

  private static boolean contains(JsonNode values, String value) {
    for (JsonNode v : values) {
      if (v.asText().equals("*") || v.asText().equals(value)) {
        return true;
      }
    }
    return false;
  }

  private static boolean resourceMatches(JsonNode resources, String resource, String sub) {
    String wanted = sub == null || sub.isEmpty() ? resource : resource + "/" + sub;
    for (JsonNode r : resources) {
      String entry = r.asText();
      if (entry.equals("*/*")
          || entry.equals(wanted)
          || (entry.equals("*") && !wanted.contains("/"))) {
        return true;
      }
      int slash = entry.indexOf('/');
      if (slash > 0 && sub != null && !sub.isEmpty()) {
        String res = entry.substring(0, slash);
        String part = entry.substring(slash + 1);
        if ((res.equals("*") && part.equals(sub)) || (part.equals("*") && res.equals(resource))) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean scopeMatches(String scope, Request request) {
    boolean namespaced = request.namespaced();
    return switch (scope) {
      case "Namespaced" -> namespaced;
      case "Cluster" -> !namespaced;
      default -> true;
    };
  }

  private static boolean namespaceMatches(JsonNode webhook, Request request) {
    JsonNode selector = webhook.path("namespaceSelector");
    Map<String, String> labels;
    if (request.group().isEmpty() && request.resource().equals("namespaces")) {
      labels = labels(request.object() != null ? request.object() : request.oldObject());
    } else if (!request.namespaced()) {
      return true;
    } else {
      labels = request.namespaceLabels();
    }
    return selects(selector, labels);
  }

  private static boolean objectMatches(JsonNode webhook, Request request) {
    JsonNode selector = webhook.path("objectSelector");
    return (request.object() != null && selects(selector, labels(request.object())))
        || (request.oldObject() != null && selects(selector, labels(request.oldObject())));
  }

  /** An absent selector selects everything, as the API server defaults it to {}. */
  private static boolean selects(JsonNode selector, Map<String, String> labels) {
    if (!selector.isObject()) {
      return true;
    }
    try {
      return LabelSelectors.matches(JSON.treeToValue(selector, LabelSelector.class), labels);
    } catch (Exception e) {
      return false;
    }
  }

  private static Map<String, String> labels(JsonNode object) {
    if (object == null) {
      return Map.of();
    }
    Map<String, String> labels = new java.util.HashMap<>();
    object
        .at("/metadata/labels")
        .properties()
        .forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
    return labels;
  }

  /** The AdmissionReview (admission.k8s.io/v1) a webhook receives for this request. */
  static ObjectNode review(Request request) {
    ObjectNode review =
        JSON.createObjectNode()
            .put("apiVersion", "admission.k8s.io/v1")
            .put("kind", "AdmissionReview");
    ObjectNode r = review.putObject("request").put("uid", UUID.randomUUID().toString());
    ObjectNode kind =
        JSON.createObjectNode()
            .put("group", request.group())
            .put("version", request.version())
            .put("kind", request.kind());
    ObjectNode resource =
        JSON.createObjectNode()
            .put("group", request.group())
            .put("version", request.version())
            .put("resource", request.resource());
    r.set("kind", kind);
    r.set("resource", resource);
    r.set("requestKind", kind.deepCopy());
    r.set("requestResource", resource.deepCopy());
    if (request.subResource() != null && !request.subResource().isEmpty()) {
      r.put("subResource", request.subResource()).put("requestSubResource", request.subResource());
    }
    if (request.name() != null && !request.name().isEmpty()) {
      r.put("name", request.name());
    }
    if (request.namespaced()) {
      r.put("namespace", request.namespace());
    }
    r.put("operation", request.operation());
    ObjectNode user = r.putObject("userInfo").put("username", "kubernetes-admin");
    user.putArray("groups").add("system:masters").add("system:authenticated");
    r.set("object", request.object() == null ? JSON.nullNode() : request.object());
    r.set("oldObject", request.oldObject() == null ? JSON.nullNode() : request.oldObject());
    r.put("dryRun", false);
    String options =
        switch (request.operation()) {
          case "CREATE" -> "CreateOptions";
          case "UPDATE" -> "UpdateOptions";
          default -> "DeleteOptions";
        };
    r.putObject("options").put("apiVersion", "meta.k8s.io/v1").put("kind", options);
    return review;
  }
}
