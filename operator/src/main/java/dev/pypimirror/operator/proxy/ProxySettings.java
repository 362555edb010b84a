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
 */
public record ProxySettings(
    Path cache,
    List<String> upstreams,
    String host,
    int port,
    boolean offline,
    Duration indexTtl,
    Resolution resolution,
    double highWater) {
  public ProxySettings {
    upstreams = List.copyOf(upstreams);
  }

  public static final String DEFAULT_HOST = "0.0.0.0";
  public static final int DEFAULT_PORT = 8080;
  public static final Duration DEFAULT_INDEX_TTL = Duration.ofSeconds(600);
  public static final double DEFAULT_HIGH_WATER = 0.9;

  public static ProxySettings defaults(Path cache, List<String> upstreams) {
    return new ProxySettings(
        cache,
        upstreams,
        DEFAULT_HOST,
        DEFAULT_PORT,
        false,
        DEFAULT_INDEX_TTL,
        Resolution.FirstMatch,
        DEFAULT_HIGH_WATER);
  }
}
