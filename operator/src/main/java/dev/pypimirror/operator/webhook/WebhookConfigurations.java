package dev.pypimirror.operator.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.cluster.LeaderSchedule;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of the two webhook configurations: the entries derived from the policies ({@link
 * WebhookRoutes}) and the caBundle of every entry (self-managed certificates). The leader syncs on
 * every policy change and every minute (which also puts back entries someone removed); writes are
 * JSON patches guarded by the resourceVersion, and only when the entries differ after the API
 * server's defaults.
 */
public final class WebhookConfigurations implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookConfigurations.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();
  static final long PERIOD_SECONDS = 60;

  private final KubernetesClient client;
  private final String operatorNamespace;
  private final Supplier<Optional<Collection<PypiMirrorPolicy>>> policies;
  private final AtomicBoolean pending = new AtomicBoolean();
  private String caBundle;
  private final LeaderSchedule schedule = new LeaderSchedule("webhook-configurations");

  /**
   * @param policies every PypiMirrorPolicy, or empty while they are not known yet (an informer not
   *     synced): then nothing is written, so no entry is dropped for a policy not seen yet
   */
  public WebhookConfigurations(
      KubernetesClient client,
      String operatorNamespace,
      Supplier<Optional<Collection<PypiMirrorPolicy>>> policies) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
    this.policies = policies;
  }

  /** The CA bundle (base64 PEM) every entry must carry from now on; written at once. */
  public synchronized void caBundle(String base64) {
    this.caBundle = base64;
    sync();
  }

  /** While leading: now, on every {@link #changed}, and every minute. */
  public synchronized void startManaging() {
    schedule.start(this::syncQuietly, 0, PERIOD_SECONDS, TimeUnit.SECONDS);
  }

  public synchronized void stopManaging() {
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
      sync();
    } catch (RuntimeException e) {
      LOG.warn("webhook configurations not updated: {}", e.getMessage());
    }
  }

  /**
   * Makes both configurations hold their deployed entries and one set per policy. Returns false
   * when the policies are not known yet or a configuration is missing (not installed).
   */
  public synchronized boolean sync() {
    Optional<Collection<PypiMirrorPolicy>> known = policies.get();
    if (known.isEmpty()) {
      return false;
    }
    var mutatingResource =
        client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(WebhookRoutes.CONFIGURATION);
    MutatingWebhookConfiguration mutating = mutatingResource.get();
    if (mutating == null) {
      LOG.debug(
          "no MutatingWebhookConfiguration {}: nothing to route", WebhookRoutes.CONFIGURATION);
      return false;
    }
    List<MutatingWebhook> currentMutating = mutating.getWebhooks();
    List<MutatingWebhook> desiredMutating =
        WebhookRoutes.mutating(currentMutating, known.get(), operatorNamespace, caBundle);
    if (desiredMutating == null) {
      LOG.warn(
          "MutatingWebhookConfiguration {} has no {} entry to copy: policies are not routed",
          WebhookRoutes.CONFIGURATION,
          WebhookRoutes.OPT_IN_ENTRY);
      return false;
    }
    if (!sameEntries(currentMutating, desiredMutating, true)) {
      mutatingResource.patch(
          PatchContext.of(PatchType.JSON),
          replaceWebhooks(mutating.getMetadata().getResourceVersion(), desiredMutating));
      LOG.info(
          "MutatingWebhookConfiguration {} updated: {}",
          WebhookRoutes.CONFIGURATION,
          names(desiredMutating));
    }
    var validatingResource =
        client
            .admissionRegistration()
            .v1()
            .validatingWebhookConfigurations()
            .withName(WebhookRoutes.CONFIGURATION);
    ValidatingWebhookConfiguration validating = validatingResource.get();
    if (validating == null) {
      return false;
    }
    List<ValidatingWebhook> currentValidating = validating.getWebhooks();
    List<ValidatingWebhook> desiredValidating =
        WebhookRoutes.validating(
            currentValidating, currentMutating, known.get(), operatorNamespace, caBundle);
    if (!sameEntries(currentValidating, desiredValidating, false)) {
      validatingResource.patch(
          PatchContext.of(PatchType.JSON),
          replaceWebhooks(validating.getMetadata().getResourceVersion(), desiredValidating));
      LOG.info(
          "ValidatingWebhookConfiguration {} updated: {}",
          WebhookRoutes.CONFIGURATION,
          names(desiredValidating));
    }
    return true;
  }

  private static List<String> names(List<?> webhooks) {
    return webhooks.stream()
        .map(w -> w instanceof MutatingWebhook m ? m.getName() : ((ValidatingWebhook) w).getName())
        .toList();
  }

  /** A JSON Patch that replaces the entries if the object is still at {@code resourceVersion}. */
  private static String replaceWebhooks(String resourceVersion, List<?> webhooks) {
    ArrayNode patch = MAPPER.createArrayNode();
    patch
        .addObject()
        .put("op", "test")
        .put("path", "/metadata/resourceVersion")
        .put("value", resourceVersion);
    patch
        .addObject()
        .put("op", "add")
        .put("path", "/webhooks")
        .set("value", MAPPER.valueToTree(webhooks));
    return patch.toString();
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
