package dev.pypimirror.operator.webhook;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.inject.PodInjector;
import dev.pypimirror.operator.inject.Reason;
import dev.pypimirror.operator.inject.Requester;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.policy.PolicyRules;
import dev.pypimirror.operator.webhook.AdmissionReviews.Decision;
import dev.pypimirror.operator.webhook.AdmissionReviews.Fields;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/** POST /mutate-pods: the mirror injected into pods on CREATE. */
public class PodAdmission {
  /** Told about every answer, for events and metrics. */
  public interface Listener {
    /**
     * @param plan the decision, or null when the request was refused as malformed (400)
     * @param nanos the time from body to answer
     */
    void answered(String namespace, JsonNode pod, InjectionPlan plan, boolean dryRun, long nanos);

    Listener NONE = (namespace, pod, plan, dryRun, nanos) -> {};
  }

  /**
   * The decision on one request, and for the listener what it was about (all null when the webhook
   * could not decide).
   */
  private record Decided(
      Decision decision, String namespace, JsonNode pod, InjectionPlan plan, boolean dryRun) {
    static Decided answerOnly(Decision decision) {
      return new Decided(decision, null, null, null, false);
    }
  }

  private static final Fields ALL = Fields.ALL;

  /**
   * What the decision reads of an AdmissionReview (the request's identity, operation and requester;
   * the pod's metadata, volumes, and each container's name, env, envFrom and mounts): the rest (the
   * images, args, resources, probes, status, oldObject...) is skipped without building a tree.
   */
  private static final Fields READ = readFields();

  private static Fields readFields() {
    Fields container =
        Fields.of(Map.of("name", ALL, "env", ALL, "envFrom", ALL, "volumeMounts", ALL));
    Fields names = Fields.of(Map.of("name", ALL));
    Fields pod =
        Fields.of(
            Map.of(
                "metadata",
                Fields.of(
                    Map.of(
                        "name", ALL,
                        "generateName", ALL,
                        "namespace", ALL,
                        "annotations", ALL,
                        "labels", ALL)),
                "spec",
                Fields.of(
                    Map.of(
                        "volumes",
                        ALL,
                        "initContainers",
                        container,
                        "containers",
                        container,
                        "ephemeralContainers",
                        container))));
    Fields request =
        Fields.of(
            Map.of(
                "uid", ALL,
                "namespace", ALL,
                "name", ALL,
                "operation", ALL,
                "resource", ALL,
                "subResource", ALL,
                "dryRun", ALL,
                "userInfo", ALL,
                "object", pod,
                "oldObject",
                    Fields.of(Map.of("spec", Fields.of(Map.of("ephemeralContainers", names))))));
    return Fields.of(Map.of("kind", ALL, "apiVersion", ALL, "request", request));
  }

  /**
   * Where a decision that must read the API server runs ({@link PolicyDirectory#answersAtOnce} is
   * false), and how long the webhook waits for it before it refuses.
   *
   * @param executor a worker, never the event loop; it may refuse work (the pod is then refused)
   * @param timeLimit past it the pod is refused, whatever the lookup answers later
   */
  public record LiveLookups(Executor executor, Duration timeLimit) {
    /** On the caller's thread, without a limit: for callers that may block (tests, the CLI). */
    public static final LiveLookups INLINE = new LiveLookups(Runnable::run, Duration.ZERO);
  }

  private final MirrorDirectory mirrors;
  private final PolicyDirectory policies;
  private final String operatorNamespace;
  private final Listener listener;
  private final LiveLookups lookups;

  public PodAdmission(
      MirrorDirectory mirrors,
      PolicyDirectory policies,
      String operatorNamespace,
      Listener listener) {
    this(mirrors, policies, operatorNamespace, listener, LiveLookups.INLINE);
  }

  /** As the other constructor, with the live lookups {@link #reviewLater} makes on a worker. */
  public PodAdmission(
      MirrorDirectory mirrors,
      PolicyDirectory policies,
      String operatorNamespace,
      Listener listener,
      LiveLookups lookups) {
    this.mirrors = mirrors;
    this.policies = policies;
    this.operatorNamespace = operatorNamespace;
    this.listener = listener;
    this.lookups = lookups;
  }

  /**
   * The webhook entry the API server chose, from the path it called: a policy's entry names the
   * policy and whether it enforces ({@link WebhookRoutes#podPath}); null for the opt-in entry.
   */
  record Entry(String policy, boolean enforce) {
    /** The entry a path below {@code /mutate-pods/} names, or null when it names none. */
    static Entry parse(String rest) {
      String[] parts = rest.split("/", -1);
      if (parts.length != 2 || parts[1].isEmpty()) {
        return null;
      }
      return switch (parts[0]) {
        case WebhookRoutes.ENFORCE -> new Entry(parts[1], true);
        case WebhookRoutes.ADVISORY -> new Entry(parts[1], false);
        default -> null;
      };
    }
  }

  /** A request through the opt-in entry ({@code /mutate-pods}). */
  public AdmissionResponse review(byte[] body) {
    return review((Entry) null, body);
  }

