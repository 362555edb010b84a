package dev.pypimirror.operator.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The admission part of an API server, in front of fabric8's mock server (CRUD mode) that stores:
 * every create, update and patch of an object that a webhook rule names, or that the {@link
 * Strategy} knows (custom resources), is decoded (defaults), sent through the mutating webhooks,
 * validated, sent through the validating webhooks, and only then stored; a refusal answers as
 * kube-apiserver does (a Status with the code, 422 Invalid for validation) and stores nothing. The
 * webhook configurations and the namespace's labels are read from the store on every request, as
 * the API server watches them, so what a leader patches in (caBundle, entries) counts at once.
 *
 * <p>A patch is applied here to the stored object (JSON Patch; JSON merge patch, which also stands
 * in for strategic merge patch) and admitted as the UPDATE it is. Not emulated: server-side apply
 * (passed to the store unadmitted), authentication and authorization, dryRun, admission on DELETE
 * and CONNECT, built-in admission plugins, API validation of built-in kinds.
 */
public final class AdmittingDispatcher extends Dispatcher {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String WEBHOOKS = "/apis/admissionregistration.k8s.io/v1/";

  /** Where an object lives: parsed from a request path. */
  public record Resource(
      String group,
      String version,
      String resource,
      String subResource,
      String namespace,
      String name) {
    /** The collection path (no name): where a create goes. */
    String collection() {
      String base = group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version;
      return base + (namespace.isEmpty() ? "" : "/namespaces/" + namespace) + "/" + resource;
    }

    String objectPath() {
      return collection() + "/" + name;
    }
  }

  /** Reads from the store behind the admission (what a GET would answer; null if absent). */
  @FunctionalInterface
  public interface Store {
    JsonNode get(String path);
  }

  /**
   * The API server's own steps for kinds it knows the schema of (the stand-in plugs CRD schemas
   * in): defaulting when an object is decoded, validation after mutating admission.
   */
  public interface Strategy {
    boolean handles(Resource resource, Store store);

    JsonNode decode(Resource resource, JsonNode object, Store store);

    /** Problems as kube-apiserver lists them ("spec.x: Invalid value: ...: message"). */
    List<String> validate(Resource resource, JsonNode object, JsonNode oldObject, Store store);

    /** Problems of a /status write's status (the rest of the object is the stored one's). */
    default List<String> validateStatus(
        Resource resource, JsonNode object, JsonNode oldObject, Store store) {
      return List.of();
    }

    Strategy NONE =
        new Strategy() {
          @Override
          public boolean handles(Resource resource, Store store) {
            return false;
          }

          @Override
          public JsonNode decode(Resource resource, JsonNode object, Store store) {
            return object;
          }

          @Override
          public List<String> validate(
              Resource resource, JsonNode object, JsonNode oldObject, Store store) {
            return List.of();
          }
        };
  }

  /**
   * MutatingAdmissionPolicies and ValidatingAdmissionPolicies, which kube-apiserver evaluates
   * itself (CEL): the mutating ones before the mutating webhooks (and again after them, when they
   * changed the object, for those with {@code reinvocationPolicy: IfNeeded}), the validating ones
   * before the validating webhooks.
   */
  public interface Policies {
    /** Whether any stored policy could select this kind of write. */
    boolean anyMatch(AdmissionChain.Request request, Store store);

    /** The mutating policies; {@code reinvocation}: only those that may be reinvoked. */
    AdmissionChain.Outcome mutate(
        AdmissionChain.Request request, Store store, boolean reinvocation);

    AdmissionChain.Outcome validate(AdmissionChain.Request request, Store store);

    Policies NONE =
        new Policies() {
          @Override
          public boolean anyMatch(AdmissionChain.Request request, Store store) {
            return false;
          }

          @Override
          public AdmissionChain.Outcome mutate(
              AdmissionChain.Request request, Store store, boolean reinvocation) {
            return new AdmissionChain.Outcome(request.object(), List.of(), null);
          }

          @Override
          public AdmissionChain.Outcome validate(AdmissionChain.Request request, Store store) {
            return new AdmissionChain.Outcome(request.object(), List.of(), null);
          }
        };
  }

