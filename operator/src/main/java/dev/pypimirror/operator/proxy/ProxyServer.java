package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.cache.DistributionFile;
import dev.pypimirror.operator.proxy.FileStore.CachedFile;
import dev.pypimirror.operator.proxy.PageCache.Answered;
import dev.pypimirror.operator.proxy.ProxyMetrics.Kind;
import dev.pypimirror.operator.proxy.ProxyMetrics.Outcome;
import dev.pypimirror.operator.serving.ClientLeft;
import dev.pypimirror.operator.serving.HttpServing;
import dev.pypimirror.operator.serving.LogThrottle;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.simple.FileHash;
import dev.pypimirror.operator.simple.FileLink;
import dev.pypimirror.operator.simple.PageFormat;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the proxy answers (served through {@link HttpServing}, which answers {@code /-/healthz},
 * {@code /-/readyz} and {@code /-/metrics} itself): the Simple Repository API under {@code
 * /simple/}, the files its pages link to under {@code /files/<project>/<file>} and {@code
 * /-/status}; every other path is 404. Nothing blocks an event loop: a fresh page is answered from
 * memory, everything touching the disk or an upstream runs on the workers or the HTTP client's
 * threads, and files are sent from disk by the kernel ({@code sendFile}); only a file being fetched
 * is read back on the loop, 64 KiB at a time of bytes written in its last 8 MiB (from the page
 * cache: {@link TailReader}).
 */
public final class ProxyServer {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");
  private static final String VARY = "Accept, Accept-Encoding";

  private final PageCache pages;
  private final FileStore store;
  private final UpstreamClient client;
  private final List<Upstream> upstreams;
  private final boolean offline;
  private final ProxyMetrics metrics;
  private final Executor workers;
  private final HttpServing serving;
  private final ProxySettings.Limits limits;
  private final SingleFlight<String, Boolean> fetches = new SingleFlight<>();
  private final ClientLimit clients;
  private final LogThrottle sendErrorLog =
      new LogThrottle(Duration.ofMinutes(1), 1024, System::nanoTime);
  private final LogThrottle clientLimitLog =
      new LogThrottle(Defaults.PROXY_CLIENT_LIMIT_LOG.defaultValue(), 1024, System::nanoTime);

  ProxyServer(
      PageCache pages,
      FileStore store,
      UpstreamClient client,
      List<Upstream> upstreams,
      boolean offline,
      ProxyMetrics metrics,
      Executor workers,
      HttpServing serving,
      ProxySettings.Limits limits) {
    this.limits = limits;
    this.clients = new ClientLimit(limits.maxPerClient());
    this.pages = pages;
    this.store = store;
    this.client = client;
    this.upstreams = upstreams;
    this.offline = offline;
    this.metrics = metrics;
    this.workers = workers;
    this.serving = serving;
  }

  /** Answers one request (on its event loop). */
  void handle(HttpServerRequest request) {
    HttpServerResponse response = request.response();
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
      response.setStatusCode(405).putHeader("Allow", "GET, HEAD").end();
      return;
    }
    Route route = Route.of(request.path());
    if (!(route instanceof Route.Status) && !admitted(request, route)) {
      return;
    }
    if (serving.draining()) {
      response.putHeader("Connection", "close"); // the next request goes to a pod not stopping
    }
    if (route instanceof Route.Status) {
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
   * Counts the request against its client's bound and the bound on all (released when its answer
   * ends or its connection goes); when either is reached, answers 429 or 503 and returns false. The
   * client is the connection's source address: a header is whatever the client writes.
   */
  private boolean admitted(HttpServerRequest request, Route route) {
    HttpServerResponse response = request.response();
    String client = clientAddress(request);
    Optional<Runnable> counted = clients.acquire(client);
    if (counted.isEmpty()) {
      metrics.request(kindOf(route), Outcome.CLIENT_LIMIT);
      if (clientLimitLog.mayLog(client)) {
        LOG.warn(
            "client {} has {} requests under way (--max-per-client): more are answered 429"
                + " (logged at most once per client every {})",
            client,
            limits.maxPerClient(),
            Defaults.PROXY_CLIENT_LIMIT_LOG.text());
      }
      response
          .setStatusCode(429)
          .putHeader("Retry-After", "1")
          .end("too many requests at once from this client\n");
      return false;
    }
    if (!serving.admit(response, counted.get())) {
      counted.get().run();
      metrics.request(kindOf(route), Outcome.BUSY);
      response.setStatusCode(503).putHeader("Retry-After", "1").end("too many requests at once\n");
      return false;
    }
    return true;
  }

