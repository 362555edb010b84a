package dev.pypimirror.operator.apiserver;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.policy.LabelSelectors;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.io.IOException;
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
      Called called = callIfSelected(webhook, request.with(object), Phase.MUTATING, warnings);
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
      Called called =
          callIfSelected(webhooks.get(i), request.with(object), Phase.MUTATING, warnings);
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
      Called called = callIfSelected(webhook, request, Phase.VALIDATING, warnings);
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

  /** Which admission a webhook takes part in: only a mutating webhook's patch is applied. */
  private enum Phase {
    MUTATING,
    VALIDATING
  }

  /** What came of one webhook: whether it was called, the object after it, or a refusal. */
  private record Called(boolean invoked, JsonNode object, Refusal refusal) {
    static Called skipped(JsonNode object) {
      return new Called(false, object, null);
    }
  }

  /**
   * Whether a webhook (or a MatchResources) selects a request: skipped, selected, or an error (a
   * selector that does not convert, once everything else selects).
   */
  private record Selection(boolean selected, String error) {
    static final Selection SKIPPED = new Selection(false, null);
    static final Selection SELECTED = new Selection(true, null);
  }

  /** One selector against the labels: matches, or the error of a selector that does not convert. */
  private record SelectorMatch(boolean matches, String error) {
    static final SelectorMatch ALL = new SelectorMatch(true, null);

    /** A clean no: the webhook is skipped whatever else is wrong with it. */
    boolean excludes() {
      return !matches && error == null;
    }
  }

  /** matchConditions: one false (the webhook is skipped), else the error of one, if any. */
  private record Conditions(boolean anyFalse, String error) {}

  /** A step of a call that can fail: its value, or why the call failed. */
  private record Step(JsonNode value, String failure) {
    static Step of(JsonNode value) {
      return new Step(value, null);
    }

    static Step failed(String failure) {
      return new Step(null, failure);
    }
  }

  /**
   * One webhook for one request, in kube-apiserver's order: selected by its rules and selectors (a
   * selector that does not convert refuses with 500 whatever the failurePolicy, as {@code
   * ShouldCallHook}'s error does), its matchConditions, the call, and what it answered.
   */
  private Called callIfSelected(
      JsonNode webhook, Request request, Phase phase, List<String> warnings) {
    Selection selection = webhookSelection(webhook, request);
    if (selection.error() != null) {
      return new Called(false, request.object(), internalError(selection.error()));
    }
    if (!selection.selected()) {
      return Called.skipped(request.object());
    }
    ObjectNode review = review(request);
    Conditions conditions = conditions(webhook, request, review.get("request"));
    if (conditions.anyFalse()) {
      return Called.skipped(request.object());
    }
    Step reply =
        conditions.error() != null ? Step.failed(conditions.error()) : call(webhook, review);
    if (reply.failure() != null) {
      return callFailed(webhook, request, reply.failure());
    }
    return answered(webhook, request, phase, reply.value(), warnings);
  }

  /** Every matchCondition of the webhook: a false one wins over one that errors. */
  private Conditions conditions(JsonNode webhook, Request request, JsonNode admissionRequest) {
    String error = null;
    for (JsonNode condition : webhook.path("matchConditions")) {
      try {
        if (!conditions.evaluate(
            condition.path("expression").asText(),
            request.object(),
            request.oldObject(),
            admissionRequest)) {
          return new Conditions(true, null);
        }
      } catch (Exception e) {
        error = "matchCondition " + condition.path("name").asText() + " errored: " + e.getMessage();
      }
    }
    return new Conditions(false, error);
  }

  /** POSTs the review; the webhook's response, or why the call failed. */
  private Step call(JsonNode webhook, ObjectNode review) {
    try {
      Duration timeout = Duration.ofSeconds(webhook.path("timeoutSeconds").asInt(10));
      byte[] body =
          transport.post(webhook.path("clientConfig"), JSON.writeValueAsBytes(review), timeout);
      JsonNode response = JSON.readTree(body).path("response");
      String uid = review.at("/request/uid").asText();
      if (!response.path("uid").asText().equals(uid)) {
        return Step.failed(
            "expected response.uid=" + uid + ", got " + response.path("uid").asText());
      }
      return Step.of(response);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Step.failed(messageOf(e));
    } catch (IOException | RuntimeException e) {
      return Step.failed(messageOf(e));
    }
  }

  /** What a webhook answered: its warnings kept, then a denial, nothing to apply, or its patch. */
  private Called answered(
      JsonNode webhook, Request request, Phase phase, JsonNode response, List<String> warnings) {
    String name = webhook.path("name").asText();
    response.path("warnings").forEach(w -> warnings.add(w.asText()));
    Step patch = patchOf(response);
    if (patch.failure() != null) {
      return callFailed(webhook, request, patch.failure());
    }
    observer.accept(
        new Call(
            name,
            request.operation(),
            request.namespace(),
            request.name(),
            response,
            patch.value()));
    if (!response.path("allowed").asBoolean(false)) {
      return new Called(true, request.object(), denial(name, response.path("status")));
    }
    if (phase == Phase.VALIDATING || !response.hasNonNull("patch")) {
      return new Called(true, request.object(), null);
    }
    if (!"JSONPatch".equals(response.path("patchType").asText())) {
      return callFailed(
          webhook, request, "unsupported patchType " + response.path("patchType").asText());
    }
    return applied(request, patch.value());
  }

  /** The response's base64 JSON Patch (an empty one when it has none). */
  private static Step patchOf(JsonNode response) {
    if (!response.hasNonNull("patch")) {
      return Step.of(JSON.createArrayNode());
    }
    try {
      return Step.of(JSON.readTree(Base64.getDecoder().decode(response.path("patch").asText())));
    } catch (IOException | IllegalArgumentException e) {
      return Step.failed(messageOf(e));
    }
  }

  /** A patch that does not apply is not a call failure: 500 whatever the failurePolicy. */
  private static Called applied(Request request, JsonNode patch) {
    try {
      return new Called(true, StrictJsonPatch.apply(patch, request.object()), null);
    } catch (RuntimeException e) {
      return new Called(true, request.object(), internalError(messageOf(e)));
    }
  }

  private static Refusal denial(String name, JsonNode status) {
    int code = status.path("code").asInt(0);
    String message = status.path("message").asText("");
    return new Refusal(
        code == 0 ? 400 : code,
        status.path("reason").asText(""),
        "admission webhook \""
            + name
            + "\" denied the request"
            + (message.isEmpty() ? " without explanation" : ": " + message));
  }

  /** A call failure: skipped under failurePolicy Ignore, refused with 500 under Fail. */
  private static Called callFailed(JsonNode webhook, Request request, String failure) {
    String reason = "failed calling webhook \"" + webhook.path("name").asText() + "\": " + failure;
    if ("Ignore".equals(webhook.path("failurePolicy").asText("Fail"))) {
      LOG.warn("{} (failurePolicy Ignore: admitted without it)", reason);
      return Called.skipped(request.object());
    }
    return new Called(false, request.object(), internalError(reason));
  }

  private static Refusal internalError(String message) {
    return new Refusal(500, "InternalError", "Internal error occurred: " + message);
  }

  private static String messageOf(Exception e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
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
   *
   * @throws IllegalArgumentException when it would select the request but a selector does not
   *     convert: a configuration error, which the policy's failurePolicy decides
   */
  public static boolean matchResources(JsonNode match, Request request) {
    Selection selection = selection(match, request, resourceRulesMatch(match, request));
    if (selection.error() != null) {
      throw new IllegalArgumentException(selection.error());
    }
    return selection.selected();
  }

  /** kube-apiserver's {@code ShouldCallHook}: selectors, then rules, then a selector's error. */
  private static Selection webhookSelection(JsonNode webhook, Request request) {
    return selection(webhook, request, rulesMatch(webhook, request));
  }

  /**
   * A selector that cleanly excludes the request skips it, as do rules that do not match; only then
   * is a selector that does not convert an error (namespace_matcher, then object_matcher).
   */
  private static Selection selection(JsonNode selectors, Request request, boolean rulesMatch) {
    SelectorMatch namespace = namespaceMatch(selectors, request);
    SelectorMatch object = objectMatch(selectors, request);
    if (namespace.excludes() || object.excludes() || !rulesMatch) {
      return Selection.SKIPPED;
    }
    String error = namespace.error() != null ? namespace.error() : object.error();
    return error == null ? Selection.SELECTED : new Selection(false, error);
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

  /**
   * The namespaceSelector against the namespace's labels (a Namespace's own); cluster-scoped
   * objects always match, their selector unread.
   */
  private static SelectorMatch namespaceMatch(JsonNode selectors, Request request) {
    JsonNode selector = selectors.path("namespaceSelector");
    if (request.group().isEmpty() && request.resource().equals("namespaces")) {
      return selects(
          selector,
          List.of(labels(request.object() != null ? request.object() : request.oldObject())));
    }
    if (!request.namespaced()) {
      return SelectorMatch.ALL;
    }
    return selects(selector, List.of(request.namespaceLabels()));
  }

  /** The objectSelector against the object's or the old object's labels. */
  private static SelectorMatch objectMatch(JsonNode selectors, Request request) {
    List<Map<String, String>> candidates = new ArrayList<>();
    if (request.object() != null) {
      candidates.add(labels(request.object()));
    }
    if (request.oldObject() != null) {
      candidates.add(labels(request.oldObject()));
    }
    return selects(selectors.path("objectSelector"), candidates);
  }

  /**
   * Whether a selector matches any of these label sets; an absent selector selects everything, as
   * the API server defaults it to {}. One that does not convert (LabelSelectorAsSelector fails) is
   * an error, not a no.
   */
  private static SelectorMatch selects(JsonNode selector, List<Map<String, String>> candidates) {
    if (!selector.isObject()) {
      return SelectorMatch.ALL;
    }
    LabelSelector converted;
    try {
      converted = JSON.treeToValue(selector, LabelSelector.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      return new SelectorMatch(false, "invalid label selector: " + messageOf(e));
    }
    List<String> problems = LabelSelectors.problems(converted);
    if (!problems.isEmpty()) {
      return new SelectorMatch(
          false, new LabelSelectors.InvalidSelectorException(problems).getMessage());
    }
    return new SelectorMatch(
        candidates.stream().anyMatch(labels -> LabelSelectors.matches(converted, labels)), null);
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
