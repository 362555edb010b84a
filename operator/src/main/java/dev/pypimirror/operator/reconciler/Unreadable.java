package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.api.Undecodable;
import dev.pypimirror.operator.cluster.EventRecorder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a reconciler does with an object it cannot read ({@link Undecodable}): a Warning Event on it
 * (an Event names its object by kind, namespace, name and uid, so none of the rest is needed), once
 * per version of the object, and nothing else: its status is not written and what it made stays.
 * The decoder has logged it.
 */
final class Unreadable {
  static final String REASON = "Unreadable";
  private static final int REMEMBERED = 4096;

  private final EventRecorder events;
  private final Map<String, Boolean> reported =
      Collections.synchronizedMap(
          new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
              return size() > REMEMBERED;
            }
          });

  Unreadable(EventRecorder events) {
    this.events = events;
  }

  /** True (and reported, the first time for this version) when {@code object} was not read. */
  boolean skip(HasMetadata object) {
    if (!Undecodable.is(object)) {
      return false;
    }
    var meta = object.getMetadata();
    if (reported.put(meta.getUid() + "/" + meta.getResourceVersion(), Boolean.TRUE) == null) {
      events.record(
          object,
          EventRecorder.Type.Warning,
          REASON,
          Undecodable.describe(object)
              + "; it is left as it is (status, ConfigMap, cache, mirrors) until it is fixed");
    }
    return true;
  }
}
