package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.simple.Resolution;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How the proxy runs, from its command line; every default in {@link Defaults}. Credentials are not
 * here: they come from the environment (see {@link Upstream#of}).
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
   * @param maxPerClient requests served at once to one client address; more are answered 429 with
   *     {@code Retry-After}
   * @param maxUpstreamConnections requests to upstreams at once (pages and files together); more
   *     wait in turn
   * @param maxUpstreamPerClient requests to upstreams at once for one client address; more wait in
   *     that client's own line (0: half of {@code maxUpstreamConnections}, at least 1)
   * @param upstreamWait how long a request waits for an upstream connection before it fails (a page
   *     is then served stale when one is stored)
   * @param transferStall how long a file transfer may go without a byte from the upstream (while
   *     the proxy is asking for more), or a client without taking a byte, before it is cut off; and
   *     how long the rest of a file is still fetched into the cache once its client is gone
   */
  public record Limits(
      int maxClients,
      int maxPerClient,
      int maxUpstreamConnections,
      int maxUpstreamPerClient,
      Duration upstreamWait,
      Duration transferStall) {
    public static final Limits DEFAULTS =
        new Limits(
            Defaults.PROXY_MAX_CLIENTS.defaultValue(),
            Defaults.PROXY_MAX_PER_CLIENT.defaultValue(),
            Defaults.PROXY_MAX_UPSTREAM_CONNECTIONS.defaultValue(),
            Defaults.PROXY_MAX_UPSTREAM_PER_CLIENT.defaultValue(),
            Defaults.PROXY_UPSTREAM_WAIT.defaultValue(),
            Defaults.PROXY_TRANSFER_STALL.defaultValue());

    public Limits {
      if (maxClients < 1 || maxPerClient < 1 || maxUpstreamConnections < 1) {
        throw new IllegalArgumentException(
            "--max-clients, --max-per-client and --max-upstream-connections must be at least 1");
      }
      if (maxUpstreamPerClient < 0) {
        throw new IllegalArgumentException(
            "--max-upstream-per-client must be at least 1, or 0 for half of"
                + " --max-upstream-connections");
      }
      maxUpstreamPerClient = upstreamShare(maxUpstreamPerClient, maxUpstreamConnections);
    }

    /** With the default share of each client's upstream connections (half of all). */
    public Limits(
        int maxClients,
        int maxPerClient,
        int maxUpstreamConnections,
        Duration upstreamWait,
        Duration transferStall) {
      this(maxClients, maxPerClient, maxUpstreamConnections, 0, upstreamWait, transferStall);
    }

    /**
     * One client's share of {@code total} upstream connections: as asked, at most all of them; 0
     * asks for half (at least 1), so whatever one client asks for, the other half stays free for
     * the rest.
     */
    static int upstreamShare(int asked, int total) {
      return asked == 0 ? Math.max(1, total / 2) : Math.min(asked, total);
    }
  }

  /** What the proxy's termination message begins with when it cannot start (then: why). */
  public static final String TERMINATION_PREFIX = "the proxy does not start: ";
}