  private final Dispatcher store;
  private final AdmissionChain chain;
  private final Strategy strategy;
  private final Policies policies;
  private final List<String> warnings = new CopyOnWriteArrayList<>();
  private final Store reader = this::get;

  public AdmittingDispatcher(Dispatcher store, AdmissionChain chain, Strategy strategy) {
    this(store, chain, strategy, Policies.NONE);
  }

  public AdmittingDispatcher(
      Dispatcher store, AdmissionChain chain, Strategy strategy, Policies policies) {
    this.store = store;
    this.chain = chain;
    this.strategy = strategy;
    this.policies = policies;
  }

  /** Every warning the webhooks returned, in order (also sent as Warning headers). */
  public List<String> warnings() {
    return List.copyOf(warnings);
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    Write write = Write.of(request);
    if (write == null || write.unadmitted()) {
      return store.dispatch(request);
    }
    Resource resource = write.resource();
    MockResponse lifecycle = namespaceLifecycle(resource, request);
    if (lifecycle != null) {
      return lifecycle;
    }
    if (resource.group().equals("admissionregistration.k8s.io")) {
      return webhookConfiguration(request, resource, write.contentType());
    }
    if (resource.group().isEmpty()
        && resource.resource().equals("namespaces")
        && !write.method().equals("PATCH")) {
      return store.dispatch(withNameLabel(request));
    }
    Webhooks webhooks = webhooks();
    AdmissionChain.Request attributes = write.attributes();
    Validation validation = validation(resource);
    if (validation == Validation.NONE
        && !webhooks.anyRuleMatches(attributes)
        && !policies.anyMatch(attributes, reader)) {
      return store.dispatch(request);
    }
    try {
      OldAndNew objects = objects(write, validation);
      if (objects == null) {
        return store.dispatch(request);
      }
      AdmissionChain.Request admission =
          attributes.withObjects(
              resource.name().isEmpty()
                  ? objects.object().at("/metadata/name").asText()
                  : resource.name(),
              objects.object(),
              objects.old(),
              namespaceLabels(resource.namespace()));
      return admit(write, validation, webhooks, admission);
    } catch (IOException | RuntimeException e) {
      return status(400, "BadRequest", "the request could not be admitted: " + e.getMessage());
    }
  }

  /** A create, update or patch as the admission sees it. */
  private record Write(
      RecordedRequest request,
      String method,
      String path,
      String query,
      Resource resource,
      String contentType) {
    /** The write a request makes; null for a read or a delete. */
    static Write of(RecordedRequest request) {
      String method = request.getMethod();
      if (!method.equals("POST") && !method.equals("PUT") && !method.equals("PATCH")) {
        return null;
      }
      String path = request.getPath();
      int q = path.indexOf('?');
      return new Write(
          request,
          method,
          path,
          q < 0 ? "" : path.substring(q),
          parse(q < 0 ? path : path.substring(0, q)),
          String.valueOf(request.getHeader("Content-Type")));
    }

    /** Stored as sent: not an object path, a CRD, server-side apply, or a POST to a name. */
    boolean unadmitted() {
      return resource == null
          || resource.group().equals("apiextensions.k8s.io")
          || contentType.startsWith("application/apply-patch")
          || (method.equals("POST") && !resource.name().isEmpty());
    }

    boolean create() {
      return method.equals("POST");
    }

    JsonNode body() throws IOException {
      return JSON.readTree(request.getBody().getBytes());
    }

    /** What the API server knows before it reads the objects. */
    AdmissionChain.Request attributes() {
      return new AdmissionChain.Request(
          create() ? "CREATE" : "UPDATE",
          resource.group(),
          resource.version(),
          resource.resource(),
          resource.subResource(),
          "",
          resource.namespace(),
          resource.name(),
          null,
          null,
          Map.of());
    }
  }

  /** How the API server itself checks a write after mutating admission. */
  private enum Validation {
    /** A kind the strategy knows (custom resources): decoded, then validated. */
    SCHEMA,
    /** The /status of such a kind: its status validated. */
    STATUS,
    /** A pod: the rules a mutation can break. */
    POD,
    /** Nothing of its own: only the admission webhooks and policies. */
    NONE;

    boolean decodes() {
      return this == SCHEMA || this == STATUS;
    }
  }

