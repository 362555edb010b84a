package dev.pypimirror.operator.proxy;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;
import java.util.function.UnaryOperator;

/**
 * Entries by key, least recently used dropped first, bounded in count and in bytes (as the weigher
 * tells them): whatever clients ask for, it never holds more. An entry heavier than the whole bound
 * is not kept (and drops the key's old one).
 */
final class PageMemory<V> {
  private final int maxEntries;
  private final long maxBytes;
  private final ToLongFunction<V> weigher;
  private final LinkedHashMap<String, V> entries = new LinkedHashMap<>(256, 0.75f, true);
  private long bytes;

  PageMemory(int maxEntries, long maxBytes, ToLongFunction<V> weigher) {
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.weigher = weigher;
  }

  synchronized V get(String key) {
    return entries.get(key);
  }

  /**
   * Keeps {@code value} for {@code key} (null: drops the key), then drops the oldest over bound.
   */
  synchronized void put(String key, V value) {
    V old = value == null ? entries.remove(key) : entries.put(key, value);
    if (old != null) {
      bytes -= weigher.applyAsLong(old);
    }
    if (value == null) {
      return;
    }
    long weight = weigher.applyAsLong(value);
    if (weight > maxBytes) {
      entries.remove(key);
      return;
    }
    bytes += weight;
    Iterator<Map.Entry<String, V>> oldest = entries.entrySet().iterator();
    while (entries.size() > maxEntries || bytes > maxBytes) {
      bytes -= weigher.applyAsLong(oldest.next().getValue());
      oldest.remove();
    }
  }

  /** Replaces the key's entry (null when none) by what {@code change} makes of it, atomically. */
  synchronized void update(String key, UnaryOperator<V> change) {
    V old = entries.get(key);
    V changed = change.apply(old);
    if (changed != old) {
      put(key, changed);
    }
  }

  synchronized void remove(String key) {
    put(key, null);
  }

  synchronized int count(Predicate<V> which) {
    return (int) entries.values().stream().filter(which).count();
  }

  synchronized int size() {
    return entries.size();
  }

  synchronized long bytes() {
    return bytes;
  }
}
