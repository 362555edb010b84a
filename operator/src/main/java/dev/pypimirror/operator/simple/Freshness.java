package dev.pypimirror.operator.simple;

import java.time.Duration;
import java.time.Instant;

/**
 * When a stored page may be served as it is and when it is asked for again upstream. A client's own
 * {@code Cache-Control: max-age=0} (pip sends it for every page) plays no part: within the TTL the
 * stored page is served.
 *
 * @param ttl how long a page is served without asking upstream ({@code --index-ttl})
 * @param negativeTtl how long "no upstream has it" is remembered
 */
public record Freshness(Duration ttl, Duration negativeTtl) {
  /** A page found: the TTL. Not found: at most a minute, never longer than the TTL. */
  public static Freshness of(Duration ttl) {
    return new Freshness(
        ttl, ttl.compareTo(Duration.ofMinutes(1)) < 0 ? ttl : Duration.ofMinutes(1));
  }

  public enum Decision {
    /** Serve it; ask nobody. */
    FRESH,
    /** Ask upstream again (conditionally, with the stored validators). */
    REVALIDATE
  }

  /** What to do with a page (or a remembered absence) fetched at {@code fetched}. */
  public Decision decide(boolean found, Instant fetched, Instant now) {
    Duration limit = found ? ttl : negativeTtl;
    return fetched.plus(limit).isAfter(now) ? Decision.FRESH : Decision.REVALIDATE;
  }
}
