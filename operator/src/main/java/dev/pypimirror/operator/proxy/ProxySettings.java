package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.simple.Resolution;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How the proxy runs, from its command line; every default in {@link #defaults}. Credentials are
 * not here: they come from the environment (see {@link Upstream#of}).
 *
 * @param highWater the share of the cache's volume above which files the proxy fetched are evicted
 * @param limits what the proxy takes on at once, and how long it waits
 */
public record ProxySettings(
    Path cache,
    List<String> upstreams,
    String host,
    int port,
    boolean offline,
    Duration indexTtl,
    Resolution resolution,
    double highWater,
    Limits limits) {
  public ProxySettings {
    upstreams = List.copyOf(upstreams);
  }

  /**
   * Bounds, so that no crowd of clients and no slow upstream can exhaust the proxy.
   *
   * @param maxClients requests served at once; more are answered 503 with {@code Retry-After}
   * @param maxUpstreamConnections requests to upstreams at once (pages and files together); more
   *     wait in turn
   * @param upstreamWait how long a request waits for an upstream connection before it fails (a page
   *     is then served stale when one is stored)
   * @param transferStall how long a file transfer may go without a byte from the upstream (while
   *     the proxy is asking for more), or a client without taking a byte, before it is cut off; and
   *     how long the rest of a file is still fetched into the cache once its client is gone
   */
  public record Limits(
      int maxClients, int maxUpstreamConnections, Duration upstreamWait, Duration transferStall) {
    public static final Limits DEFAULTS =
        new Limits(1024, 64, Duration.ofSeconds(10), Duration.ofSeconds(30));

    public Limits {
      if (maxClients < 1 || maxUpstreamConnections < 1) {
        throw new IllegalArgumentException("limits must be at least 1");
      }
    }
  }

  public static final String DEFAULT_HOST = "0.0.0.0";
  public static final int DEFAULT_PORT = 8080;
  public static final Duration DEFAULT_INDEX_TTL = Duration.ofSeconds(600);
  public static final double DEFAULT_HIGH_WATER = 0.9;

  /**
   * On SIGTERM the proxy is not ready at once but serves on this long, while the Service's
   * endpoints drop the pod.
   */
  public static final Duration DRAIN_DELAY = Duration.ofSeconds(5);

  /**
   * Then the requests under way (downloads) get at most this long before they are cut off: with the
   * delay, within Kubernetes' default grace period of 30 s.
   */
  public static final Duration DRAIN_WAIT = Duration.ofSeconds(20);

  public static ProxySettings defaults(Path cache, List<String> upstreams) {
    return new ProxySettings(
        cache,
        upstreams,
        DEFAULT_HOST,
        DEFAULT_PORT,
        false,
        DEFAULT_INDEX_TTL,
        Resolution.FirstMatch,
        DEFAULT_HIGH_WATER,
        Limits.DEFAULTS);
  }
}