  private Validation validation(Resource resource) {
    if (resource.subResource().isEmpty() && strategy.handles(resource, reader)) {
      return Validation.SCHEMA;
    }
    if (resource.subResource().equals("status") && strategy.handles(resource, reader)) {
      return Validation.STATUS;
    }
    if (resource.group().isEmpty()
        && resource.resource().equals("pods")
        && resource.subResource().isEmpty()) {
      return Validation.POD;
    }
    return Validation.NONE;
  }

  /** The webhook configurations, read from the store on every request. */
  private record Webhooks(List<JsonNode> mutating, List<JsonNode> validating) {
    boolean anyRuleMatches(AdmissionChain.Request attributes) {
      return AdmissionChain.anyRuleMatches(attributes, mutating)
          || AdmissionChain.anyRuleMatches(attributes, validating);
    }
  }

  private Webhooks webhooks() {
    return new Webhooks(
        list(WEBHOOKS + "mutatingwebhookconfigurations"),
        list(WEBHOOKS + "validatingwebhookconfigurations"));
  }

  /** The stored object (null for a create) and the one the write would store, decoded. */
  private record OldAndNew(JsonNode old, JsonNode object) {}

  /** Null when an update names nothing stored (the store answers it). */
  private OldAndNew objects(Write write, Validation validation) throws IOException {
    Resource resource = write.resource();
    if (write.create()) {
      return new OldAndNew(null, decoded(resource, validation, write.body()));
    }
    JsonNode old = get(resource.objectPath() + (ephemeral(resource) ? "" : suffix(resource)));
    if (old == null) {
      return null;
    }
    JsonNode object =
        write.method().equals("PUT")
            ? write.body()
            : patched(old, write.contentType(), write.body());
    if (ephemeral(resource)) {
      object = withEphemeralContainersOf(old, object);
    }
    return new OldAndNew(old, decoded(resource, validation, object));
  }

  private JsonNode decoded(Resource resource, Validation validation, JsonNode object) {
    return validation.decodes() ? strategy.decode(resource, object, reader) : object;
  }

  /**
   * Mutating admission, the API server's own validation, validating admission, then the store; a
   * refusal at any step answers with the warnings returned so far.
   */
  private MockResponse admit(
      Write write, Validation validation, Webhooks webhooks, AdmissionChain.Request admission)
      throws IOException {
    List<String> answered = new ArrayList<>();
    AdmissionChain.Outcome mutated = mutate(admission, webhooks.mutating(), answered);
    if (!mutated.allowed()) {
      return refuse(mutated.refusal(), answered);
    }
    Validated validated =
        validated(write.resource(), validation, admission.oldObject(), mutated.object());
    if (!validated.problems().isEmpty()) {
      return refuse(invalid(validated.object(), write.resource(), validated.problems()), answered);
    }
    AdmissionChain.Outcome checked =
        validate(admission.with(validated.object()), webhooks.validating(), answered);
    if (!checked.allowed()) {
      return refuse(checked.refusal(), answered);
    }
    warnings.addAll(answered);
    return stored(write, validated.object(), answered);
  }

  /**
   * The mutating policies, the mutating webhooks, and the reinvocable policies again when the
   * webhooks changed the object.
   */
  private AdmissionChain.Outcome mutate(
      AdmissionChain.Request admission, List<JsonNode> mutating, List<String> answered) {
    AdmissionChain.Outcome byPolicies = policies.mutate(admission, reader, false);
    answered.addAll(byPolicies.warnings());
    if (!byPolicies.allowed()) {
      return byPolicies;
    }
    AdmissionChain.Outcome byWebhooks = chain.mutate(admission.with(byPolicies.object()), mutating);
    answered.addAll(byWebhooks.warnings());
    if (!byWebhooks.allowed() || byWebhooks.object().equals(byPolicies.object())) {
      return byWebhooks;
    }
    AdmissionChain.Outcome reinvoked =
        policies.mutate(admission.with(byWebhooks.object()), reader, true);
    answered.addAll(reinvoked.warnings());
    return reinvoked;
  }

  /** The object after the API server's own checks, and what they found wrong. */
  private record Validated(JsonNode object, List<String> problems) {}