  /**
   * A request through a policy's entry: {@code rest} is the path below {@code /mutate-pods/}. A
   * path that names no entry is a 400.
   */
  public AdmissionResponse review(String rest, byte[] body) {
    Entry entry = Entry.parse(rest);
    return entry == null
        ? AdmissionResponse.badRequest("no webhook entry at /mutate-pods/" + rest)
        : review(entry, body);
  }

  /**
   * As {@link #review(String, byte[])}, for a caller on an event loop: answered at once when the
   * caches can decide, else decided on the {@link LiveLookups} worker, and refused when that does
   * not answer within its time limit, refuses the work or fails (an Enforce entry fails closed).
   */
  public CompletionStage<AdmissionResponse> reviewLater(String rest, byte[] body) {
    Entry entry = Entry.parse(rest);
    if (entry == null || !entry.enforce()) {
      return CompletableFuture.completedFuture(review(rest, body));
    }
    long start = System.nanoTime();
    AdmissionReviews.Read read = AdmissionReviews.read(body, READ);
    if (!(read instanceof AdmissionReviews.Read.Request request)
        || policies.answersAtOnce(namespaceOf(request.request()), entry.policy())) {
      return CompletableFuture.completedFuture(answer(entry, read, start));
    }
    Decided refused =
        Decided.answerOnly(
            refusedUndecided(
                entry,
                namespaceOf(request.request()),
                "the API server did not answer the lookup of the namespace within "
                    + lookups.timeLimit().toMillis()
                    + " ms"));
    CompletableFuture<Decided> decided;
    try {
      decided = CompletableFuture.supplyAsync(() -> decide(request, entry), lookups.executor());
    } catch (RejectedExecutionException e) {
      decided =
          CompletableFuture.completedFuture(
              Decided.answerOnly(
                  refusedUndecided(
                      entry,
                      namespaceOf(request.request()),
                      "too many lookups of namespaces at the API server under way")));
    }
    if (!lookups.timeLimit().isZero()) {
      decided = decided.completeOnTimeout(refused, lookups.timeLimit().toNanos(), NANOSECONDS);
    }
    return decided
        .exceptionally(
            e ->
                Decided.answerOnly(
                    refusedUndecided(entry, namespaceOf(request.request()), String.valueOf(e))))
        .thenApply(d -> respond(request, d, start));
  }

  private AdmissionResponse review(Entry entry, byte[] body) {
    return answer(entry, AdmissionReviews.read(body, READ), System.nanoTime());
  }

  private AdmissionResponse answer(Entry entry, AdmissionReviews.Read read, long start) {
    if (read instanceof AdmissionReviews.Read.Request request) {
      return respond(request, decide(request, entry), start);
    }
    listener.answered(null, null, null, false, System.nanoTime() - start);
    return ((AdmissionReviews.Read.Refused) read).answer();
  }

  private Decided decide(AdmissionReviews.Read.Request request, Entry entry) {
    return AdmissionReviews.decide(
        request, r -> decide(r, entry), (r, e) -> Decided.answerOnly(failed(r, e, entry)));
  }

  private AdmissionResponse respond(
      AdmissionReviews.Read.Request request, Decided decided, long start) {
    AdmissionResponse response = AdmissionReviews.answer(request.uid(), decided.decision());
    listener.answered(
        decided.namespace(),
        decided.pod(),
        decided.plan(),
        decided.dryRun(),
        System.nanoTime() - start);
    return response;
  }

  private static Decision refusedUndecided(Entry entry, String namespace, String why) {
    return Decision.deny(
        "pypi-mirror: PypiMirrorPolicy %s enforces a PyPI mirror in namespace %s and the webhook could not decide, so the pod is refused: %s"
            .formatted(entry.policy(), namespace, why),
        List.of());
  }

  /**
   * The webhook could not decide: in a namespace an Enforce policy governs the pod is refused (the
   * contract's "where the webhook cannot decide"), elsewhere it is admitted unchanged with a
   * warning, as the fail-open entry would on an outage.
   */
  private Decision failed(JsonNode request, RuntimeException error, Entry entry) {
    String namespace = namespaceOf(request);
    String why = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
    if (entry != null && entry.enforce()) {
      return refusedUndecided(entry, namespace, why);
    }
    PypiMirrorPolicy policy;
    try {
      policy = policies.governing(namespace).orElse(null);
    } catch (RuntimeException e) {
      return Decision.deny(
          "pypi-mirror: internal error, and whether a policy enforces a mirror in namespace %s is unknown; refused: %s"
              .formatted(namespace, why),
          List.of());
    }
    if (PolicyRules.enforces(policy)) {
      return Decision.deny(
          "pypi-mirror: PypiMirrorPolicy %s enforces a PyPI mirror in namespace %s and the webhook could not decide, so the pod is refused: %s"
              .formatted(policy.getMetadata().getName(), namespace, why),
          List.of());
    }
    return Decision.allow(
        List.of("pypi-mirror: internal error (%s); admitted without a mirror".formatted(why)));
  }

