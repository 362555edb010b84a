package dev.pypimirror.operator.webhook;

import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.tls.ReloadingKeyManager;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admission webhook's HTTPS server: the POST routes it is given (the operator's: {@value
 * #MUTATE_PODS} and {@value #VALIDATE_MIRRORS}), GET /healthz and /readyz; on the plain-HTTP
 * management port GET /metrics, /healthz and /readyz. TLS 1.2+ with the certificate and key read
 * from files and reloaded when they change, so rotation needs no restart. Bodies are capped, idle
 * and slow connections are closed.
 */
public class WebhookServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookServer.class);

  /** The same cap as controller-runtime. */
  public static final int MAX_BODY_BYTES = 7 * 1024 * 1024;

  /** How much of an oversized body is read and discarded before the connection is cut. */
  static final long DRAIN_LIMIT_BYTES = 4L * MAX_BODY_BYTES;

  public static final String MUTATE_PODS = "/mutate-pods";
  public static final String VALIDATE_MIRRORS = "/validate-pypimirrors";
  public static final String VALIDATE_POLICIES = "/validate-pypimirrorpolicies";

  /**
   * How the server talks to the network: Vert.x event loops, Netty's native epoll transport when it
   * is on the class path, and TLS through OpenSSL (netty-tcnative) when it is on the class path,
   * else the JDK's. {@link #DEFAULT} is what measured fastest per admission (bench/findings.md).
   */
  public record Transport(int eventLoops, boolean nativeTransport, boolean openSsl) {
    public static final Transport DEFAULT =
        new Transport(Math.max(2, Runtime.getRuntime().availableProcessors()), false, false);
  }

  private final OperatorSettings.Webhook settings;
  private final ReloadingKeyManager.Source tls;
  private final Transport transport;
  private final Map<String, Function<byte[], AdmissionResponse>> routes;
  private final Map<String, BiFunction<String, byte[], CompletionStage<AdmissionResponse>>>
      prefixRoutes;
  private final BooleanSupplier ready;
  private final Supplier<String> metrics;
  private Vertx vertx;
  private volatile HttpServer server;
  private HttpServer management;
  private ReloadingKeyManager keyManager;
  private volatile boolean stopping;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * Serves nothing yet: {@link #start} does.
   *
   * @param settings where to serve (its host, ports and TLS reload interval)
   * @param tls where the serving certificate and key come from
   * @param routes POST paths and what answers them
   * @param ready whether /readyz answers 200 (the caches the handlers read have synced)
   * @param metrics what /metrics on the management port answers
   * @param transport event loops, epoll and OpenSSL ({@link Transport#DEFAULT}: as measured best)
   */
  public WebhookServer(
      OperatorSettings.Webhook settings,
      ReloadingKeyManager.Source tls,
      Map<String, Function<byte[], AdmissionResponse>> routes,
      BooleanSupplier ready,
      Supplier<String> metrics,
      Transport transport) {
    this(settings, tls, routes, Map.of(), ready, metrics, transport);
  }

  /**
   * As the other constructor, with routes for every path under a prefix as well.
   *
   * @param prefixRoutes POST paths under a prefix (the prefix ends with {@code /}) and what answers
   *     them, given the rest of the path (a policy's webhook entry names the policy there); the
   *     answer may come later, from another thread: the event loop does not wait for it
   */
  public WebhookServer(
      OperatorSettings.Webhook settings,
      ReloadingKeyManager.Source tls,
      Map<String, Function<byte[], AdmissionResponse>> routes,
      Map<String, BiFunction<String, byte[], CompletionStage<AdmissionResponse>>> prefixRoutes,
      BooleanSupplier ready,
      Supplier<String> metrics,
      Transport transport) {
    this.settings = settings;
    this.tls = tls;
    this.transport = transport;
    this.routes = Map.copyOf(routes);
    this.prefixRoutes = Map.copyOf(prefixRoutes);
    this.ready = ready;
    this.metrics = metrics;
  }

  /**
   * Starts serving; returns once the port is bound. Fails when the TLS source cannot be read, and
   * when started twice or after {@link #close}.
   */
  public synchronized WebhookServer start() throws IOException {
    if (closed.get() || !started.compareAndSet(false, true)) {
      throw new IllegalStateException("the webhook server starts once, before it is closed");
    }
    keyManager = new ReloadingKeyManager(tls);
    vertx =
        Vertx.vertx(
            new VertxOptions()
                .setEventLoopPoolSize(transport.eventLoops())
                .setPreferNativeTransport(transport.nativeTransport())
                .setWorkerPoolSize(2)
                .setInternalBlockingPoolSize(2));
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(settings.host())
            .setPort(settings.port())
            .setSsl(true)
            .setKeyCertOptions(KeyCertOptions.wrap(keyManager))
            .setEnabledSecureTransportProtocols(Set.of("TLSv1.2", "TLSv1.3"))
            .setSslHandshakeTimeout(5)
            .setSslHandshakeTimeoutUnit(TimeUnit.SECONDS)
            .setIdleTimeout(60)
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            .setMaxHeaderSize(16 * 1024)
            .setMaxInitialLineLength(4096)
            .setCompressionSupported(false);
    if (transport.openSsl() && OpenSSLEngineOptions.isAvailable()) {
      options.setSslEngineOptions(new OpenSSLEngineOptions());
    }
    try {
      server =
          vertx
              .createHttpServer(options)
              .requestHandler(this::handle)
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      close();
      throw new IOException(
          "webhook server cannot listen on " + settings.host() + ":" + settings.port(), e);
    }
    if (settings.managementPort() >= 0) {
      try {
        management =
            vertx
                .createHttpServer(
                    new HttpServerOptions()
                        .setHost(settings.host())
                        .setPort(settings.managementPort()))
                .requestHandler(this::handleManagement)
                .listen()
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        close();
        throw new IOException("management server cannot listen on " + settings.managementPort(), e);
      }
    }
    long interval = settings.tlsReloadInterval().toMillis();
    vertx.setPeriodic(
        interval, interval, id -> vertx.executeBlocking(() -> keyManager.reloadIfChanged(), false));
    LOG.info(
        "webhook serving https on {}:{} ({} event loops, {} transport, {} TLS)",
        settings.host(),
        server.actualPort(),
        transport.eventLoops(),
        vertx.isNativeTransportEnabled() ? "epoll" : "NIO",
        options.getSslEngineOptions() instanceof OpenSSLEngineOptions ? "OpenSSL" : "JDK");
    return this;
  }

  public int port() {
    return server.actualPort();
  }

  /** Looks at the TLS files now instead of at the next tick. */
  void reloadTlsIfChanged() {
    keyManager.reloadIfChanged();
  }

  public int managementPort() {
    return management == null ? -1 : management.actualPort();
  }

  private void handleManagement(HttpServerRequest request) {
    if (request.method() == HttpMethod.GET && request.path().equals("/metrics")) {
      request
          .response()
          .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
          .end(metrics.get());
    } else if (!handleHealth(request)) {
      request.response().setStatusCode(404).end();
    }
  }

  /** /healthz and /readyz; false for any other request. */
  private boolean handleHealth(HttpServerRequest request) {
    String path = request.path();
    if (request.method() == HttpMethod.GET && path.equals("/healthz")) {
      request.response().end("ok\n");
      return true;
    }
    if (request.method() == HttpMethod.GET && path.equals("/readyz")) {
      boolean isReady = !stopping && keyManager.isLoaded() && ready.getAsBoolean();
      request.response().setStatusCode(isReady ? 200 : 503).end(isReady ? "ok\n" : "not ready\n");
      return true;
    }
    return false;
  }

  private void handle(HttpServerRequest request) {
    if (handleHealth(request)) {
      return;
    }
    String path = request.path();
    Function<byte[], CompletionStage<AdmissionResponse>> route = route(path);
    if (route == null) {
      request.response().setStatusCode(404).end();
    } else if (request.method() != HttpMethod.POST) {
      request.response().setStatusCode(405).putHeader("Allow", "POST").end();
    } else {
      readBody(request, route);
    }
  }

  /** What answers a path: its exact route, else the route of its prefix given the rest; or null. */
  private Function<byte[], CompletionStage<AdmissionResponse>> route(String path) {
    Function<byte[], AdmissionResponse> exact = routes.get(path);
    if (exact != null) {
      return body -> CompletableFuture.completedFuture(exact.apply(body));
    }
    for (var prefix : prefixRoutes.entrySet()) {
      if (path.startsWith(prefix.getKey()) && path.length() > prefix.getKey().length()) {
        String rest = path.substring(prefix.getKey().length());
        return body -> prefix.getValue().apply(rest, body);
      }
    }
    return null;
  }

  /**
   * Reads the body up to the cap. A body over the cap is read on and discarded up to {@link
   * #DRAIN_LIMIT_BYTES} and then answered 400, so the client reads the answer and may reuse the
   * connection; beyond that limit the answer goes at once and the connection is closed.
   */
  private void readBody(
      HttpServerRequest request, Function<byte[], CompletionStage<AdmissionResponse>> handler) {
    String length = request.getHeader("Content-Length");
    if (length != null && parseLong(length) > DRAIN_LIMIT_BYTES) {
      tooLarge(request, true);
      return;
    }
    Buffer body = Buffer.buffer();
    long[] received = {0};
    inFlight.incrementAndGet();
    AtomicBoolean finished = new AtomicBoolean();
    Runnable answered =
        () -> {
          if (finished.compareAndSet(false, true)) {
            inFlight.decrementAndGet();
          }
        };
    request.response().endHandler(v -> answered.run());
    request.response().closeHandler(v -> answered.run());
    request.handler(
        chunk -> {
          received[0] += chunk.length();
          if (received[0] > DRAIN_LIMIT_BYTES) {
            tooLarge(request, true);
          } else if (received[0] <= MAX_BODY_BYTES) {
            body.appendBuffer(chunk);
          }
        });
    request.endHandler(
        done -> {
          if (request.response().ended()) {
            return;
          }
          if (received[0] > MAX_BODY_BYTES) {
            tooLarge(request, false);
            return;
          }
          Future.fromCompletionStage(handler.apply(body.getBytes()), Vertx.currentContext())
              .onComplete(answer -> respond(request, answer));
        });
  }

  /** Sends an answer; a handler that failed is a 500 (the API server's failurePolicy decides). */
  private void respond(HttpServerRequest request, AsyncResult<AdmissionResponse> answer) {
    if (request.response().ended() || request.response().closed()) {
      return;
    }
    if (stopping) {
      // the client's next request opens a new connection, to a replica that is not stopping
      request.response().putHeader("Connection", "close");
    }
    if (answer.failed()) {
      LOG.error("admission handler failed", answer.cause());
      request.response().setStatusCode(500).end();
      return;
    }
    request
        .response()
        .setStatusCode(answer.result().status())
        .putHeader("Content-Type", answer.result().contentType())
        .end(Buffer.buffer(answer.result().body()));
  }

  private static void tooLarge(HttpServerRequest request, boolean close) {
    if (request.response().ended()) {
      return;
    }
    var response =
        request
            .response()
            .setStatusCode(400)
            .putHeader("Content-Type", "text/plain; charset=utf-8");
    if (close) {
      response.putHeader("Connection", "close");
    }
    response
        .end("request body exceeds " + MAX_BODY_BYTES + " bytes\n")
        .onComplete(
            done -> {
              if (close) {
                request.connection().close();
              }
            });
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Fails readiness: /readyz answers 503 from now on, and every admission answer closes its
   * connection, so clients reconnect to a replica that is not stopping. Admissions are still
   * served.
   */
  public void drain() {
    stopping = true;
  }

  /** Admissions whose answer has not been sent yet. */
  public int inFlight() {
    return inFlight.get();
  }

  /**
   * The graceful stop: {@link #drain}, keep serving for {@code delay} (long enough for the
   * Service's endpoints to drop this replica), wait at most {@code inFlightTimeout} for the
   * admissions under way to be answered, then {@link #close}.
   */
  public void shutdown(Duration delay, Duration inFlightTimeout) {
    if (closed.get() || server == null) {
      close(); // nothing is served: nothing to drain
      return;
    }
    drain();
    try {
      if (!delay.isZero() && !delay.isNegative()) {
        LOG.info("webhook draining: not ready, still serving for {} s", delay.toMillis() / 1000.0);
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
      LOG.warn("webhook closing with {} admission(s) unanswered", inFlight.get());
    }
    close();
  }

  /**
   * Closes the servers at once. Only the first call does anything; before {@link #start} it only
   * keeps the server from starting.
   */
  @Override
  public synchronized void close() {
    stopping = true;
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
      LOG.warn("webhook server did not close cleanly: {}", e.getMessage());
    }
  }
}
