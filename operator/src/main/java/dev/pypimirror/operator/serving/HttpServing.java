package dev.pypimirror.operator.serving;

import dev.pypimirror.operator.tls.ReloadingKeyManager;
import io.netty.channel.epoll.Epoll;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP(S) port on Vert.x, as the webhook and the caching proxy serve: its own Vert.x, TLS 1.2+
 * with a key and certificate reloaded when they change (or plain HTTP), the probes ({@code
 * healthz}, {@code readyz}, {@code metrics} under a prefix) answered before the handler sees a
 * request, an optional plain-HTTP management port with the same probes, the requests in flight
 * counted (and bounded), and the graceful stop: readiness fails, the port still serves for a delay,
 * the requests under way get up to a deadline, then everything closes.
 */
public final class HttpServing implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpServing.class);

  /**
   * How a server talks to the network: Vert.x event loops, Netty's native epoll transport when it
   * is on the class path, and TLS through OpenSSL (netty-tcnative) when it is on the class path,
   * else the JDK's. {@link #DEFAULT} is what measured fastest per admission (bench/findings.md).
   */
  public record Transport(int eventLoops, boolean nativeTransport, boolean openSsl) {
    public static final Transport DEFAULT =
        new Transport(Math.max(2, Runtime.getRuntime().availableProcessors()), false, false);
  }

  /** Where the serving certificate and key come from, and how often they are looked at. */
  public record Tls(ReloadingKeyManager.Source source, Duration reloadInterval) {}

  /**
   * What to serve on.
   *
   * @param name what the log lines and errors call it ("webhook", "proxy")
   * @param port 0 picks a free one
   * @param managementPort the plain-HTTP probes and metrics port; -1 for none, 0 picks one
   * @param tls empty: plain HTTP
   * @param idleTimeout how long a connection may go without a byte before it is closed
   * @param maxInFlight the most requests {@link #admit} lets in at once
   */
  public record Options(
      String name,
      String host,
      int port,
      int managementPort,
      Transport transport,
      Optional<Tls> tls,
      Duration idleTimeout,
      int maxInFlight) {}

  /**
   * The probes: {@code <prefix>healthz}, {@code <prefix>readyz} and {@code <prefix>metrics},
   * answered to GET and HEAD.
   *
   * @param prefix "/" for the webhook, "/-/" for the proxy
   * @param metricsOnMainPort whether the main port answers {@code metrics} too (the management port
   *     always does)
   * @param ready whether readyz answers 200 (besides: not draining, TLS loaded)
   * @param metrics the Prometheus text
   */
  public record Probes(
      String prefix, boolean metricsOnMainPort, BooleanSupplier ready, Supplier<String> metrics) {}

  private enum Probe {
    HEALTH,
    READY,
    METRICS,
    NONE
  }

  private final Options options;
  private final Probes probes;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger connections = new AtomicInteger();
  private final Map<String, Integer> connectionsFrom = new ConcurrentHashMap<>();
  private final LogThrottle refusedLines =
      new LogThrottle(Duration.ofMinutes(1), 1, System::nanoTime);
  private final LogThrottle connectionErrorLines =
      new LogThrottle(Duration.ofMinutes(1), 1, System::nanoTime);
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile boolean draining;
  private Vertx vertx;
  private HttpServer server;
  private HttpServer management;
  private ReloadingKeyManager keyManager;

  /** Serves nothing yet: {@link #start} does. */
  public HttpServing(Options options, Probes probes) {
    this.options = options;
    this.probes = probes;
  }

  /**
   * Starts serving {@code handler} (every request but the probes); returns once the ports are
   * bound. Fails when the TLS source cannot be read or a port cannot be bound (everything started
   * is closed then), and when started twice or after {@link #close}.
   */
  public synchronized HttpServing start(Handler<HttpServerRequest> handler) throws IOException {
    if (closed.get() || !started.compareAndSet(false, true)) {
      throw new IllegalStateException("the " + options.name() + " server starts once, unclosed");
    }
    if (options.tls().isPresent()) {
      keyManager = new ReloadingKeyManager(options.tls().get().source());
    }
    ClientLeftFilter.install();
    vertx = Vertx.vertx(vertxOptions(options.transport()));
    HttpServerOptions main = mainOptions();
    server = listen(main, request -> serve(request, handler), this::connected, options.port());
    if (options.managementPort() >= 0) {
      management =
          listen(
              new HttpServerOptions()
                  .setHost(options.host())
                  .setPort(options.managementPort())
                  // HTTP/1.1, as Prometheus and the kubelet ask: a JDK client's h2c upgrade
                  // request could hang a scrape for good here
                  .setHttp2ClearTextEnabled(false),
              this::serveManagement,
              connection -> {},
              options.managementPort());
    }
    options.tls().ifPresent(this::reloadPeriodically);
    LOG.info(
        "{} serving {} on {}:{} ({} event loops, {} transport{})",
        options.name(),
        main.isSsl() ? "https" : "http",
        options.host(),
        server.actualPort(),
        options.transport().eventLoops(),
        vertx.isNativeTransportEnabled() ? "epoll" : "NIO",
        !main.isSsl()
            ? ""
            : main.getSslEngineOptions() instanceof OpenSSLEngineOptions
                ? ", OpenSSL TLS"
                : ", JDK TLS");
    if (options.transport().nativeTransport() && !vertx.isNativeTransportEnabled()) {
      Throwable why = Epoll.unavailabilityCause();
      while (why != null && why.getCause() != null) {
        why = why.getCause(); // the root: a missing library, an unwritable temporary directory
      }
      LOG.info(
          "{}: Netty's epoll transport did not load ({}): NIO instead, which serves the same",
          options.name(),
          why == null ? "unknown cause" : why.toString());
    }
    return this;
  }

  private static VertxOptions vertxOptions(Transport transport) {
    return new VertxOptions()
        .setEventLoopPoolSize(transport.eventLoops())
        .setPreferNativeTransport(transport.nativeTransport())
        .setWorkerPoolSize(2)
        .setInternalBlockingPoolSize(2);
  }

  private HttpServerOptions mainOptions() {
    HttpServerOptions main =
        new HttpServerOptions()
            .setHost(options.host())
            .setPort(options.port())
            .setIdleTimeout((int) options.idleTimeout().toSeconds())
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            .setMaxHeaderSize(16 * 1024)
            .setMaxInitialLineLength(4096)
            // HTTP/1.1 only: no h2c streams multiplexed on one connection past the limits
            .setHttp2ClearTextEnabled(false)
            .setCompressionSupported(false);
    if (keyManager != null) {
      main.setSsl(true)
          .setKeyCertOptions(KeyCertOptions.wrap(keyManager))
          .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"))
          .setSslHandshakeTimeout(5)
          .setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
      if (options.transport().openSsl() && OpenSSLEngineOptions.isAvailable()) {
        main.setSslEngineOptions(new OpenSSLEngineOptions());
      }
    }
    return main;
  }

  private HttpServer listen(
      HttpServerOptions serverOptions,
      Handler<HttpServerRequest> handler,
      Handler<HttpConnection> connections,
      int port)
      throws IOException {
    try {
      return vertx
          .createHttpServer(serverOptions)
          .requestHandler(handler)
          .connectionHandler(connections)
          .listen()
          .toCompletionStage()
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      close();
      throw new IOException(
          options.name() + " server cannot listen on " + serverOptions.getHost() + ":" + port, e);
    }
  }

  private void reloadPeriodically(Tls tls) {
    long interval = tls.reloadInterval().toMillis();
    vertx.setPeriodic(
        interval, interval, id -> vertx.executeBlocking(() -> keyManager.reloadIfChanged(), false));
  }

  public int port() {
    return server.actualPort();
  }

  /** The management port as bound; -1 when there is none. */
  public int managementPort() {
    return management == null ? -1 : management.actualPort();
  }

  /** Looks at the TLS files now instead of at the next tick. */
  public void reloadTlsIfChanged() {
    keyManager.reloadIfChanged();
  }

  private void serve(HttpServerRequest request, Handler<HttpServerRequest> handler) {
    Probe probe = probe(request, probes.prefix());
    if (probe == Probe.NONE || probe == Probe.METRICS && !probes.metricsOnMainPort()) {
      handler.handle(request);
    } else {
      answer(request, probe);
    }
  }

  private void serveManagement(HttpServerRequest request) {
    Probe probe = probe(request, "/");
    if (probe == Probe.NONE) {
      request.response().setStatusCode(404).end();
    } else {
      answer(request, probe);
    }
  }

  private static Probe probe(HttpServerRequest request, String prefix) {
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD
        || !request.path().startsWith(prefix)) {
      return Probe.NONE;
    }
    return switch (request.path().substring(prefix.length())) {
      case "healthz" -> Probe.HEALTH;
      case "readyz" -> Probe.READY;
      case "metrics" -> Probe.METRICS;
      default -> Probe.NONE;
    };
  }

  private void answer(HttpServerRequest request, Probe probe) {
    HttpServerResponse response = request.response();
    switch (probe) {
      case HEALTH -> response.end("ok\n");
      case READY -> {
        boolean ready = isReady();
        response.setStatusCode(ready ? 200 : 503).end(ready ? "ok\n" : "not ready\n");
      }
      case METRICS -> answerMetrics(response);
      case NONE -> throw new IllegalArgumentException("not a probe");
    }
  }

  /** The Prometheus text, or a 500 when making it fails: a scrape never waits for an answer. */
  private void answerMetrics(HttpServerResponse response) {
    String text;
    try {
      text = probes.metrics().get();
    } catch (RuntimeException e) {
      LOG.warn("{} could not make its metrics: {}", options.name(), e.toString());
      response.setStatusCode(500).end("metrics unavailable\n");
      return;
    }
    response.putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(text);
  }

  private boolean isReady() {
    return !draining
        && (keyManager == null || keyManager.isLoaded())
        && probes.ready().getAsBoolean();
  }

  /**
   * Counts a request as in flight until its response ends or its connection goes; false, and not
   * counted, when that would pass {@link Options#maxInFlight}.
   */
  public boolean admit(HttpServerResponse response) {
    return admit(response, () -> {});
  }

  /**
   * As {@link #admit(HttpServerResponse)}, and runs {@code whenDone} once when the admitted
   * request's answer ends or its connection goes (not when it is refused): the response's end
   * handler is this class's, so a caller's own count is released here.
   */
  public boolean admit(HttpServerResponse response, Runnable whenDone) {
    if (inFlight.incrementAndGet() > options.maxInFlight()) {
      inFlight.decrementAndGet();
      return false;
    }
    AtomicBoolean counted = new AtomicBoolean(true);
    // Vert.x calls the end handler when the connection goes too; the close handler stays the
    // handler's to set
    response.endHandler(
        v -> {
          if (counted.getAndSet(false)) {
            inFlight.decrementAndGet();
            whenDone.run();
          }
        });
    return true;
  }

  /**
   * The main port's connections: four per request that may be in flight (clients keep idle
   * connections open), at least 1,024, and from one address as many as requests may be in flight,
   * at least 256. A client that opens connections and sends no request (or a byte now and then,
   * inside the idle time-out) holds no request place, so without this bound it could hold every
   * file descriptor. A connection over either bound is closed at once; a log line says so at most
   * once a minute.
   */
  private void connected(HttpConnection connection) {
    int most = (int) Math.min(Integer.MAX_VALUE, Math.max(1024L, 4L * options.maxInFlight()));
    int mostFromOne = (int) Math.min(most, Math.max(256L, options.maxInFlight()));
    String address =
        connection.remoteAddress() == null ? "" : connection.remoteAddress().hostAddress();
    AtomicBoolean admitted = new AtomicBoolean();
    connectionsFrom.compute(
        address,
        (from, open) -> {
          int now = open == null ? 0 : open;
          if (now >= mostFromOne || connections.get() >= most) {
            return open;
          }
          connections.incrementAndGet();
          admitted.set(true);
          return now + 1;
        });
    if (!admitted.get()) {
      connection.close();
      if (refusedLines.mayLog("refused")) {
        LOG.warn(
            "{}: connection from {} closed: {} connections open ({} at most, {} from one address)",
            options.name(),
            address,
            connections.get(),
            most,
            mostFromOne);
      }
      return;
    }
    // a client that resets or leaves mid-answer (broken pipe) is no error of the server's; without
    // a handler Vert.x logs each at ERROR with a stack trace
    connection.exceptionHandler(
        e -> {
          if (ClientLeft.is(e)) {
            LOG.debug("{}: connection from {}: {}", options.name(), address, e.toString());
          } else if (connectionErrorLines.mayLog("error")) {
            LOG.warn(
                "{}: connection from {} failed (logged at most once a minute)",
                options.name(),
                address,
                e);
          }
        });
    connection.closeHandler(
        v -> {
          connections.decrementAndGet();
          connectionsFrom.computeIfPresent(address, (from, open) -> open <= 1 ? null : open - 1);
        });
  }

  /** Connections open on the main port now. */
  public int connections() {
    return connections.get();
  }

  /** Requests admitted whose answer has not ended yet. */
  public int inFlight() {
    return inFlight.get();
  }

  /**
   * Fails readiness from now on; requests are still served. A handler tells its clients to
   * reconnect elsewhere by closing their connections while {@link #draining}.
   */
  public void drain() {
    draining = true;
  }

  public boolean draining() {
    return draining;
  }

  /**
   * The graceful stop: {@link #drain}, keep serving for {@code delay} (long enough for a Service's
   * endpoints to drop this pod), wait at most {@code inFlightTimeout} for the requests under way,
   * then {@link #close}.
   */
  public void shutdown(Duration delay, Duration inFlightTimeout) {
    if (closed.get() || server == null) {
      close(); // nothing is served: nothing to drain
      return;
    }
    drain();
    try {
      if (!delay.isZero() && !delay.isNegative()) {
        LOG.info(
            "{} draining: not ready, still serving for {} s",
            options.name(),
            delay.toMillis() / 1000.0);
        Thread.sleep(delay.toMillis());
      }
      long deadline = System.nanoTime() + inFlightTimeout.toNanos();
      while (inFlight.get() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (inFlight.get() > 0) {
      LOG.warn("{} closing with {} request(s) unanswered", options.name(), inFlight.get());
    }
    close();
  }

  /**
   * Closes the ports and Vert.x at once. Only the first call does anything; before {@link #start}
   * it only keeps the server from starting.
   */
  @Override
  public synchronized void close() {
    draining = true;
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      if (server != null) {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      if (management != null) {
        management.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      if (vertx != null) {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      LOG.warn("{} server did not close cleanly: {}", options.name(), e.getMessage());
    }
  }
}
