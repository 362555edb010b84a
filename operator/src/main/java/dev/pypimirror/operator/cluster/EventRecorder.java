package dev.pypimirror.operator.cluster;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
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
    String apiVersion =
        about.getApiVersion() != null
            ? about.getApiVersion()
            : HasMetadata.getApiVersion(about.getClass());
    String kind = about.getKind() != null ? about.getKind() : HasMetadata.getKind(about.getClass());
    String object =
        String.join("\0", apiVersion, kind, meta.getNamespace(), meta.getName(), meta.getUid());
    EventCorrelator.Decision decision =
        correlator.correlate(new EventCorrelator.Occurrence(object, type.name(), reason, message));
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
    var events = client.v1().events().inNamespace(namespace);
    try {
      if (decision.existingName() != null) {
        try {
          events
              .withName(decision.existingName())
              .patch(
                  PatchContext.of(PatchType.JSON_MERGE),
                  Serialization.asJson(
                      Map.of(
                          "count", decision.count(),
                          "lastTimestamp", now,
                          "message", decision.message())));
          correlator.written(decision, decision.existingName(), decision.count());
          return;
        } catch (KubernetesClientException e) {
          if (e.getCode() != 404) {
            throw e;
          }
          // the Event expired (the API server keeps them for an hour by default): a new one
        }
      }
      var event =
          new EventBuilder()
              .withNewMetadata()
              .withGenerateName(meta.getName() + ".")
              .withNamespace(namespace)
              .endMetadata()
              .withNewInvolvedObject()
              .withApiVersion(apiVersion)
              .withKind(kind)
              .withName(meta.getName())
              .withNamespace(meta.getNamespace())
              .withUid(meta.getUid())
              .withResourceVersion(meta.getResourceVersion())
              .endInvolvedObject()
              .withType(type.name())
              .withReason(reason)
              .withMessage(decision.message())
              .withFirstTimestamp(now)
              .withLastTimestamp(now)
              .withCount(1)
              .withNewSource(COMPONENT, null)
              .withReportingComponent(COMPONENT)
              .build();
      Event created = events.resource(event).create();
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
}