  private Validated validated(
      Resource resource, Validation validation, JsonNode old, JsonNode mutated) {
    JsonNode object = mutated;
    List<String> problems = new ArrayList<>();
    if (ephemeral(resource)) {
      // the subresource's strategy keeps only the ephemeral containers of what was admitted
      object = withEphemeralContainersOf(old, object);
      problems.addAll(ephemeralContainerProblems(old, object));
      problems.addAll(PodValidation.problems(object));
    }
    switch (validation) {
      case SCHEMA -> {
        object = strategy.decode(resource, object, reader);
        problems.addAll(strategy.validate(resource, object, old, reader));
      }
      case STATUS -> {
        object = strategy.decode(resource, object, reader);
        problems.addAll(strategy.validateStatus(resource, object, old, reader));
      }
      case POD -> problems.addAll(PodValidation.problems(object));
      case NONE -> {}
    }
    return new Validated(object, problems);
  }

  /** The validating policies, then the validating webhooks. */
  private AdmissionChain.Outcome validate(
      AdmissionChain.Request admission, List<JsonNode> validating, List<String> answered) {
    AdmissionChain.Outcome byPolicies = policies.validate(admission, reader);
    answered.addAll(byPolicies.warnings());
    if (!byPolicies.allowed()) {
      return byPolicies;
    }
    AdmissionChain.Outcome byWebhooks = chain.validate(admission, validating);
    answered.addAll(byWebhooks.warnings());
    return byWebhooks;
  }

  /** Stores the admitted object as a create or a replace (a patch is stored as its result). */
  private MockResponse stored(Write write, JsonNode object, List<String> answered)
      throws IOException {
    Resource resource = write.resource();
    String target =
        ephemeral(resource)
            ? resource.objectPath()
            : write.method().equals("PATCH")
                ? resource.objectPath() + suffix(resource) + write.query()
                : write.path();
    MockResponse stored =
        store.dispatch(
            new RecordedRequest(
                "HTTP/1.1",
                write.create() ? HttpMethod.POST : HttpMethod.PUT,
                target,
                jsonHeaders(write.request().getHeaders()),
                new Buffer(JSON.writeValueAsBytes(object))));
    return withWarnings(stored, answered);
  }

  /**
   * NamespaceLifecycle: nothing is written into a namespace that does not exist, and nothing is
   * created in one being deleted; answered as kube-apiserver answers (404 NotFound, 403 Forbidden).
   */
  private MockResponse namespaceLifecycle(Resource resource, RecordedRequest request) {
    if (resource.namespace().isEmpty()) {
      return null;
    }
    JsonNode namespace = get("/api/v1/namespaces/" + resource.namespace());
    if (namespace == null) {
      return status(404, "NotFound", "namespaces \"" + resource.namespace() + "\" not found");
    }
    if (request.getMethod().equals("POST")
        && "Terminating".equals(namespace.at("/status/phase").asText())) {
      String name = "";
      try {
        name = JSON.readTree(request.getBody().getBytes()).at("/metadata/name").asText("");
      } catch (IOException e) {
        // unnamed in the message, as kube-apiserver words a nameless create
      }
      String what =
          resource.resource()
              + (resource.group().isEmpty() ? "" : "." + resource.group())
              + (name.isEmpty() ? "" : " \"" + name + "\"");
      return status(
          403,
          "Forbidden",
          what
              + " is forbidden: unable to create new content in namespace "
              + resource.namespace()
              + " because it is being terminated");
    }
    return null;
  }

  /** A webhook configuration is stored only when kube-apiserver's validation would pass it. */
  private MockResponse webhookConfiguration(
      RecordedRequest request, Resource resource, String contentType) {
    if (!resource.resource().endsWith("webhookconfigurations")
        || !resource.subResource().isEmpty()) {
      return store.dispatch(request);
    }
    try {
      JsonNode object;
      if (request.getMethod().equals("PATCH")) {
        JsonNode old = get(resource.objectPath());
        if (old == null) {
          return store.dispatch(request);
        }
        object = patched(old, contentType, JSON.readTree(request.getBody().getBytes()));
      } else {
        object = JSON.readTree(request.getBody().getBytes());
      }
      List<String> problems = WebhookConfigurationValidation.problems(object);
      if (!problems.isEmpty()) {
        return refuse(invalid(object, resource, problems), List.of());
      }
    } catch (IOException | RuntimeException e) {
      return status(400, "BadRequest", "the request could not be admitted: " + e.getMessage());
    }
    return store.dispatch(request);
  }

