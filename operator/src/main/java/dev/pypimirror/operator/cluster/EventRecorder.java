package dev.pypimirror.operator.cluster;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes core/v1 Events about an object, as `kubectl describe` shows them, the way client-go's
 * recorder does: an event seen before raises the count and lastTimestamp of its Event instead of
 * adding one, similar events are combined, and each object has a budget (see {@link
 * EventCorrelator}).
 */
public class EventRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  static final String COMPONENT = "pypi-mirror-operator";

  public enum Type {
    Normal,
    Warning
  }

  private final KubernetesClient client;
  private final Clock clock;
  private final EventCorrelator correlator;

  public EventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
    this.correlator = new EventCorrelator(clock);
  }

  /** Records the event; a failure to write it is logged, never thrown: events are best effort. */
  public void record(HasMetadata about, Type type, String reason, String message) {
    var meta = about.getMetadata();
    Involved involved = Involved.of(about);
    EventCorrelator.Decision decision =
        correlator.correlate(
            new EventCorrelator.Occurrence(involved.key(), type.name(), reason, message));
    if (decision == null) {
      LOG.debug(
          "event {} on {}/{} dropped: the object's event budget is spent",
          reason,
          meta.getNamespace(),
          meta.getName());
      return;
    }
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    // a cluster-scoped object's events go to namespace default, as client-go's recorder puts them
    String namespace = meta.getNamespace() == null ? "default" : meta.getNamespace();
    try {
      if (decision.existingName() != null && counted(namespace, decision, now)) {
        correlator.written(decision, decision.existingName(), decision.count());
        return;
      }
      Event created =
          client
              .v1()
              .events()
              .inNamespace(namespace)
              .resource(event(involved, namespace, type, reason, decision.message(), now))
              .create();
      correlator.written(decision, created.getMetadata().getName(), 1);
    } catch (KubernetesClientException e) {
      LOG.warn(
          "could not record event {} on {}/{}: {}",
          reason,
          meta.getNamespace(),
          meta.getName(),
          e.getMessage());
    }
  }

  /** The object an event is about: its apiVersion and kind (from its class when unset). */
  private record Involved(String apiVersion, String kind, ObjectMeta meta) {
    static Involved of(HasMetadata about) {
      return new Involved(
          about.getApiVersion() != null
              ? about.getApiVersion()
              : HasMetadata.getApiVersion(about.getClass()),
          about.getKind() != null ? about.getKind() : HasMetadata.getKind(about.getClass()),
          about.getMetadata());
    }

    /** What the correlator tells objects apart by. */
    String key() {
      return String.join(
          "\0", apiVersion, kind, meta.getNamespace(), meta.getName(), meta.getUid());
    }
  }

  /**
   * Counts a repeat on the Event already written; false when it has expired (the API server keeps
   * Events for an hour by default), so a new one is written.
   */
  private boolean counted(String namespace, EventCorrelator.Decision decision, String now) {
    try {
      client
          .v1()
          .events()
          .inNamespace(namespace)
          .withName(decision.existingName())
          .patch(
              PatchContext.of(PatchType.JSON_MERGE),
              Serialization.asJson(
                  Map.of(
                      "count", decision.count(),
                      "lastTimestamp", now,
                      "message", decision.message())));
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      return false;
    }
  }

  private static Event event(
      Involved involved, String namespace, Type type, String reason, String message, String now) {
    ObjectMeta meta = involved.meta();
    return new EventBuilder()
        .withNewMetadata()
        .withGenerateName(meta.getName() + ".")
        .withNamespace(namespace)
        .endMetadata()
        .withNewInvolvedObject()
        .withApiVersion(involved.apiVersion())
        .withKind(involved.kind())
        .withName(meta.getName())
        .withNamespace(meta.getNamespace())
        .withUid(meta.getUid())
        .withResourceVersion(meta.getResourceVersion())
        .endInvolvedObject()
        .withType(type.name())
        .withReason(reason)
        .withMessage(message)
        .withFirstTimestamp(now)
        .withLastTimestamp(now)
        .withCount(1)
        .withNewSource(COMPONENT, null)
        .withReportingComponent(COMPONENT)
        .build();
  }
}
