package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.simple.LinkTargets;
import dev.pypimirror.operator.simple.ProjectPage;
import dev.pypimirror.operator.simple.SimpleHtml;
import dev.pypimirror.operator.simple.SimpleJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Talks to the upstreams, asynchronously (the JDK's HTTP client on its own threads): project pages
 * with conditional requests and a size limit, files as a stream. Time-outs: {@link #CONNECT} to
 * connect and {@link #FIRST_BYTE} until the response's head; a page's body within {@link
 * #PAGE_BODY}. Redirects are followed here, at most {@value #MAX_REDIRECTS}, only to a URL the
 * upstream may be fetched at, and credentials go only to the upstream's own origin. At most {@code
 * maxConnections} requests are out at once (a file's until its body ends), and at most {@code
 * perClient} of them for one client address (the client whose request needs the upstream); the
 * others wait in turn, a client's beyond its share in its own line first, in all at most {@code
 * wait}, then fail as "upstream busy".
 */
public final class UpstreamClient {
  static final Duration CONNECT = Duration.ofSeconds(5);
  static final Duration FIRST_BYTE = Duration.ofSeconds(5);
  static final Duration PAGE_BODY = Duration.ofSeconds(30);
  static final int MAX_REDIRECTS = 5;

  /** The largest page read from an upstream (PyPI's largest pages are a few MiB). */
  static final int MAX_PAGE_BYTES = 32 << 20;

  /** What pip asks for: PEP 691 JSON first. */
  static final String ACCEPT =
      "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2,"
          + " text/html;q=0.01";

  /** What an upstream said about a project page. */
  public sealed interface PageAnswer {
    record Found(ProjectPage page, String etag, String lastModified) implements PageAnswer {}

    record NotModified() implements PageAnswer {}

    record Missing() implements PageAnswer {}

    record Failed(String reason) implements PageAnswer {}
  }

  private final HttpClient http;
  private final String userAgent;
  private final Permits connections;
  private final UpstreamShares shares;
  private final Duration wait;
  private final Duration pageDeadline;

  public UpstreamClient(
      Executor executor, String userAgent, int maxConnections, int perClient, Duration wait) {
    this(executor, userAgent, maxConnections, perClient, wait, PAGE_BODY);
  }

  /** As above, a page answered whole within {@code pageDeadline} instead of {@link #PAGE_BODY}. */
  UpstreamClient(
      Executor executor,
      String userAgent,
      int maxConnections,
      int perClient,
      Duration wait,
      Duration pageDeadline) {
    this.connections = new Permits(maxConnections);
    this.shares = new UpstreamShares(perClient);
    this.wait = wait;
    this.pageDeadline = pageDeadline;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(CONNECT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(executor)
            .build();
    this.userAgent = userAgent;
  }

  /**
   * Asks {@code upstream} for {@code project}'s page, conditionally when validators are given, for
   * {@code client} (its address; null: no client's share).
   */
  public CompletableFuture<PageAnswer> page(
      Upstream upstream, String project, String etag, String lastModified, String client) {
    URI url = upstream.url().resolve(SimpleHtml.encodePath(project) + "/");
    Exchange exchange = new Exchange();
    return send(
            upstream,
            url,
            builder -> {
              builder.header("Accept", ACCEPT);
              if (etag != null) {
                builder.header("If-None-Match", etag);
              }
              if (lastModified != null) {
                builder.header("If-Modified-Since", lastModified);
              }
              return builder;
            },
            info -> info.statusCode() == 200 ? bounded(MAX_PAGE_BYTES) : discard(),
            client,
            0,
            exchange)
        .orTimeout(pageDeadline.toMillis(), TimeUnit.MILLISECONDS)
        .handle(
            (response, error) -> {
              if (error != null) {
                exchange.cancel(); // a trickling upstream keeps neither its connection nor permit
                return new PageAnswer.Failed(reason(error));
              }
              return answer(project, response);
            });
  }

  private static PageAnswer answer(String project, Located<byte[]> located) {
    HttpResponse<byte[]> response = located.response();
    int status = response.statusCode();
    if (status == 304) {
      return new PageAnswer.NotModified();
    }
    if (status == 404 || status == 410) {
      return new PageAnswer.Missing();
    }
    if (status != 200) {
      return new PageAnswer.Failed("HTTP " + status);
    }
    if (response.body() == null) {
      return new PageAnswer.Failed("a page larger than " + MAX_PAGE_BYTES + " bytes");
    }
    String type = response.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
    try {
      ProjectPage page =
          type.startsWith(SimpleJson.CONTENT_TYPE)
              ? SimpleJson.parse(project, response.body(), located.url())
              : SimpleHtml.parse(
                  project, new String(response.body(), StandardCharsets.UTF_8), located.url());
      return new PageAnswer.Found(
          page,
          response.headers().firstValue("ETag").orElse(null),
          response.headers().firstValue("Last-Modified").orElse(null));
    } catch (IOException | RuntimeException e) {
      return new PageAnswer.Failed(
          "a page that does not parse (" + e.getClass().getSimpleName() + ")");
    }
  }

  /** A response and the URL it came from after redirects. */
  public record Located<T>(URI url, HttpResponse<T> response) {}

  /**
   * GETs {@code url}, which {@code upstream}'s page listed, for {@code client}, with the body going
   * to what {@code body} gives for the response's head.
   */
  public <T> CompletableFuture<Located<T>> file(
      Upstream upstream, URI url, String client, HttpResponse.BodyHandler<T> body) {
    return send(upstream, url, b -> b, body, client, 0, new Exchange());
  }

  /**
   * HEADs {@code url}, which {@code upstream}'s page listed, for {@code client}: what a file's GET
   * would answer, without its body.
   */
  public CompletableFuture<Located<Void>> head(Upstream upstream, URI url, String client) {
    return send(
        upstream,
        url,
        b -> b.method("HEAD", HttpRequest.BodyPublishers.noBody()),
        HttpResponse.BodyHandlers.discarding(),
        client,
        0,
        new Exchange());
  }

  /**
   * The exchange under way for one request, through its redirects, so that a deadline ends it:
   * cancelling the HTTP client's future aborts the exchange and closes its connection.
   */
  private static final class Exchange {
    private CompletableFuture<?> current;
    private boolean cancelled;

    synchronized void started(CompletableFuture<?> sent) {
      current = sent;
      if (cancelled) {
        sent.cancel(true);
      }
    }

    void cancel() {
      CompletableFuture<?> sent;
      synchronized (this) {
        cancelled = true;
        sent = current;
      }
      if (sent != null) {
        sent.cancel(true);
      }
    }
  }

  private <T> CompletableFuture<Located<T>> send(
      Upstream upstream,
      URI url,
      Function<HttpRequest.Builder, HttpRequest.Builder> headers,
      HttpResponse.BodyHandler<T> body,
      String client,
      int redirects,
      Exchange exchange) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(url).GET().timeout(FIRST_BYTE).header("User-Agent", userAgent);
    String authorization = upstream.authorizationFor(url);
    if (authorization != null) {
      builder.header("Authorization", authorization);
    }
    HttpResponse.BodyHandler<T> handler =
        info -> isRedirect(info.statusCode()) ? discardAs() : body.apply(info);
    HttpRequest request = headers.apply(builder).build();
    return connection(client)
        .thenCompose(
            release -> {
              CompletableFuture<HttpResponse<T>> sent;
              try {
                sent = http.sendAsync(request, handler);
              } catch (RuntimeException e) {
                release.run();
                throw e;
              }
              exchange.started(sent);
              return sent.whenComplete((response, error) -> release.run());
            })
        .thenCompose(
            response -> {
              if (!isRedirect(response.statusCode())) {
                return CompletableFuture.completedFuture(new Located<>(url, response));
              }
              URI next = redirect(url, response.headers());
              if (next == null || redirects >= MAX_REDIRECTS || !upstream.mayFetch(next)) {
                return CompletableFuture.failedFuture(
                    new IOException("a redirect the proxy does not follow"));
              }
              return send(upstream, next, headers, body, client, redirects + 1, exchange);
            });
  }

  /**
   * A place in {@code client}'s share (none asked for a null client), then an upstream connection,
   * within {@code wait} in all: the action that gives both back, or "upstream busy". A client
   * waiting in its own line holds no connection meanwhile.
   */
  private CompletableFuture<Runnable> connection(String client) {
    long deadline = System.nanoTime() + wait.toNanos();
    CompletableFuture<Runnable> share =
        client == null ? CompletableFuture.completedFuture(() -> {}) : shares.acquire(client, wait);
    return share
        .exceptionallyCompose(
            e -> CompletableFuture.failedFuture(new UpstreamBusy(UpstreamBusy.CLIENT_SHARE)))
        .thenCompose(
            ownShare ->
                connections
                    .acquire(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))
                    .handle(
                        (connection, error) -> {
                          if (error != null) {
                            ownShare.run();
                            throw new CompletionException(new UpstreamBusy(UpstreamBusy.ALL));
                          }
                          return () -> {
                            connection.run();
                            ownShare.run();
                          };
                        }));
  }

  private static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  private static URI redirect(URI from, HttpHeaders headers) {
    return headers.firstValue("Location").flatMap(new LinkTargets(from)::resolve).orElse(null);
  }

  @SuppressWarnings("unchecked")
  private static <T> BodySubscriber<T> discardAs() {
    return (BodySubscriber<T>) HttpResponse.BodySubscribers.replacing(null);
  }

  private static BodySubscriber<byte[]> discard() {
    return HttpResponse.BodySubscribers.replacing(null);
  }

  /** Collects a body of at most {@code limit} bytes; null when it is longer (and stops reading). */
  public static BodySubscriber<byte[]> bounded(int limit) {
    return new BodySubscriber<>() {
      private final ByteArrayOutputStream out = new ByteArrayOutputStream();
      private final CompletableFuture<byte[]> result = new CompletableFuture<>();
      private Flow.Subscription subscription;

      @Override
      public CompletionStage<byte[]> getBody() {
        return result;
      }

      @Override
      public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
      }

      @Override
      public void onNext(List<ByteBuffer> items) {
        for (ByteBuffer item : items) {
          if (out.size() + item.remaining() > limit) {
            subscription.cancel();
            result.complete(null);
            return;
          }
          byte[] bytes = new byte[item.remaining()];
          item.get(bytes);
          out.write(bytes, 0, bytes.length);
        }
        subscription.request(1);
      }

      @Override
      public void onError(Throwable error) {
        result.completeExceptionally(error);
      }

      @Override
      public void onComplete() {
        result.complete(out.toByteArray());
      }
    };
  }

  /**
   * Every upstream connection, or every one of the client's share, stayed in use for as long as a
   * request may wait for one.
   */
  static final class UpstreamBusy extends IOException {
    static final String ALL = "upstream busy: every upstream connection stayed in use";
    static final String CLIENT_SHARE =
        "upstream busy: this client's share of the upstream connections stayed in use";

    UpstreamBusy(String why) {
      super(why);
    }

    /** Whether it was the client's own share, not every connection, that stayed in use. */
    boolean clientShare() {
      return CLIENT_SHARE.equals(getMessage());
    }
  }

  /** Requests to upstreams under way (files until their body ends). */
  int connectionsInUse() {
    return connections.inUse();
  }

  /** Upstream requests of {@code client} holding a place in its share now. */
  int inUse(String client) {
    return shares.inUse(client);
  }

  /** Client addresses with upstream requests under way or waiting. */
  int clientsWithUpstreamRequests() {
    return shares.clients();
  }

  /** Why a request failed, in words that carry no URL (a URL may carry a secret path). */
  static String reason(Throwable error) {
    Throwable e = cause(error);
    if (e instanceof java.net.http.HttpTimeoutException
        || e instanceof java.util.concurrent.TimeoutException) {
      return "no answer in time";
    }
    if (e instanceof java.net.ConnectException) {
      return "cannot connect";
    }
    if (e instanceof FileRelay.HashMismatch
        || e instanceof UpstreamBusy
        || e instanceof FileRelay.Stalled
        || e instanceof FileRelay.ClientGone) {
      return e.getMessage();
    }
    return e.getClass().getSimpleName();
  }

  /** The failure inside the wrappers of completion stages. */
  static Throwable cause(Throwable error) {
    Throwable e = error;
    while (e.getCause() != null
        && (e instanceof java.util.concurrent.CompletionException
            || e instanceof java.util.concurrent.ExecutionException)) {
      e = e.getCause();
    }
    return e;
  }
}
