package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.Undecodable;
import dev.pypimirror.operator.cluster.LeaderSchedule;
import dev.pypimirror.operator.jsonpatch.JsonPatches;
import dev.pypimirror.operator.settings.OperatorSettings;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfigurationBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of the two webhook configurations, which the operator owns outright: the leader
 * creates them, writes the opt-in entry from the settings ({@link WebhookRoutes#optIn}), the
 * entries derived from the policies ({@link WebhookRoutes}) and the caBundle of every entry
 * (self-managed certificates), and excludes its own namespace, whatever the install named. Helm and
 * kustomize apply neither, so GitOps tools see no drift. The leader syncs on every policy change
 * and every minute (which also puts back what someone changed); writes are JSON patches guarded by
 * the resourceVersion, and only when something differs after the API server's defaults. The
 * ClusterRole of the configurations' name, when it can be read, becomes their owner: deleting the
 * install (which deletes it) lets the garbage collector remove them, so no fail-closed entry
 * outlives the operator.
 */
public final class WebhookConfigurations implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookConfigurations.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();
  static final long PERIOD_SECONDS = 60;
  static final long RETRY_SECONDS = 1;

  /** Labels on both configurations. */
  static final Map<String, String> LABELS =
      Map.of(
          "app.kubernetes.io/part-of", "pypi-mirror-operator",
          "app.kubernetes.io/managed-by", "pypi-mirror-operator");

  static final String INJECT_CA_FROM = "cert-manager.io/inject-ca-from";

  private final KubernetesClient client;
  private final String operatorNamespace;
  private final OperatorSettings.Routing routing;
  private final Supplier<Optional<Collection<PypiMirrorPolicy>>> policies;
  private final AtomicBoolean pending = new AtomicBoolean();
  private String caBundle;
  private volatile java.util.function.BooleanSupplier policiesInject = () -> false;
  private final LeaderSchedule schedule = new LeaderSchedule("webhook-configurations");

  /** With the default names, failure policy and timeout ({@link OperatorSettings.Routing}). */
  public WebhookConfigurations(
      KubernetesClient client,
      String operatorNamespace,
      Supplier<Optional<Collection<PypiMirrorPolicy>>> policies) {
    this(client, operatorNamespace, OperatorSettings.Routing.DEFAULTS, policies);
  }

  /**
   * @param policies every PypiMirrorPolicy, or empty while they are not known yet (an informer not
   *     synced): then nothing is written, so no entry is dropped for a policy not seen yet
   */
  public WebhookConfigurations(
      KubernetesClient client,
      String operatorNamespace,
      OperatorSettings.Routing routing,
      Supplier<Optional<Collection<PypiMirrorPolicy>>> policies) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
    this.routing = routing;
    this.policies = policies;
  }

  /** The names the entries, the certificate Secret and the Lease follow. */
  public OperatorSettings.Routing routing() {
    return routing;
  }

  /** The webhook Service the entries call (the serving certificate's name). */
  public String service() {
    return routing.service();
  }

  /** The CA bundle (base64 PEM) every entry must carry from now on; written at once. */
  public synchronized void caBundle(String base64) {
    this.caBundle = base64;
    if (!sync()) {
      retrySoon();
    }
  }

  /**
   * Whether admission policies inject (admission-policy mode, once they are written): then the
   * mutating configuration holds only what they cannot do ({@link WebhookRoutes#mutating(List,
   * Collection, String, String, boolean)}). Read on every sync.
   */
  public void policiesInject(java.util.function.BooleanSupplier policiesInject) {
    this.policiesInject = policiesInject;
  }

  /** While leading: now, on every {@link #changed}, and every minute. */
  public synchronized void startManaging() {
    schedule.start(this::syncQuietly, 0, PERIOD_SECONDS, TimeUnit.SECONDS);
  }

  public void stopManaging() {
    schedule.stop();
  }

  /**
   * A policy changed: sync soon (changes arriving together make one sync). Never waits for a sync
   * under way, so the informer that calls it is not held up.
   */
  public void changed() {
    if (pending.compareAndSet(false, true)
        && !schedule.runSoon(
            () -> {
              pending.set(false);
              syncQuietly();
            })) {
      pending.set(false); // not leading
    }
  }

  private void syncQuietly() {
    try {
      if (!sync()) {
        retrySoon();
      }
    } catch (RuntimeException e) {
      LOG.warn("webhook configurations not updated: {}", e.getMessage());
    }
  }

  /**
   * The policies are not known until their informer has synced, a second or two after start: try
   * again then rather than a whole period without configurations. The retry runs on the leader's
   * schedule, so stopping (before the client closes) cancels it or waits for it.
   */
  private void retrySoon() {
    schedule.runLater(this::syncQuietly, RETRY_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Makes both configurations exist and hold the opt-in entry and one set per policy. Returns false
   * when the policies are not known yet (nothing is written then).
   */
  public synchronized boolean sync() {
    Optional<Collection<PypiMirrorPolicy>> known = policies.get();
    if (known.isEmpty()) {
      return false;
    }
    ObjectMeta metadata = metadata();
    MutatingWebhook optIn = syncMutating(known.get(), metadata);
    syncValidating(known.get(), optIn, metadata);
    return true;
  }

  /** Writes the mutating configuration: the opt-in entry and the policies'; returns the opt-in. */
  private MutatingWebhook syncMutating(Collection<PypiMirrorPolicy> known, ObjectMeta metadata) {
    var resource =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(routing.name());
    MutatingWebhookConfiguration stored = resource.get();
    // with cert-manager, cainjector writes the bundle: keep the one it wrote
    String bundle = caBundle != null ? caBundle : storedBundle(stored);
    MutatingWebhook optIn = WebhookRoutes.optIn(routing, operatorNamespace, bundle);
    List<MutatingWebhook> entries = stored == null ? null : stored.getWebhooks();
    List<MutatingWebhook> desired =
        kept(
            WebhookRoutes.mutating(
                List.of(optIn), known, operatorNamespace, caBundle, policiesInject.getAsBoolean()),
            entries,
            known,
            MutatingWebhook::getName);
    write(
        resource,
        stored,
        entries,
        new MutatingWebhookConfigurationBuilder()
            .withMetadata(metadata)
            .withWebhooks(desired)
            .build(),
        desired);
    return optIn;
  }

  /** Writes the validating configuration: the policies' entries, made from the opt-in entry. */
  private void syncValidating(
      Collection<PypiMirrorPolicy> known, MutatingWebhook optIn, ObjectMeta metadata) {
    var resource =
        client
            .admissionRegistration()
            .v1()
            .validatingWebhookConfigurations()
            .withName(routing.name());
    ValidatingWebhookConfiguration stored = resource.get();
    List<ValidatingWebhook> entries = stored == null ? null : stored.getWebhooks();
    List<ValidatingWebhook> desired =
        kept(
            WebhookRoutes.validating(List.of(), List.of(optIn), known, operatorNamespace, caBundle),
            entries,
            known,
            ValidatingWebhook::getName);
    write(
        resource,
        stored,
        entries,
        new ValidatingWebhookConfigurationBuilder()
            .withMetadata(metadata)
            .withWebhooks(desired)
            .build(),
        desired);
  }

  /**
   * Creates the configuration, or patches in the desired entries and metadata when the stored ones
   * differ (entries compared with the API server's defaults).
   */
  private static <T extends HasMetadata> void write(
      Resource<T> resource, T stored, List<?> storedEntries, T desired, List<?> desiredEntries) {
    String kind = desired.getClass().getSimpleName();
    if (stored == null) {
      resource.create(desired);
      LOG.info("{} {} created: {}", kind, desired.getMetadata().getName(), names(desiredEntries));
    } else if (!sameEntries(
            storedEntries, desiredEntries, desired instanceof MutatingWebhookConfiguration)
        || !ours(stored.getMetadata(), desired.getMetadata())) {
      resource.patch(
          PatchContext.of(PatchType.JSON),
          replace(stored.getMetadata(), desired.getMetadata(), desiredEntries));
      LOG.info("{} {} updated: {}", kind, desired.getMetadata().getName(), names(desiredEntries));
    }
  }

  /**
   * {@code desired} and the stored entries of the policies that cannot be read ({@link
   * Undecodable}), as they are: what such a policy routed (an Enforce entry refusing, failing
   * closed) it goes on routing until it is fixed or deleted. A policy never read gets no entry.
   */
  private static <W> List<W> kept(
      List<W> desired,
      List<W> stored,
      Collection<PypiMirrorPolicy> policies,
      Function<W, String> name) {
    Set<String> unreadable =
        policies.stream()
            .filter(Undecodable::is)
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .map(p -> WebhookRoutes.entryName(p.getMetadata().getName()))
            .collect(Collectors.toSet());
    if (unreadable.isEmpty() || stored == null) {
      return desired;
    }
    List<W> all = new ArrayList<>(desired);
    stored.stream().filter(w -> unreadable.contains(name.apply(w))).forEach(all::add);
    return all;
  }

  /** The opt-in entry's caBundle as stored (cert-manager's cainjector writes it), or null. */
  private static String storedBundle(MutatingWebhookConfiguration stored) {
    if (stored == null || stored.getWebhooks() == null) {
      return null;
    }
    return stored.getWebhooks().stream()
        .filter(w -> WebhookRoutes.OPT_IN_ENTRY.equals(w.getName()))
        .map(w -> w.getClientConfig() == null ? null : w.getClientConfig().getCaBundle())
        .filter(b -> b != null && !b.isEmpty())
        .findFirst()
        .orElse(null);
  }

  /** Name, labels, the cert-manager annotation, and the owner: what the configurations carry. */
  private ObjectMeta metadata() {
    ObjectMetaBuilder metadata =
        new ObjectMetaBuilder().withName(routing.name()).withLabels(new TreeMap<>(LABELS));
    if (routing.caFromCertificate() != null) {
      metadata.withAnnotations(
          Map.of(INJECT_CA_FROM, operatorNamespace + "/" + routing.caFromCertificate()));
    }
    owner().ifPresent(metadata::withOwnerReferences);
    return metadata.build();
  }

  /**
   * The ClusterRole of the configurations' name, as their owner (not blocking its deletion, which
   * would need the right to delete it). Empty when it cannot be read: out of a cluster, or without
   * the right.
   */
  public Optional<OwnerReference> owner() {
    try {
      ClusterRole role = client.rbac().clusterRoles().withName(routing.name()).get();
      return Optional.ofNullable(role)
          .map(
              r ->
                  new OwnerReferenceBuilder()
                      .withApiVersion("rbac.authorization.k8s.io/v1")
                      .withKind("ClusterRole")
                      .withName(r.getMetadata().getName())
                      .withUid(r.getMetadata().getUid())
                      .build());
    } catch (KubernetesClientException e) {
      LOG.debug("ClusterRole {} not readable: no owner", routing.name(), e);
      return Optional.empty();
    }
  }

  /** Whether the stored metadata has our labels, our annotation and our owner. */
  private static boolean ours(ObjectMeta stored, ObjectMeta desired) {
    Map<String, String> labels = stored.getLabels() == null ? Map.of() : stored.getLabels();
    Map<String, String> annotations =
        stored.getAnnotations() == null ? Map.of() : stored.getAnnotations();
    Map<String, String> wanted =
        desired.getAnnotations() == null ? Map.of() : desired.getAnnotations();
    return labels.entrySet().containsAll(desired.getLabels().entrySet())
        && Objects.equals(annotations.get(INJECT_CA_FROM), wanted.get(INJECT_CA_FROM))
        && Objects.equals(
            stored.getOwnerReferences() == null ? List.of() : stored.getOwnerReferences(),
            desired.getOwnerReferences() == null ? List.of() : desired.getOwnerReferences());
  }

  private static List<String> names(List<?> webhooks) {
    return webhooks.stream()
        .map(w -> w instanceof MutatingWebhook m ? m.getName() : ((ValidatingWebhook) w).getName())
        .toList();
  }

  /**
   * A JSON Patch that, if the object is still at its resourceVersion, replaces the entries, adds
   * our labels, sets or removes the cert-manager annotation, and sets the owner.
   */
  private static String replace(ObjectMeta stored, ObjectMeta desired, List<?> webhooks) {
    List<ObjectNode> patch = new ArrayList<>();
    patch.add(
        JsonPatches.test(
            "/metadata/resourceVersion", TextNode.valueOf(stored.getResourceVersion())));
    patch.add(JsonPatches.add("/webhooks", MAPPER.valueToTree(webhooks)));
    Map<String, String> labels =
        new TreeMap<>(stored.getLabels() == null ? Map.of() : stored.getLabels());
    labels.putAll(desired.getLabels());
    patch.add(JsonPatches.add("/metadata/labels", MAPPER.valueToTree(labels)));
    Map<String, String> annotations =
        new TreeMap<>(stored.getAnnotations() == null ? Map.of() : stored.getAnnotations());
    annotations.remove(INJECT_CA_FROM);
    if (desired.getAnnotations() != null) {
      annotations.putAll(desired.getAnnotations());
    }
    patch.add(JsonPatches.add("/metadata/annotations", MAPPER.valueToTree(annotations)));
    patch.add(
        JsonPatches.add(
            "/metadata/ownerReferences",
            MAPPER.valueToTree(
                desired.getOwnerReferences() == null ? List.of() : desired.getOwnerReferences())));
    return JsonPatches.patch(patch).toString();
  }

  /** Equal once both have the API server's defaults and no empty fields. */
  static boolean sameEntries(List<?> current, List<?> desired, boolean mutating) {
    return canonical(current, mutating).equals(canonical(desired, mutating));
  }

  private static JsonNode canonical(List<?> webhooks, boolean mutating) {
    ArrayNode all = MAPPER.createArrayNode();
    for (Object webhook : webhooks == null ? List.of() : webhooks) {
      JsonNode node = prune(MAPPER.valueToTree(webhook));
      ObjectNode entry = node instanceof ObjectNode o ? o : MAPPER.createObjectNode();
      Map<String, Object> defaults =
          mutating
              ? Map.of(
                  "matchPolicy", "Equivalent",
                  "timeoutSeconds", 10,
                  "failurePolicy", "Fail",
                  "reinvocationPolicy", "Never")
              : Map.of("matchPolicy", "Equivalent", "timeoutSeconds", 10, "failurePolicy", "Fail");
      defaults.forEach(
          (key, value) -> {
            if (!entry.has(key)) {
              entry.set(key, MAPPER.valueToTree(value));
            }
          });
      for (JsonNode rule : entry.path("rules")) {
        if (rule instanceof ObjectNode r && !r.has("scope")) {
          r.put("scope", "*");
        }
      }
      if (entry.path("clientConfig").path("service") instanceof ObjectNode service
          && !service.has("port")) {
        service.put("port", 443);
      }
      all.add(entry);
    }
    return all;
  }

  /** Without nulls, empty objects and empty arrays (what the API server leaves out or defaults). */
  private static JsonNode prune(JsonNode node) {
    if (node instanceof ObjectNode object) {
      ObjectNode pruned = MAPPER.createObjectNode();
      object
          .fields()
          .forEachRemaining(
              field -> {
                JsonNode value = prune(field.getValue());
                if (!value.isNull() && !(value.isContainerNode() && value.isEmpty())) {
                  pruned.set(field.getKey(), value);
                }
              });
      return pruned;
    }
    if (node instanceof ArrayNode array) {
      ArrayNode pruned = MAPPER.createArrayNode();
      array.forEach(item -> pruned.add(prune(item)));
      return pruned;
    }
    return node;
  }

  @Override
  public void close() {
    stopManaging();
  }
}
