package dev.pypimirror.operator.webhook;

import dev.pypimirror.operator.serving.HttpServing;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.tls.ReloadingKeyManager;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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

  private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);

  private final Map<String, Function<byte[], AdmissionResponse>> routes;
  private final Map<String, BiFunction<String, byte[], CompletionStage<AdmissionResponse>>>
      prefixRoutes;
  private final HttpServing serving;

  /**
   * Serves nothing yet: {@link #start} does.
   *
   * @param settings where to serve (its host, ports and TLS reload interval)
   * @param tls where the serving certificate and key come from
   * @param routes POST paths and what answers them
   * @param ready whether /readyz answers 200 (the caches the handlers read have synced)
   * @param metrics what /metrics on the management port answers
   * @param transport event loops, epoll and OpenSSL ({@link HttpServing.Transport#DEFAULT}: as
   *     measured best)
   */
  public WebhookServer(
      OperatorSettings.Webhook settings,
      ReloadingKeyManager.Source tls,
      Map<String, Function<byte[], AdmissionResponse>> routes,
      BooleanSupplier ready,
      Supplier<String> metrics,
      HttpServing.Transport transport) {
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
      HttpServing.Transport transport) {
    this.routes = Map.copyOf(routes);
    this.prefixRoutes = Map.copyOf(prefixRoutes);
    this.serving =
        new HttpServing(
            new HttpServing.Options(
                "webhook",
                settings.host(),
                settings.port(),
                settings.managementPort(),
                transport,
                Optional.of(new HttpServing.Tls(tls, settings.tlsReloadInterval())),
                IDLE_TIMEOUT,
                Integer.MAX_VALUE),
            new HttpServing.Probes("/", false, ready, metrics));
  }

  /**
   * Starts serving; returns once the port is bound. Fails when the TLS source cannot be read, and
   * when started twice or after {@link #close}.
   */
  public WebhookServer start() throws IOException {
    serving.start(this::handle);
    return this;
  }

  public int port() {
    return serving.port();
  }

  /** Looks at the TLS files now instead of at the next tick. */
  void reloadTlsIfChanged() {
    serving.reloadTlsIfChanged();
  }

  public int managementPort() {
    return serving.managementPort();
  }

  private void handle(HttpServerRequest request) {
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
    serving.admit(request.response());
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
    if (serving.draining()) {
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
    serving.drain();
  }

  /** Admissions whose answer has not been sent yet. */
  public int inFlight() {
    return serving.inFlight();
  }

  /**
   * The graceful stop: {@link #drain}, keep serving for {@code delay} (long enough for the
   * Service's endpoints to drop this replica), wait at most {@code inFlightTimeout} for the
   * admissions under way to be answered, then {@link #close}.
   */
  public void shutdown(Duration delay, Duration inFlightTimeout) {
    serving.shutdown(delay, inFlightTimeout);
  }

  /**
   * Closes the servers at once. Only the first call does anything; before {@link #start} it only
   * keeps the server from starting.
   */
  @Override
  public void close() {
    serving.close();
  }
}
