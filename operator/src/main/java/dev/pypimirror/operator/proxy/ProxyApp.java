package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.BuildInfo;
import dev.pypimirror.operator.serving.HttpServing;
import dev.pypimirror.operator.simple.Freshness;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code proxy} command's composition root: builds the file store, upstream client, page cache,
 * metrics and server from the settings and the environment (credentials); {@link #start} serves,
 * {@link #close} stops everything it started. No Kubernetes client: the proxy needs none.
 */
public final class ProxyApp implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyApp.class);

  /** Threads for disk work (stat, page files, eviction) off the event loops. */
  static final int WORKERS = 8;

  /** Threads the upstream client runs its callbacks and file writes on. */
  static final int UPSTREAM_THREADS = 8;

  /**
   * Netty's epoll transport where its native library loads (Linux, x86-64 or aarch64, a writable
   * temporary directory), else NIO: epoll lets a cached file's head share its first segment ({@link
   * Cork}). The webhook keeps NIO (bench/findings.md: epoll won it nothing).
   */
  static final HttpServing.Transport TRANSPORT =
      new HttpServing.Transport(HttpServing.Transport.DEFAULT.eventLoops(), true, false);

  /** How long a client connection may stay without a byte either way. */
  static final Duration IDLE_TIMEOUT = Duration.ofSeconds(120);

  private final ProxySettings settings;
  private final ExecutorService workers;
  private final ExecutorService upstreamThreads;
  private final FileStore store;
  private final PageCache pages;
  private final HttpServing serving;
  private final ProxyServer server;
  private volatile boolean ready;

  public ProxyApp(ProxySettings settings, Map<String, String> env) throws IOException {
    this.settings = settings;
    List<Upstream> upstreams =
        Upstream.of(settings.upstreams(), env, path -> Files.readString(Path.of(path)));
    this.store = new FileStore(settings.cache(), settings.highWater(), Clock.systemUTC());
    this.workers = pool("proxy-worker-", WORKERS);
    this.upstreamThreads = pool("proxy-upstream-", UPSTREAM_THREADS);
    ProxyMetrics metrics = new ProxyMetrics(upstreams.size(), store::fetchedBytes, store::full);
    UpstreamClient client =
        new UpstreamClient(
            upstreamThreads,
            "pypi-mirror-operator-proxy/" + BuildInfo.current().version(),
            settings.limits().maxUpstreamConnections(),
            settings.limits().maxUpstreamPerClient(),
            settings.limits().upstreamWait());
    this.pages =
        new PageCache(
            upstreams,
            settings.resolution(),
            Freshness.of(settings.indexTtl()),
            settings.offline(),
            client,
            store,
            workers,
            PageCache.afterStaleWait(workers),
            Clock.systemUTC(),
            metrics,
            PageCache.Bounds.DEFAULTS);
    this.serving =
        new HttpServing(
            new HttpServing.Options(
                "proxy",
                settings.host(),
                settings.port(),
                -1,
                TRANSPORT,
                Optional.empty(),
                IDLE_TIMEOUT,
                settings.limits().maxClients()),
            new HttpServing.Probes("/-/", true, () -> ready, metrics::scrape));
    this.server =
        new ProxyServer(
            pages,
            store,
            client,
            upstreams,
            settings.offline(),
            metrics,
            workers,
            serving,
            settings.limits());
    metrics.load(serving::inFlight, server::clientAddresses, client::connectionsInUse);
    upstreams.forEach(u -> LOG.info("{}", u));
  }

  private static ExecutorService pool(String prefix, int threads) {
    return new ThreadPoolExecutor(
        threads,
        threads,
        60,
        TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(),
        DaemonThreads.numbered(prefix));
  }

  /** Serves; returns the port it listens on. */
  public int start() throws IOException {
    int port = serving.start(server::handle).port();
    pages.tidy();
    workers.execute(
        () -> {
          try {
            store.count();
          } catch (IOException e) {
            LOG.warn("cannot count the cache: {}", e.toString());
          }
        });
    ready = true;
    return port;
  }

  /**
   * The graceful stop: not ready from now on, still serving for {@code delay} (for the Service's
   * endpoints to drop this pod), then at most {@code inFlightTimeout} for the requests under way (a
   * download holds its client); then everything closes.
   */
  public void shutdown(Duration delay, Duration inFlightTimeout) {
    ready = false;
    serving.shutdown(delay, inFlightTimeout);
    close();
  }

  /** Stops at once: requests under way are cut off. */
  @Override
  public void close() {
    ready = false;
    serving.close();
    workers.shutdownNow();
    upstreamThreads.shutdownNow();
    store.letGoIdle(); // the volume locks kept after the last serves: not held past the proxy
  }
}
