package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.cache.DistributionFile;
import dev.pypimirror.operator.proxy.FileStore.CachedFile;
import dev.pypimirror.operator.proxy.PageCache.Answered;
import dev.pypimirror.operator.proxy.ProxyMetrics.Kind;
import dev.pypimirror.operator.proxy.ProxyMetrics.Outcome;
import dev.pypimirror.operator.simple.FileLink;
import dev.pypimirror.operator.simple.PageFormat;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's HTTP server (Vert.x): the Simple Repository API under {@code /simple/}, the files its
 * pages link to under {@code /files/<project>/<file>}, {@code /-/healthz}, {@code /-/readyz},
 * {@code /-/metrics} and {@code /-/status}; every other path is 404. Nothing blocks an event loop:
 * a fresh page is answered from memory, everything touching the disk or an upstream runs on the
 * workers or the HTTP client's threads, and files are sent from disk by the kernel ({@code
 * sendFile}).
 */
public final class ProxyServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");
  private static final String VARY = "Accept, Accept-Encoding";

  private final Vertx vertx;
  private final PageCache pages;
  private final FileStore store;
  private final UpstreamClient client;
  private final java.util.List<Upstream> upstreams;
  private final boolean offline;
  private final ProxyMetrics metrics;
  private final Executor workers;
  private final BooleanSupplier ready;
  private final ProxySettings.Limits limits;
  private final SingleFlight<String, Boolean> fetches = new SingleFlight<>();
  private final AtomicInteger clients = new AtomicInteger();
  private HttpServer server;

  ProxyServer(
      Vertx vertx,
      PageCache pages,
      FileStore store,
      UpstreamClient client,
      java.util.List<Upstream> upstreams,
      boolean offline,
      ProxyMetrics metrics,
      Executor workers,
      BooleanSupplier ready,
      ProxySettings.Limits limits) {
    this.limits = limits;
    this.vertx = vertx;
    this.pages = pages;
    this.store = store;
    this.client = client;
    this.upstreams = upstreams;
    this.offline = offline;
    this.metrics = metrics;
    this.workers = workers;
    this.ready = ready;
  }

  /** Listens; returns the port (the one picked when {@code port} is 0). */
  int start(String host, int port) throws Exception {
    server =
        vertx
            .createHttpServer(
                new HttpServerOptions()
                    .setHost(host)
                    .setPort(port)
                    .setIdleTimeout(120)
                    // HTTP/1.1 only (what pip and uv speak): no h2c streams multiplexed on one
                    // connection to hold many upstream transfers at once
                    .setHttp2ClearTextEnabled(false)
                    .setMaxInitialLineLength(4096)
                    .setMaxHeaderSize(16384))
            .requestHandler(this::handle);
    return server
        .listen()
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS)
        .actualPort();
  }

  private void handle(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
      response.setStatusCode(405).putHeader("Allow", "GET, HEAD").end();
      return;
    }
    Route route = Route.of(request.path());
    boolean probe =
        route instanceof Route.Health
            || route instanceof Route.Ready
            || route instanceof Route.Metrics
            || route instanceof Route.Status;
    if (!probe && !admitClient(response)) {
      metrics.request(Kind.OTHER, Outcome.BUSY);
      response.setStatusCode(503).putHeader("Retry-After", "1").end("too many requests at once\n");
      return;
    }
    if (route instanceof Route.Health) {
      response.end("ok\n");
    } else if (route instanceof Route.Ready) {
      response
          .setStatusCode(ready.getAsBoolean() ? 200 : 503)
          .end(ready.getAsBoolean() ? "ok\n" : "not ready\n");
    } else if (route instanceof Route.Metrics) {
      response.putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      response.end(metrics.scrape());
    } else if (route instanceof Route.Status) {
      response.putHeader("Content-Type", "application/json");
      response.end(
          "{\"cacheFull\":" + store.full() + ",\"cacheBytes\":" + store.fetchedBytes() + "}\n");
    } else if (route instanceof Route.Root) {
      page(request, Kind.ROOT, null);
    } else if (route instanceof Route.Project p) {
      page(request, Kind.PAGE, p.name());
    } else if (route instanceof Route.Redirect r) {
      metrics.request(Kind.PAGE, Outcome.REDIRECT);
      String query = request.query() == null ? "" : "?" + request.query();
      response.setStatusCode(301).putHeader("Location", r.location() + query).end();
    } else if (route instanceof Route.File f) {
      file(request, f);
    } else {
      metrics.request(Kind.OTHER, Outcome.NOT_FOUND);
      response.setStatusCode(404).end("not found\n");
    }
  }

  /**
   * Counts the request among those served at once, until its response ends or its connection goes
   * (Vert.x calls the end handler for both); false, uncounted, when that would pass the limit.
   * Probes are not counted, so a crowd of clients does not make the pod look dead.
   */
  private boolean admitClient(HttpServerResponse response) {
    if (clients.incrementAndGet() > limits.maxClients()) {
      clients.decrementAndGet();
      return false;
    }
    AtomicBoolean counted = new AtomicBoolean(true);
    response.endHandler(
        v -> {
          if (counted.getAndSet(false)) {
            clients.decrementAndGet();
          }
        });
    return true;
  }

  /** Requests being served now (probes aside). */
  int clients() {
    return clients.get();
  }

  // --- pages ----------------------------------------------------------------------------------

  private void page(HttpServerRequest request, Kind kind, String project) {
    Optional<PageFormat> format =
        PageFormat.negotiate(request.getHeader("Accept"), request.getParam("format"));
    if (format.isEmpty()) {
      request
          .response()
          .setStatusCode(406)
          .putHeader("Vary", VARY)
          .end(
              "acceptable: text/html, application/vnd.pypi.simple.v1+html, application/vnd.pypi.simple.v1+json\n");
      return;
    }
    boolean gzip = acceptsGzip(request.getHeader("Accept-Encoding"));
    if (project == null) {
      Context context = vertx.getOrCreateContext();
      pages
          .root()
          .whenComplete(
              (page, error) ->
                  context.runOnContext(
                      v -> {
                        if (error != null) {
                          error(request, kind, error);
                        } else {
                          answerPage(request, kind, Outcome.HIT, page, format.get(), gzip);
                        }
                      }));
      return;
    }
    Optional<ServedPage> fresh = pages.fresh(project);
    if (fresh.isPresent()) {
      answerPage(request, kind, Outcome.HIT, fresh.get(), format.get(), gzip);
      return;
    }
    Context context = vertx.getOrCreateContext();
    pages
        .project(project)
        .whenComplete(
            (result, error) ->
                context.runOnContext(
                    v -> {
                      if (error != null) {
                        error(request, kind, error);
                      } else if (result.page() == null) {
                        boolean failed = result.outcome() == Answered.ERROR;
                        metrics.request(kind, failed ? Outcome.ERROR : Outcome.NOT_FOUND);
                        request
                            .response()
                            .setStatusCode(failed ? 502 : 404)
                            .end(
                                failed ? "no upstream answered for this project\n" : "not found\n");
                      } else {
                        answerPage(
                            request,
                            kind,
                            outcome(result.outcome()),
                            result.page(),
                            format.get(),
                            gzip);
                      }
                    }));
  }

  private static Outcome outcome(Answered answered) {
    return Outcome.valueOf(answered.name());
  }

  private void answerPage(
      HttpServerRequest request,
      Kind kind,
      Outcome outcome,
      ServedPage page,
      PageFormat format,
      boolean gzip) {
    HttpServerResponse response = request.response();
    String etag = page.etag(format, gzip);
    response
        .putHeader("Vary", VARY)
        .putHeader("ETag", etag)
        .putHeader("Last-Modified", page.lastModified())
        .putHeader("Cache-Control", "max-age=60");
    String ifNoneMatch = request.getHeader("If-None-Match");
    String ifModifiedSince = request.getHeader("If-Modified-Since");
    if (ifNoneMatch != null
        ? ifNoneMatch.contains(etag)
        : page.lastModified().equals(ifModifiedSince)) {
      metrics.request(kind, Outcome.NOT_MODIFIED);
      response.setStatusCode(304).end();
      return;
    }
    metrics.request(kind, outcome);
    byte[] body = page.body(format, gzip);
    response.putHeader(
        "Content-Type", format.contentType() + (format.json() ? "" : "; charset=utf-8"));
    if (gzip) {
      response.putHeader("Content-Encoding", "gzip");
    }
    if (request.method() == HttpMethod.HEAD) {
      response.putHeader("Content-Length", Integer.toString(body.length)).end();
      return;
    }
    metrics.served(kind, body.length);
    response.end(Buffer.buffer(Unpooled.wrappedBuffer(body)));
  }

  static boolean acceptsGzip(String acceptEncoding) {
    if (acceptEncoding == null) {
      return false;
    }
    for (String part : acceptEncoding.split(",")) {
      String[] p = part.split(";");
      if (p[0].strip().equalsIgnoreCase("gzip")) {
        return p.length < 2 || !p[1].strip().replace(" ", "").matches("q=0(\\.0*)?");
      }
    }
    return false;
  }

  private void error(HttpServerRequest request, Kind kind, Throwable error) {
    LOG.warn("{} {}: {}", request.method(), request.path(), UpstreamClient.reason(error));
    metrics.request(kind, Outcome.ERROR);
    if (!request.response().ended()) {
      request.response().setStatusCode(502).end("upstream failed\n");
    }
  }

  // --- files ----------------------------------------------------------------------------------

  private void file(HttpServerRequest request, Route.File route) {
    Kind kind = route.metadata() ? Kind.METADATA : Kind.FILE;
    var distribution = DistributionFile.parse(route.filename());
    if (distribution.isEmpty() || !distribution.get().normalizedProject().equals(route.project())) {
      metrics.request(kind, Outcome.NOT_FOUND);
      request.response().setStatusCode(404).end("not found\n");
      return;
    }
    String stored = route.filename() + (route.metadata() ? Route.METADATA_SUFFIX : "");
    Optional<CachedFile> known = store.known(stored);
    if (known.isPresent()) {
      sendCached(request, kind, Outcome.HIT, known.get());
      return;
    }
    Context context = vertx.getOrCreateContext();
    request.pause();
    CompletableFuture.supplyAsync(() -> store.cached(stored), workers)
        .whenComplete(
            (cached, error) ->
                context.runOnContext(
                    v -> {
                      request.resume();
                      if (error == null && cached.isPresent()) {
                        sendCached(request, kind, Outcome.HIT, cached.get());
                      } else {
                        fetch(request, route, kind, stored, context);
                      }
                    }));
  }

  private void fetch(
      HttpServerRequest request, Route.File route, Kind kind, String stored, Context context) {
    if (offline) {
      metrics.request(kind, Outcome.NOT_FOUND);
      request.response().setStatusCode(404).end("not in the cache (offline)\n");
      return;
    }
    pages
        .project(route.project())
        .whenComplete(
            (result, error) ->
                context.runOnContext(
                    v -> {
                      ServedPage.Source source =
                          error != null || result.page() == null
                              ? null
                              : result.page().source(route.filename());
                      FileLink link = source == null ? null : source.link();
                      if (link == null
                          || source.upstream() < 0
                          || route.metadata() && link.coreMetadata() == null) {
                        metrics.request(kind, Outcome.NOT_FOUND);
                        request.response().setStatusCode(404).end("not found\n");
                        return;
                      }
                      Upstream upstream = upstreams.get(source.upstream());
                      URI url =
                          URI.create(link.url() + (route.metadata() ? Route.METADATA_SUFFIX : ""));
                      String expected =
                          route.metadata() ? link.coreMetadata().get("sha256") : link.sha256();
                      var ticket = fetches.join(stored);
                      if (ticket.leader()) {
                        relay(
                            request,
                            kind,
                            route.project(),
                            stored,
                            upstream,
                            url,
                            expected,
                            context,
                            ticket.result());
                      } else {
                        ticket
                            .result()
                            .whenComplete(
                                (storedOk, failure) ->
                                    context.runOnContext(
                                        w ->
                                            afterOthersFetch(
                                                request, route, kind, stored, context, failure)));
                      }
                    }));
  }

  /** Another request fetched the file: serve it from the cache, or fail as that fetch failed. */
  private void afterOthersFetch(
      HttpServerRequest request,
      Route.File route,
      Kind kind,
      String stored,
      Context context,
      Throwable failure) {
    if (failure != null) {
      metrics.request(kind, Outcome.ERROR);
      request.response().setStatusCode(502).end("upstream failed\n");
      return;
    }
    CompletableFuture.supplyAsync(() -> store.cached(stored), workers)
        .whenComplete(
            (cached, error) ->
                context.runOnContext(
                    v -> {
                      if (error == null && cached.isPresent()) {
                        sendCached(request, kind, Outcome.MISS, cached.get());
                      } else {
                        fetch(request, route, kind, stored, context); // passed through unstored
                      }
                    }));
  }

  private void relay(
      HttpServerRequest request,
      Kind kind,
      String project,
      String stored,
      Upstream upstream,
      URI url,
      String expected,
      Context context,
      CompletableFuture<Boolean> done) {
    HttpServerResponse response = request.response();
    String[] outcome = {Outcome.MISS.name()};
    HttpResponse.BodyHandler<Boolean> handler =
        info -> {
          if (info.statusCode() != 200) {
            return HttpResponse.BodySubscribers.replacing(false);
          }
          long length = info.headers().firstValueAsLong("Content-Length").orElse(-1);
          Optional<FileStore.Writer> writer = store.begin(stored, length);
          if (writer.isEmpty()) {
            outcome[0] = Outcome.PASSTHROUGH.name();
          }
          context.runOnContext(
              v -> {
                response.setStatusCode(200);
                response.putHeader("Content-Type", "application/octet-stream");
                if (expected != null) {
                  response.putHeader("ETag", "\"" + expected + "\"");
                }
                if (length >= 0) {
                  response.putHeader("Content-Length", Long.toString(length));
                } else {
                  response.setChunked(true);
                }
              });
          return new FileRelay(
              context,
              response,
              writer,
              expected,
              n -> metrics.served(kind, n),
              limits.transferStall());
        };
    client
        .file(upstream, url, handler)
        .whenComplete(
            (located, error) -> {
              if (error != null) {
                LOG.warn("{}: {} failed: {}", upstream, stored, UpstreamClient.reason(error));
                done.completeExceptionally(error);
                context.runOnContext(
                    v -> {
                      metrics.request(kind, Outcome.ERROR);
                      if (!response.headWritten() && !response.ended()) {
                        response.setStatusCode(502).end("upstream failed\n");
                      } else if (!response.ended()) {
                        response.reset();
                      }
                    });
                return;
              }
              int status = located.response().statusCode();
              if (status != 200) {
                LOG.warn("{}: {} answered HTTP {}", upstream, stored, status);
                done.completeExceptionally(new java.io.IOException("HTTP " + status));
                context.runOnContext(
                    v -> {
                      metrics.request(kind, Outcome.ERROR);
                      response.setStatusCode(502).end("upstream answered HTTP " + status + "\n");
                    });
                return;
              }
              metrics.request(kind, Outcome.valueOf(outcome[0]));
              boolean storedNow = located.response().body();
              if (storedNow && expected == null && kind == Kind.FILE) {
                workers.execute(() -> pages.learnedHash(project));
              }
              done.complete(storedNow);
            });
  }

  private void sendCached(HttpServerRequest request, Kind kind, Outcome outcome, CachedFile file) {
    HttpServerResponse response = request.response();
    if (store.hold(file.name())) {
      workers.execute(() -> store.touch(file.name()));
    }
    response
        .putHeader("Content-Type", "application/octet-stream")
        .putHeader("Accept-Ranges", "bytes")
        .putHeader("Cache-Control", "max-age=31536000, immutable");
    long offset = 0;
    long length = file.size();
    String range = request.getHeader("Range");
    if (range != null) {
      Matcher m = RANGE.matcher(range.strip());
      if (m.matches() && !(m.group(1).isEmpty() && m.group(2).isEmpty())) {
        long start;
        long end;
        if (m.group(1).isEmpty()) {
          long suffix = rangeNumber(m.group(2));
          start = Math.max(0, file.size() - suffix);
          end = file.size() - 1;
        } else {
          start = rangeNumber(m.group(1));
          end =
              m.group(2).isEmpty()
                  ? file.size() - 1
                  : Math.min(rangeNumber(m.group(2)), file.size() - 1);
        }
        if (start >= file.size() || end < start) {
          store.release(file.name());
          metrics.request(kind, Outcome.ERROR);
          response.setStatusCode(416).putHeader("Content-Range", "bytes */" + file.size()).end();
          return;
        }
        offset = start;
        length = end - start + 1;
        response
            .setStatusCode(206)
            .putHeader("Content-Range", "bytes " + start + "-" + end + "/" + file.size());
      }
    }
    metrics.request(kind, outcome);
    if (request.method() == HttpMethod.HEAD) {
      store.release(file.name());
      response.putHeader("Content-Length", Long.toString(length)).end();
      return;
    }
    long sent = length;
    response
        .sendFile(file.path().toString(), offset, length)
        .onComplete(
            ar -> {
              store.release(file.name());
              if (ar.succeeded()) {
                metrics.served(kind, sent);
              } else {
                store.forget(file.name()); // gone from under the proxy: looked for again next time
              }
            });
  }

  /**
   * A Range position (digits only): one past any file's size when it overflows, so a huge number
   * means "to the end" or "not satisfiable" as RFC 9110 says, never an exception on the loop.
   */
  static long rangeNumber(String digits) {
    try {
      return Long.parseLong(digits);
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE;
    }
  }

  @Override
  public void close() throws Exception {
    if (server != null) {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }
}