  /** Every namespace carries its name as a label (kube-apiserver sets it on create and update). */
  private static RecordedRequest withNameLabel(RecordedRequest request) {
    try {
      JsonNode namespace = JSON.readTree(request.getBody().getBytes());
      if (!namespace.isObject()) {
        return request;
      }
      ((ObjectNode) namespace)
          .withObject("/metadata")
          .withObject("/labels")
          .put("kubernetes.io/metadata.name", namespace.at("/metadata/name").asText());
      return new RecordedRequest(
          "HTTP/1.1",
          HttpMethod.valueOf(request.getMethod()),
          request.getPath(),
          jsonHeaders(request.getHeaders()),
          new Buffer(JSON.writeValueAsBytes(namespace)));
    } catch (IOException e) {
      return request;
    }
  }

  /**
   * Whether the request updates a pod's ephemeralcontainers subresource (kubectl debug): the API
   * server reads and writes the pod itself there, and takes only spec.ephemeralContainers from what
   * it is sent and from what the mutating webhooks made of it.
   */
  private static boolean ephemeral(Resource resource) {
    return resource.group().isEmpty()
        && resource.resource().equals("pods")
        && resource.subResource().equals("ephemeralcontainers");
  }

  private static JsonNode withEphemeralContainersOf(JsonNode old, JsonNode sent) {
    ObjectNode pod = old.deepCopy();
    JsonNode containers = sent.path("spec").path("ephemeralContainers");
    if (containers.isArray()) {
      pod.withObject("/spec").set("ephemeralContainers", containers.deepCopy());
    } else {
      pod.withObject("/spec").remove("ephemeralContainers");
    }
    return pod;
  }

  /**
   * kube-apiserver's checks of an ephemeral containers update that a webhook's patch can break:
   * existing ephemeral containers are kept unchanged, and none mounts with subPath.
   */
  static List<String> ephemeralContainerProblems(JsonNode old, JsonNode pod) {
    List<String> problems = new ArrayList<>();
    Map<String, JsonNode> before = new HashMap<>();
    old.path("spec")
        .path("ephemeralContainers")
        .forEach(c -> before.put(c.path("name").asText(), c));
    Map<String, JsonNode> after = new HashMap<>();
    JsonNode containers = pod.path("spec").path("ephemeralContainers");
    for (int i = 0; i < containers.size(); i++) {
      JsonNode container = containers.get(i);
      after.put(container.path("name").asText(), container);
      JsonNode mounts = container.path("volumeMounts");
      for (int m = 0; m < mounts.size(); m++) {
        if (!mounts.get(m).path("subPath").asText("").isEmpty()
            || !mounts.get(m).path("subPathExpr").asText("").isEmpty()) {
          problems.add(
              "spec.ephemeralContainers[%d].volumeMounts[%d].subPath: Forbidden: cannot be set for an Ephemeral Container"
                  .formatted(i, m));
        }
      }
    }
    before.forEach(
        (name, container) -> {
          if (!container.equals(after.get(name))) {
            problems.add(
                "spec.ephemeralContainers: Forbidden: existing ephemeral containers \"%s\" may not be changed"
                    .formatted(name));
          }
        });
    return problems;
  }

  private static String suffix(Resource resource) {
    return resource.subResource().isEmpty() ? "" : "/" + resource.subResource();
  }

  private static JsonNode patched(JsonNode old, String contentType, JsonNode patch) {
    if (contentType.startsWith("application/json-patch+json")) {
      return StrictJsonPatch.apply(patch, old);
    }
    return mergePatch(old, patch);
  }