  private static String clientAddress(HttpServerRequest request) {
    SocketAddress remote = request.remoteAddress();
    String host = remote == null ? null : remote.hostAddress();
    return host == null ? "unknown" : host; // no address (not TCP): one bucket for all such
  }

  private static Kind kindOf(Route route) {
    if (route instanceof Route.Root) {
      return Kind.ROOT;
    } else if (route instanceof Route.Project || route instanceof Route.Redirect) {
      return Kind.PAGE;
    } else if (route instanceof Route.File f) {
      return f.metadata() ? Kind.METADATA : Kind.FILE;
    }
    return Kind.OTHER;
  }

  /** Client addresses with requests in flight now. */
  int clientAddresses() {
    return clients.clients();
  }

  /** Runs {@code then} on the request's context once {@code work} is done; a failure is a 502. */
  private <T> void whenDone(
      CompletableFuture<T> work, HttpServerRequest request, Kind kind, Consumer<T> then) {
    Context context = Vertx.currentContext();
    work.whenComplete(
        (result, error) ->
            context.runOnContext(
                v -> {
                  if (error != null) {
                    error(request, kind, error);
                  } else {
                    then.accept(result);
                  }
                }));
  }

  // --- pages ----------------------------------------------------------------------------------

  /** A page as a client asked for it: which kind, in which format, compressed or not. */
  private record Wanted(Kind kind, PageFormat format, boolean gzip) {}

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
    Wanted wanted =
        new Wanted(kind, format.get(), acceptsGzip(request.getHeader("Accept-Encoding")));
    if (project == null) {
      whenDone(pages.root(), request, kind, page -> answerPage(request, wanted, Outcome.HIT, page));
      return;
    }
    Optional<ServedPage> fresh = pages.fresh(project);
    if (fresh.isPresent()) {
      answerPage(request, wanted, Outcome.HIT, fresh.get());
    } else {
      whenDone(
          pages.project(project, clientAddress(request)),
          request,
          kind,
          result -> answer(request, wanted, result));
    }
  }

  private void answer(HttpServerRequest request, Wanted wanted, PageCache.Result result) {
    if (result.page() != null) {
      answerPage(request, wanted, Outcome.valueOf(result.outcome().name()), result.page());
      return;
    }
    boolean failed = result.outcome() == Answered.ERROR;
    metrics.request(wanted.kind(), failed ? Outcome.ERROR : Outcome.NOT_FOUND);
    request
        .response()
        .setStatusCode(failed ? 502 : 404)
        .end(failed ? "no upstream answered for this project\n" : "not found\n");
  }

  private void answerPage(
      HttpServerRequest request, Wanted wanted, Outcome outcome, ServedPage page) {
    HttpServerResponse response = request.response();
    String etag = page.etag(wanted.format(), wanted.gzip());
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
      metrics.request(wanted.kind(), Outcome.NOT_MODIFIED);
      response.setStatusCode(304).end();
      return;
    }
    metrics.request(wanted.kind(), outcome);
    byte[] body = page.body(wanted.format(), wanted.gzip());
    response.putHeader(
        "Content-Type",
        wanted.format().contentType() + (wanted.format().json() ? "" : "; charset=utf-8"));
    if (wanted.gzip()) {
      response.putHeader("Content-Encoding", "gzip");
    }
    if (request.method() == HttpMethod.HEAD) {
      response.putHeader("Content-Length", Integer.toString(body.length)).end();
      return;
    }
    metrics.served(wanted.kind(), body.length);
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

  /** A file a client asked for: its route, its name in the cache, and the request's context. */
  private record FileRequest(
      HttpServerRequest request, Route.File route, Kind kind, String stored, Context context) {}

  /**
   * Where a page says a file is fetched, and the hash its bytes must have (null: none the proxy can
   * check).
   */
  private record Origin(Upstream upstream, URI url, FileHash expected) {
    /** The sha256 the bytes must have, when that is the hash the page gives (else null). */
    String expectedSha256() {
      return expected != null && expected.algorithm().equals("sha256") ? expected.hex() : null;
    }
  }

  private void file(HttpServerRequest request, Route.File route) {
    Kind kind = route.metadata() ? Kind.METADATA : Kind.FILE;
    var distribution = DistributionFile.parse(route.filename());
    if (distribution.isEmpty() || !distribution.get().normalizedProject().equals(route.project())) {
      notFound(request, kind, "not found\n");
      return;
    }
    String stored = route.filename() + (route.metadata() ? Route.METADATA_SUFFIX : "");
    Optional<FileStore.Held> held = store.holdAgain(stored); // being served already
    if (held.isPresent()) {
      sendIfListed(request, route, kind, Outcome.HIT, held.get());
      return;
    }
    FileRequest asked = new FileRequest(request, route, kind, stored, Vertx.currentContext());
    request.pause(); // resumed once the cache was looked at
    fromCache(asked, Outcome.HIT, () -> fetch(asked));
  }

  /**
   * Sends the file from the cache when it is there, held against eviction (looked for and held off
   * the loop), else {@code miss}.
   */
  private void fromCache(FileRequest asked, Outcome outcome, Runnable miss) {
    CompletableFuture.supplyAsync(() -> store.hold(asked.stored()), workers)
        .whenComplete(
            (cached, error) ->
                asked
                    .context()
                    .runOnContext(
                        v -> {
                          asked.request().resume();
                          if (error == null && cached.isPresent()) {
                            sendIfListed(
                                asked.request(),
                                asked.route(),
                                asked.kind(),
                                outcome,
                                cached.get());
                          } else if (error != null
                              && UpstreamClient.cause(error) instanceof FileStore.CannotHold) {
                            cannotHold(asked);
                          } else {
                            miss.run();
                          }
                        }));
  }

  /**
   * A cached file whose hold against other replicas' eviction could not be taken (a lock error,
   * logged by the store): not sent, since it could be deleted mid-send, and not fetched again,
   * since the error is this replica's own and most often brief (too many open files), while a fetch
   * would send every request for cached files upstream meanwhile and fail offline or with the
   * upstream down. 503 with Retry-After, which pip and uv retry.
   */
  private void cannotHold(FileRequest asked) {
    metrics.request(asked.kind(), Outcome.ERROR);
    asked
        .request()
        .response()
        .setStatusCode(503)
        .putHeader("Content-Type", "text/plain")
        .putHeader("Retry-After", "1")
        .end("the cached file cannot be locked now; ask again\n");
  }

  private void fetch(FileRequest asked) {
    if (offline) {
      notFound(asked.request(), asked.kind(), "not in the cache (offline)\n");
      return;
    }
    pages
        .project(asked.route().project(), clientAddress(asked.request()))
        .whenComplete(
            (result, error) ->
                asked
                    .context()
                    .runOnContext(
                        v ->
                            fetchFrom(
                                asked,
                                error == null ? origin(asked.route(), result) : Optional.empty())));
  }

  /** Where the project's page says the file (or its core metadata) is; empty when it does not. */
  private Optional<Origin> origin(Route.File route, PageCache.Result result) {
    ServedPage.Source source =
        result.page() == null ? null : result.page().source(route.filename());
    FileLink link = source == null ? null : source.link();
    if (link == null || source.upstream() < 0 || route.metadata() && link.coreMetadata() == null) {
      return Optional.empty();
    }
    return Optional.of(
        new Origin(
            upstreams.get(source.upstream()),
            URI.create(link.url() + (route.metadata() ? Route.METADATA_SUFFIX : "")),
            listedHash(route, link)));
  }

  /**
   * The hash a page's link gives for what the route asks (the file, or its core metadata) that the
   * proxy checks: {@link FileHash#expected}; null when it gives none of those.
   */
  private static FileHash listedHash(Route.File route, FileLink link) {
    return FileHash.expected(route.metadata() ? link.coreMetadata() : link.hashes()).orElse(null);
  }

  /**
   * A file's fetch under way, shared by the requests for it meanwhile (single flight): completes
   * with whether the file is now in the cache; {@link #started} once the upstream answered, with
   * the file as it is written when it is being stored. {@link #origin} is where its leader's page
   * said the file is and which hash it has: a request whose page says otherwise (it was refreshed
   * in between) does not take these bytes for its own.
   */
  private static final class Fetch extends CompletableFuture<Boolean> {
    final CompletableFuture<Optional<GrowingFile>> started = new CompletableFuture<>();
    final Origin origin;
    final String client; // whose share of the upstream connections it counts against

    Fetch(Origin origin, String client) {
      this.origin = origin;
      this.client = client;
    }
  }

  /**
   * Fetches the file, or joins the request already fetching it (single flight): reads the file as
   * that one writes it, or waits for its end.
   */
  private void fetchFrom(FileRequest asked, Optional<Origin> origin) {
    if (origin.isEmpty()) {
      notFound(asked.request(), asked.kind(), "not found\n");
      return;
    }
    if (asked.request().method() == HttpMethod.HEAD) {
      headOnly(asked, origin.get());
      return;
    }
    var ticket =
        fetches.join(asked.stored(), () -> new Fetch(origin.get(), clientAddress(asked.request())));
    Fetch fetch = (Fetch) ticket.result();
    if (ticket.leader()) {
      fetch.whenComplete((storedOk, failure) -> fetch.started.complete(Optional.empty()));
      relay(asked, origin.get(), fetch);
    } else if (!fetch.origin.equals(origin.get())) {
      // another file under that name (another hash or URL): once that fetch is over, the cache
      // decides whether what it stored answers for this page, else this request fetches its own
      fetch.whenComplete(
          (storedOk, failure) ->
              asked
                  .context()
                  .runOnContext(w -> fromCache(asked, Outcome.MISS, () -> fetch(asked))));
    } else {
      fetch.started.whenComplete(
          (growing, failure) ->
              asked
                  .context()
                  .runOnContext(
                      w ->
                          joinFetch(
                              asked,
                              origin.get(),
                              fetch,
                              failure == null ? growing : Optional.empty())));
    }
  }

  /**
   * A request for a file another request is fetching: it reads the file as it is written (the same
   * head as the leader's, then the bytes from the start), or, when the file is not being stored,
   * can no longer be read or is already whole and checked (the cache then sends it, by the kernel),
   * or has no length for a client that would take a close for its end, waits for the fetch's end.
   */
  private void joinFetch(
      FileRequest asked, Origin origin, Fetch fetch, Optional<GrowingFile> growing) {
    if (growing.isPresent()
        && growing.get().end() != GrowingFile.End.VERIFIED
        && !closeEndsBody(asked.request(), growing.get().length())) {
      HttpServerResponse response = asked.request().response();
      boolean reading =
          TailReader.serve(
              asked.context(),
              asked.request(),
              growing.get(),
              0,
              limits.transferStall(),
              n -> metrics.served(asked.kind(), n),
              () -> fileHead(response, origin.expectedSha256(), growing.get().length()),
              ended ->
                  metrics.request(
                      asked.kind(),
                      ended == TailReader.Ended.RESET ? Outcome.ERROR : Outcome.MISS));
      if (reading) {
        return;
      }
    }
    fetch.whenComplete(
        (storedOk, failure) ->
            asked.context().runOnContext(w -> afterOthersFetch(asked, fetch, failure)));
  }

  /**
   * HEAD of a file not in the cache: the upstream's HEAD (its length), never the file itself;
   * nothing is stored.
   */
  private void headOnly(FileRequest asked, Origin origin) {
    client
        .head(origin.upstream(), origin.url(), clientAddress(asked.request()))
        .whenComplete(
            (located, error) -> {
              if (error != null) {
                relayFailed(asked, origin, error, new CompletableFuture<>(), true);
              } else if (located.response().statusCode() != 200) {
                relayRefused(
                    asked, origin, located.response().statusCode(), new CompletableFuture<>());
              } else {
                long length =
                    located.response().headers().firstValueAsLong("Content-Length").orElse(-1);
                asked
                    .context()
                    .runOnContext(
                        v -> {
                          metrics.request(asked.kind(), Outcome.MISS);
                          HttpServerResponse response = asked.request().response();
                          fileHeaders(response, origin.expectedSha256());
                          if (length >= 0) {
                            response.putHeader("Content-Length", Long.toString(length));
                          } // else no length and no framing: RFC 9110 gives one only when known
                          response.end();
                        });
              }
            });
  }

  /**
   * Another request fetched the file: serve it from the cache, fetch it again when that request's
   * client left before it was stored or its client's share of the upstream connections stayed taken
   * (this client has its own), or fail as that fetch failed.
   */
  private void afterOthersFetch(FileRequest asked, Fetch fetch, Throwable failure) {
    Throwable cause = failure == null ? null : UpstreamClient.cause(failure);
    if (cause instanceof FileRelay.ClientGone
        || cause instanceof UpstreamClient.UpstreamBusy busy
            && busy.clientShare()
            && !fetch.client.equals(clientAddress(asked.request()))) {
      fetch(asked); // another client's reason, not this one's: it fetches the file itself
      return;
    }
    if (failure != null) {
      answerFailed(asked, failure);
      return;
    }
    fromCache(asked, Outcome.MISS, () -> fetch(asked)); // passed through unstored: again
  }

  /**
   * Streams the file from upstream to the client while it is stored; or, for a client that would
   * take a close for the file's end ({@link #closeEndsBody}), sends it from the cache once stored.
   */
  private void relay(FileRequest asked, Origin origin, Fetch done) {
    AtomicReference<Outcome> outcome = new AtomicReference<>(Outcome.MISS);
    AtomicBoolean atEnd = new AtomicBoolean();
    client
        .file(
            origin.upstream(),
            origin.url(),
            clientAddress(asked.request()),
            head -> relayBody(asked, origin, head, outcome, atEnd, done.started))
        .whenComplete(
            (located, error) -> {
              if (error != null) {
                relayFailed(asked, origin, error, done, atEnd.get());
              } else if (located.response().statusCode() != 200) {
                relayRefused(asked, origin, located.response().statusCode(), done);
              } else if (atEnd.get()) {
                relayed(asked, origin, located.response().body(), done);
                asked
                    .context()
                    .runOnContext(v -> fromCache(asked, Outcome.MISS, () -> notStored(asked)));
              } else {
                metrics.request(asked.kind(), outcome.get());
                relayed(asked, origin, located.response().body(), done);
              }
            });
  }

  /**
   * Whether a body without a length would end, for this client, where the connection closes:
   * HTTP/1.0 has no chunked coding (Vert.x then sends the body until it closes), so such a client
   * takes any close, a cut transfer's too, for the end of the file.
   */
  private static boolean closeEndsBody(HttpServerRequest request, long length) {
    return length < 0 && request.version() == HttpVersion.HTTP_1_0;
  }

  /** A client answered from the cache at the fetch's end, whose file is not there: 502. */
  private void notStored(FileRequest asked) {
    metrics.request(asked.kind(), Outcome.ERROR);
    asked.request().response().setStatusCode(502).end("the file could not be stored; ask again\n");
  }

  /**
   * What takes an upstream's 200 body: a {@link FileRelay} to the client and into the cache (past
   * it, when the cache has no room), the file as it is written handed to {@code started} for the
   * requests that join; any other answer's body is dropped.
   */
  private HttpResponse.BodySubscriber<Boolean> relayBody(
      FileRequest asked,
      Origin origin,
      HttpResponse.ResponseInfo head,
      AtomicReference<Outcome> outcome,
      AtomicBoolean atEnd,
      CompletableFuture<Optional<GrowingFile>> started) {
    if (head.statusCode() != 200) {
      return HttpResponse.BodySubscribers.replacing(false);
    }
    long length = head.headers().firstValueAsLong("Content-Length").orElse(-1);
    Optional<FileStore.Writer> writer =
        store.begin(asked.stored(), length).map(w -> w.from(origin.upstream().url().toString()));
    if (writer.isEmpty()) {
      outcome.set(Outcome.PASSTHROUGH);
    }
    GrowingFile growing =
        writer.flatMap(w -> readable(w, length, asked.stored(), workers)).orElse(null);
    // unstored, it passes through even so: a failed transfer then resets the connection
    atEnd.set(writer.isPresent() && closeEndsBody(asked.request(), length));
    if (!atEnd.get()) {
      HttpServerResponse response = asked.request().response();
      asked.context().runOnContext(v -> fileHead(response, origin.expectedSha256(), length));
    }
    FileRelay relay =
        new FileRelay(
            asked.context(),
            asked.request(),
            writer,
            growing,
            origin.expected(),
            n -> metrics.served(asked.kind(), n),
            limits.transferStall(),
            atEnd.get());
    started.complete(Optional.ofNullable(growing));
    return relay;
  }

  /**
   * The file {@code writer} writes, opened for the requests that join; empty when it cannot be
   * opened (they then wait for the fetch's end, as for a file not stored).
   */
  private static Optional<GrowingFile> readable(
      FileStore.Writer writer, long length, String name, Executor closing) {
    try {
      return Optional.of(GrowingFile.open(writer.temporary(), length, closing));
    } catch (IOException e) {
      LOG.warn("cannot read {} back while it is written: {}", name, e.toString());
      return Optional.empty();
    }
  }

  /** A file's status and headers but its length, for GET and HEAD alike. */
  private static void fileHeaders(HttpServerResponse response, String sha256) {
    response.setStatusCode(200);
    response.putHeader("Content-Type", "application/octet-stream");
    if (sha256 != null) {
      response.putHeader("ETag", "\"" + sha256 + "\"");
    }
  }

  private static void fileHead(HttpServerResponse response, String sha256, long length) {
    fileHeaders(response, sha256);
    if (length >= 0) {
      response.putHeader("Content-Length", Long.toString(length));
    } else {
      response.setChunked(true);
    }
  }

  /**
   * @param nothingSent the relay sent the client nothing (it was to be answered at the end), so its
   *     cut did not reset the client either
   */
  private void relayFailed(
      FileRequest asked,
      Origin origin,
      Throwable error,
      CompletableFuture<Boolean> done,
      boolean nothingSent) {
    LOG.warn("{}: {} failed: {}", origin.upstream(), asked.stored(), UpstreamClient.reason(error));
    done.completeExceptionally(error);
    asked
        .context()
        .runOnContext(
            v -> {
              HttpServerResponse response = asked.request().response();
              if (!response.headWritten()
                  && !response.ended()
                  && (nothingSent || !FileRelay.cutByRelay(error))) {
                answerFailed(asked, error);
              } else {
                metrics.request(asked.kind(), Outcome.ERROR);
                if (!response.ended()) {
                  response.reset();
                }
              }
            });
  }

  /**
   * A file fetch that failed before any byte went out: 503 with {@code Retry-After} when every
   * upstream connection stayed busy (the proxy's own bound, over in a moment: pip and uv retry a
   * 503, not a 502), else 502.
   */
  private void answerFailed(FileRequest asked, Throwable error) {
    HttpServerResponse response = asked.request().response();
    if (UpstreamClient.cause(error) instanceof UpstreamClient.UpstreamBusy) {
      metrics.request(asked.kind(), Outcome.BUSY);
      response.setStatusCode(503).putHeader("Retry-After", "1").end("upstream connections busy\n");
    } else {
      metrics.request(asked.kind(), Outcome.ERROR);
      response.setStatusCode(502).end("upstream failed\n");
    }
  }

  private void relayRefused(
      FileRequest asked, Origin origin, int status, CompletableFuture<Boolean> done) {
    LOG.warn("{}: {} answered HTTP {}", origin.upstream(), asked.stored(), status);
    done.completeExceptionally(new IOException("HTTP " + status));
    asked
        .context()
        .runOnContext(
            v -> {
              metrics.request(asked.kind(), Outcome.ERROR);
              asked
                  .request()
                  .response()
                  .setStatusCode(502)
                  .end("upstream answered HTTP " + status + "\n");
            });
  }

  private void relayed(
      FileRequest asked, Origin origin, boolean storedNow, CompletableFuture<Boolean> done) {
    if (storedNow && origin.expectedSha256() == null && asked.kind() == Kind.FILE) {
      // the page gave no sha256: it gives the computed one from now on
      workers.execute(() -> pages.learnedHash(asked.route().project()));
    }
    done.complete(storedNow);
  }

  private void notFound(HttpServerRequest request, Kind kind, String message) {
    metrics.request(kind, Outcome.NOT_FOUND);
    request.response().setStatusCode(404).end(message);
  }

  /** Whether a cached file may answer for the page the proxy holds now. */
  enum Listed {
    /** The page lists it and nothing says it is another file (or no page is held). */
    YES,
    /** The page held now does not list that file name. */
    NOT_LISTED,
    /** The page lists the name for other bytes: another sha256, or another upstream's file. */
    ANOTHER_FILE
  }

  /**
   * The cache holds one file per name, whatever upstream it came from: a cached file answers only
   * for the page held now, when that page lists its name, and is the file of that name the page
   * lists ({@link CachedFile#answers}: the same hash, or the same upstream when the hash cannot be
   * compared). No page in memory: the file answers (pip asks for the page first, which puts it
   * there).
   */
  static Listed listed(
      Optional<ServedPage> page, Route.File route, CachedFile file, List<Upstream> upstreams) {
    if (page.isEmpty()) {
      return Listed.YES;
    }
    ServedPage.Source source = page.get().source(route.filename());
    if (source == null || source.link() == null) {
      return Listed.NOT_LISTED;
    }
    String from = source.upstream() < 0 ? null : upstreams.get(source.upstream()).url().toString();
    return file.answers(listedHash(route, source.link()), from) ? Listed.YES : Listed.ANOTHER_FILE;
  }

  private void sendIfListed(
      HttpServerRequest request,
      Route.File route,
      Kind kind,
      Outcome outcome,
      FileStore.Held held) {
    CachedFile file = held.file();
    switch (listed(pages.held(route.project()), route, file, upstreams)) {
      case YES -> sendCached(request, kind, outcome, held);
      case NOT_LISTED -> {
        release(held);
        notFound(request, kind, "not on the project's page\n");
      }
      case ANOTHER_FILE -> {
        release(held);
        LOG.warn(
            "{}: the cached file is not the one the project's page lists now (another hash or"
                + " another upstream's): not served; delete it from the cache to fetch the listed"
                + " one",
            file.name());
        metrics.request(kind, Outcome.ERROR);
        request
            .response()
            .setStatusCode(502)
            .end("the cached file is not the one the project's page lists now\n");
      }
    }
  }

  /**
   * Lets a served file go, on the loop: no I/O (the volume lock is given up later, off the loop,
   * once the file's kept lease lapses: {@link VolumeHolds#LINGER}).
   */
  private static void release(FileStore.Held held) {
    held.release();
  }

  private void sendCached(
      HttpServerRequest request, Kind kind, Outcome outcome, FileStore.Held held) {
    CachedFile file = held.file();
    HttpServerResponse response = request.response();
    if (held.touchDue()) {
      workers.execute(() -> store.touch(file.name()));
    }
    response
        .putHeader("Content-Type", "application/octet-stream")
        .putHeader("Accept-Ranges", "bytes")
        .putHeader("Cache-Control", "max-age=31536000, immutable");
    Optional<Span> span = span(request.getHeader("Range"), file.size());
    if (span.isEmpty()) {
      release(held);
      metrics.request(kind, Outcome.ERROR);
      response.setStatusCode(416).putHeader("Content-Range", "bytes */" + file.size()).end();
      return;
    }
    Span part = span.get();
    if (part.partial()) {
      response.setStatusCode(206).putHeader("Content-Range", part.contentRange(file.size()));
    }
    metrics.request(kind, outcome);
    if (request.method() == HttpMethod.HEAD) {
      release(held);
      response.putHeader("Content-Length", Long.toString(part.length())).end();
      return;
    }
    Runnable uncork = Cork.hold(request.connection()); // the head goes with the file's start
    Future<Void> sent;
    try {
      sent = response.sendFile(file.path().toString(), part.offset(), part.length());
    } catch (RuntimeException e) { // not sent at all: the connection's next answer is not held
      uncork.run();
      release(held);
      throw e;
    }
    sent.onComplete(
        ar -> {
          uncork.run();
          release(held);
          if (ar.succeeded()) {
            metrics.served(kind, part.length());
          } else {
            sendFailed(response, file, ar.cause());
          }
        });
  }

  /** The bytes of a file a request asks for: all of it, or the one range it names. */
  record Span(long offset, long length, boolean partial) {
    String contentRange(long size) {
      return "bytes " + offset + "-" + (offset + length - 1) + "/" + size;
    }
  }

  /**
   * What a {@code Range} header asks of a file of {@code size} bytes: the whole file when there is
   * none or it is not one plain byte range; empty when it cannot be satisfied (416).
   */
  static Optional<Span> span(String range, long size) {
    Matcher m = range == null ? null : RANGE.matcher(range.strip());
    if (m == null || !m.matches() || m.group(1).isEmpty() && m.group(2).isEmpty()) {
      return Optional.of(new Span(0, size, false));
    }
    long start;
    long end;
    if (m.group(1).isEmpty()) {
      start = Math.max(0, size - rangeNumber(m.group(2)));
      end = size - 1;
    } else {
      start = rangeNumber(m.group(1));
      end = m.group(2).isEmpty() ? size - 1 : Math.min(rangeNumber(m.group(2)), size - 1);
    }
    return start >= size || end < start
        ? Optional.empty()
        : Optional.of(new Span(start, end - start + 1, true));
  }

  /**
   * A cached file's send that failed: the file is looked for again next time, and the client is not
   * left waiting.
   */
  private void sendFailed(HttpServerResponse response, CachedFile file, Throwable error) {
    if (!ClientLeft.is(error) && sendErrorLog.mayLog(file.name())) {
      LOG.warn(
          "{}: sending the cached file failed: {} (logged at most once a minute per file)",
          file.name(),
          error.toString());
    }
    store.forget(file.name()); // gone from under the proxy
    if (response.closed() || response.ended()) {
      return;
    }
    if (!response.headWritten()) { // the file did not open: asking again fetches it
      response
          .setStatusCode(503)
          .putHeader("Content-Type", "text/plain")
          .putHeader("Retry-After", "1")
          .end("the cached file is gone; ask again\n");
    } else {
      response.reset(); // cut mid-file: the client must not wait for the rest
    }
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
}
