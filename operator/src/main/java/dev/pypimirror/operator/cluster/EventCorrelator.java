package dev.pypimirror.operator.cluster;

import dev.pypimirror.operator.settings.Defaults;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What becomes of an event before it is written, as client-go's recorder decides it ({@code
 * tools/record/events_cache.go}): a source may burst 25 events about one object, then one every 5
 * minutes (token bucket per object, {@code EventSourceObjectSpamFilter}); an event seen before
 * (same object, type, reason and message) raises the count of the Event written for it; the 10th
 * distinct message of one object, type and reason within 10 minutes is combined into one Event
 * ("(combined from similar events): ..."). Memory is bounded: 4096 entries per cache, least
 * recently used first out.
 */
final class EventCorrelator {
  static final String COMBINED = "(combined from similar events): ";

  /** One event about one object, as the recorder was asked to record it. */
  record Occurrence(String object, String type, String reason, String message) {
    String key() {
      return String.join("\0", object, type, reason, message);
    }

    String similarKey() {
      return String.join("\0", object, type, reason);
    }
  }

  /**
   * What to write: a new Event ({@code existingName} null) or the Event {@code existingName} again
   * with {@code count}; the message to write; the key the written Event is remembered under.
   */
  record Decision(String key, String message, String existingName, int count) {}

  private record Written(String name, int count) {}

  private static final class Bucket {
    double tokens = Defaults.EVENT_BURST.defaultValue();
    Instant refilled;
  }

  private static final class Similar {
    final Set<String> messages = new HashSet<>();
    Instant last;
  }

  private final Clock clock;
  private final Map<String, Bucket> buckets = lru();
  private final Map<String, Similar> similar = lru();
  private final Map<String, Written> written = lru();

  EventCorrelator(Clock clock) {
    this.clock = clock;
  }

  /** What to write for {@code occurrence}; null: nothing, the object's budget is spent. */
  synchronized Decision correlate(Occurrence occurrence) {
    Instant now = clock.instant();
    if (!tryAccept(occurrence.object(), now)) {
      return null;
    }
    String key = occurrence.key();
    String message = occurrence.message();
    Similar group = similar.get(occurrence.similarKey());
    if (group == null
        || Duration.between(group.last, now)
                .compareTo(Defaults.EVENT_AGGREGATE_INTERVAL.defaultValue())
            > 0) {
      group = new Similar();
    }
    group.messages.add(message);
    group.last = now;
    similar.put(occurrence.similarKey(), group);
    if (group.messages.size() >= Defaults.EVENT_AGGREGATE_MAX.defaultValue()) {
      group.messages.remove(message);
      key = occurrence.similarKey();
      message = COMBINED + message;
    }
    Written before = written.get(key);
    return before == null
        ? new Decision(key, message, null, 1)
        : new Decision(key, message, before.name(), before.count() + 1);
  }

  /** The Event now written for {@code decision}'s key: its name and count. */
  synchronized void written(Decision decision, String name, int count) {
    written.put(decision.key(), new Written(name, count));
  }

  private boolean tryAccept(String object, Instant now) {
    Bucket bucket = buckets.computeIfAbsent(object, o -> new Bucket());
    if (bucket.refilled != null) {
      double elapsed = Duration.between(bucket.refilled, now).toMillis();
      bucket.tokens =
          Math.min(
              Defaults.EVENT_BURST.defaultValue(),
              bucket.tokens + elapsed / Defaults.EVENT_REFILL.defaultValue().toMillis());
    }
    bucket.refilled = now;
    if (bucket.tokens < 1) {
      return false;
    }
    bucket.tokens -= 1;
    return true;
  }

  private static <V> Map<String, V> lru() {
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > Defaults.EVENT_CACHE_ENTRIES.defaultValue();
      }
    };
  }
}