  /** RFC 7386 JSON merge patch. */
  static JsonNode mergePatch(JsonNode target, JsonNode patch) {
    if (!patch.isObject()) {
      return patch;
    }
    ObjectNode result =
        target != null && target.isObject() ? target.deepCopy() : JSON.createObjectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
      var entry = it.next();
      if (entry.getValue().isNull()) {
        result.remove(entry.getKey());
      } else {
        result.set(entry.getKey(), mergePatch(result.get(entry.getKey()), entry.getValue()));
      }
    }
    return result;
  }

  private Map<String, String> namespaceLabels(String namespace) {
    if (namespace.isEmpty()) {
      return Map.of();
    }
    JsonNode ns = get("/api/v1/namespaces/" + namespace);
    Map<String, String> labels = new HashMap<>();
    if (ns != null) {
      ns.at("/metadata/labels")
          .properties()
          .forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
    }
    return labels;
  }

  private JsonNode get(String path) {
    MockResponse response =
        store.dispatch(
            new RecordedRequest(
                "HTTP/1.1", HttpMethod.GET, path, Headers.builder().build(), new Buffer()));
    if (response.code() != 200) {
      return null;
    }
    try {
      return JSON.readTree(response.getBody().getBytes());
    } catch (IOException e) {
      return null;
    }
  }

  private List<JsonNode> list(String path) {
    JsonNode list = get(path);
    List<JsonNode> items = new ArrayList<>();
    if (list != null) {
      list.path("items").forEach(items::add);
    }
    return items;
  }

  private static Headers jsonHeaders(Headers original) {
    Headers.Builder headers = Headers.builder();
    original
        .toMultimap()
        .forEach(
            (name, values) -> {
              if (!name.equalsIgnoreCase("Content-Type")
                  && !name.equalsIgnoreCase("Content-Length")) {
                values.forEach(v -> headers.add(name, v));
              }
            });
    return headers.add("Content-Type", "application/json").build();
  }

  private static AdmissionChain.Refusal invalid(
      JsonNode object, Resource resource, List<String> problems) {
    String kind =
        object.path("kind").asText() + (resource.group().isEmpty() ? "" : "." + resource.group());
    String name = object.at("/metadata/name").asText();
    String detail =
        problems.size() == 1 ? problems.get(0) : "[" + String.join(", ", problems) + "]";
    return new AdmissionChain.Refusal(
        422, "Invalid", kind + " \"" + name + "\" is invalid: " + detail);
  }

  private static MockResponse refuse(AdmissionChain.Refusal refusal, List<String> warnings) {
    return withWarnings(status(refusal.code(), refusal.reason(), refusal.message()), warnings);
  }

  /** The webhooks' warnings as Warning headers (code 299), as kube-apiserver sends them. */
  private static MockResponse withWarnings(MockResponse response, List<String> warnings) {
    warnings.forEach(w -> response.addHeader("Warning", "299 - \"" + w.replace("\"", "'") + "\""));
    return response;
  }

  private static MockResponse status(int code, String reason, String message) {
    ObjectNode status =
        JSON.createObjectNode()
            .put("kind", "Status")
            .put("apiVersion", "v1")
            .put("status", "Failure")
            .put("message", message)
            .put("reason", reason)
            .put("code", code);
    return new MockResponse()
        .setResponseCode(code)
        .setHeader("Content-Type", "application/json")
        .setBody(status.toString());
  }

  /**
   * /api/v1[/namespaces/{ns}]/{resource}[/{name}[/{sub}]] and the same under /apis/{group}/{v};
   * null for anything else (discovery, /version, a namespace's own path has resource namespaces).
   */
  static Resource parse(String path) {
    String[] parts = path.replaceAll("^/+|/+$", "").split("/");
    int i;
    String group;
    String version;
    if (parts.length >= 3 && parts[0].equals("api")) {
      group = "";
      version = parts[1];
      i = 2;
    } else if (parts.length >= 4 && parts[0].equals("apis")) {
      group = parts[1];
      version = parts[2];
      i = 3;
    } else {
      return null;
    }
    String namespace = "";
    int rest = parts.length - i;
    if (parts[i].equals("namespaces") && rest >= 3) {
      namespace = parts[i + 1];
      i += 2;
      rest -= 2;
    }
    String resource = parts[i];
    String name = rest >= 2 ? parts[i + 1] : "";
    String sub = rest >= 3 ? parts[i + 2] : "";
    if (rest > 3) {
      return null;
    }
    if (group.isEmpty() && resource.equals("namespaces") && !namespace.isEmpty()) {
      return null;
    }
    return new Resource(group, version, resource, sub, namespace, name);
  }
}