  private static String namespaceOf(JsonNode request) {
    String namespace = request.path("namespace").asText("");
    return namespace.isEmpty()
        ? request.path("object").path("metadata").path("namespace").asText("default")
        : namespace;
  }

  /** What a request asks, as far as the decision cares. */
  private enum Operation {
    POD_CREATE,
    ADDS_EPHEMERAL_CONTAINERS,
    OTHER;

    static Operation of(JsonNode request) {
      boolean pods = "pods".equals(request.path("resource").path("resource").asText());
      String subResource = request.path("subResource").asText("");
      String operation = request.path("operation").asText();
      if (pods && "CREATE".equals(operation) && subResource.isEmpty()) {
        return POD_CREATE;
      }
      if (pods && "UPDATE".equals(operation) && subResource.equals("ephemeralcontainers")) {
        return ADDS_EPHEMERAL_CONTAINERS;
      }
      return OTHER;
    }
  }

  private Decided decide(JsonNode request, Entry entry) {
    JsonNode pod = request.path("object");
    Operation operation = Operation.of(request);
    boolean enforced = entry != null && entry.enforce();
    if (enforced && operation != Operation.OTHER) {
      String malformed = malformed(pod);
      if (malformed != null) {
        return refusedMalformed(request, entry, malformed);
      }
    }
    PolicyDirectory routed =
        enforced ? namespace -> policies.governing(namespace, entry.policy()) : policies;
    if (operation == Operation.ADDS_EPHEMERAL_CONTAINERS && enforced) {
      String namespace = namespaceOf(request);
      InjectionPlan plan =
          PodInjector.injectEphemeral(
              pod,
              ephemeralNames(request.path("oldObject")),
              namespace,
              operatorNamespace,
              mirrors,
              routed);
      return decided(plan, namespace, pod, request);
    }
    if (operation != Operation.POD_CREATE) {
      return new Decided(
          Decision.allow(List.of()),
          null,
          null,
          InjectionPlan.untouched(Reason.NOT_A_POD_CREATE, "not a pod CREATE"),
          false);
    }
    if (!pod.isObject()) {
      return Decided.answerOnly(
          Decision.allow(
              List.of("pypi-mirror: the request carries no pod; admitted without a mirror")));
    }
    String namespace = namespaceOf(request);
    InjectionPlan plan =
        PodInjector.inject(pod, namespace, operatorNamespace, mirrors, routed, requester(request));
    return decided(plan, namespace, pod, request);
  }

  /** An enforcing entry refuses a pod it cannot read as a pod. */
  private static Decided refusedMalformed(JsonNode request, Entry entry, String malformed) {
    return new Decided(
        Decision.deny(
            "pypi-mirror: PypiMirrorPolicy %s enforces a PyPI mirror in namespace %s, and %s, so the pod is refused"
                .formatted(entry.policy(), namespaceOf(request), malformed),
            List.of()),
        null,
        null,
        InjectionPlan.denied(Reason.MALFORMED_POD, malformed, List.of()),
        false);
  }

  private static Decided decided(
      InjectionPlan plan, String namespace, JsonNode pod, JsonNode request) {
    Decision decision =
        plan.outcome() == InjectionPlan.Outcome.DENIED
            ? Decision.deny(plan.refusal(), plan.warnings())
            : new Decision(true, plan.patch(), plan.warnings(), null);
    return new Decided(decision, namespace, pod, plan, request.path("dryRun").asBoolean(false));
  }

  /**
   * What makes the request's object no pod the webhook can decide on, or null: it must be an object
   * whose spec is an object, with container lists that are lists.
   */
  static String malformed(JsonNode pod) {
    if (!pod.isObject()) {
      return "the request carries no pod object";
    }
    if (!pod.path("spec").isObject()) {
      return "the pod has no spec object";
    }
    for (String field : List.of("containers", "initContainers", "ephemeralContainers")) {
      JsonNode list = pod.path("spec").path(field);
      if (!list.isMissingNode() && !list.isNull() && !list.isArray()) {
        return "the pod's spec." + field + " is not a list";
      }
    }
    if (!pod.path("spec").path("containers").isArray()) {
      return "the pod has no spec.containers list";
    }
    return null;
  }

  /** The names of the ephemeral containers the pod had before this update. */
  private static java.util.Set<String> ephemeralNames(JsonNode oldPod) {
    java.util.Set<String> names = new java.util.HashSet<>();
    oldPod
        .path("spec")
        .path("ephemeralContainers")
        .forEach(c -> names.add(c.path("name").asText()));
    return names;
  }

  /**
   * Who sends the request: a node (a kubelet), the only creator of real static pods, or a client.
   */
  static Requester requester(JsonNode request) {
    for (JsonNode group : request.path("userInfo").path("groups")) {
      if ("system:nodes".equals(group.asText())) {
        return request.path("userInfo").path("username").asText().startsWith("system:node:")
            ? Requester.NODE
            : Requester.CLIENT;
      }
    }
    return Requester.CLIENT;
  }
}
