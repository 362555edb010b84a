package dev.pypimirror.operator.serving;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Whether a line about a key may be logged now: at most once per key per interval, so a flood from
 * one client is one line, not one a request. It remembers only the keys logged within the last
 * interval, at most {@code capacity} of them; while that many are remembered, a new key is not
 * logged until the oldest ages out, so memory stays bounded however many keys come.
 */
public final class LogThrottle {
  private final long intervalNanos;
  private final int capacity;
  private final LongSupplier nanoTime;

  /** When each key was last logged; keys are only added, so the first is the oldest. */
  private final LinkedHashMap<String, Long> logged = new LinkedHashMap<>();

  public LogThrottle(Duration interval, int capacity, LongSupplier nanoTime) {
    this.intervalNanos = interval.toNanos();
    this.capacity = capacity;
    this.nanoTime = nanoTime;
  }

  /** True, and remembered, when nothing was logged about {@code key} within the interval. */
  public synchronized boolean mayLog(String key) {
    long now = nanoTime.getAsLong();
    Iterator<Map.Entry<String, Long>> oldest = logged.entrySet().iterator();
    while (oldest.hasNext() && now - oldest.next().getValue() >= intervalNanos) {
      oldest.remove();
    }
    if (logged.containsKey(key) || logged.size() >= capacity) {
      return false;
    }
    logged.put(key, now);
    return true;
  }

  /** The keys remembered now. */
  public synchronized int remembered() {
    return logged.size();
  }
}
