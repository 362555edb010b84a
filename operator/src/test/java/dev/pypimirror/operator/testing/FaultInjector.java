package dev.pypimirror.operator.testing;

import io.fabric8.mockwebserver.http.ByteString;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A misbehaving API server: in front of the mock server's own dispatcher (expectations, then CRUD),
 * it answers some requests of one client with 500, 409 or 429 + Retry-After, delays others, and
 * drops open watches on demand. A dropped watch's first reconnect is answered 410 Gone, as a real
 * API server does once the watch's resourceVersion is too old, so the client relists (the mock
 * cannot replay the events it missed). The dice are a function of the seed, the request (method and
 * path) and how many times that same request came before, not of which thread asked first: the n-th
 * write of one object gets the same fault in every run with the same seed, however the operator's
 * threads interleave requests for different objects.
 */
public final class FaultInjector extends Dispatcher {
  /** Requests carrying this header may be faulted; the test's own client does not send it. */
  public static final String TARGET_HEADER = "X-Fault-Target";

  public enum Fault {
    SERVER_ERROR,
    CONFLICT,
    TOO_MANY_REQUESTS,
    SLOW,
    WATCH_DROPPED,
    GONE
  }

  private final Dispatcher cluster;
  private final long seed;
  private final Map<String, AtomicLong> occurrences = new ConcurrentHashMap<>();
  private final Map<Fault, AtomicLong> injected = new ConcurrentHashMap<>();
  private final Set<WebSocket> openWatches = ConcurrentHashMap.newKeySet();
  private final Set<String> droppedWatchPaths = ConcurrentHashMap.newKeySet();
  private volatile boolean on;

  public FaultInjector(Dispatcher cluster, long seed) {
    this.cluster = cluster;
    this.seed = seed;
    for (Fault fault : Fault.values()) {
      injected.put(fault, new AtomicLong());
    }
  }

  public void on() {
    on = true;
  }

  public void off() {
    on = false;
  }

  public Map<Fault, Long> counts() {
    Map<Fault, Long> counts = new java.util.EnumMap<>(Fault.class);
    injected.forEach((fault, n) -> counts.put(fault, n.get()));
    return counts;
  }

  /** Closes every open watch; each one's next start is answered 410 Gone. */
  public void dropWatches() {
    for (WebSocket watch : openWatches) {
      droppedWatchPaths.add(watchKey(watch.request().getPath()));
      if (watch.close(1001, "dropped by the fault injector")) {
        injected.get(Fault.WATCH_DROPPED).incrementAndGet();
      }
      openWatches.remove(watch);
    }
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    boolean target = request.getHeader(TARGET_HEADER) != null;
    boolean watch = request.getPath().contains("watch=true");
    if (watch && droppedWatchPaths.remove(watchKey(request.getPath()))) {
      injected.get(Fault.GONE).incrementAndGet();
      return status(410, "Expired", "too old resource version");
    }
    if (on && target && !watch) {
      MockResponse fault = roll(request);
      if (fault != null) {
        return fault;
      }
    }
    MockResponse response = cluster.dispatch(request);
    if (watch && response.getWebSocketListener() != null) {
      response.withWebSocketUpgrade(new Tracked(response.getWebSocketListener()));
    }
    return response;
  }

  private MockResponse roll(RecordedRequest request) {
    int dice = dice(request.getMethod() + " " + request.getPath());
    boolean write = !request.getMethod().equals("GET");
    if (write && dice < 10) {
      injected.get(Fault.SERVER_ERROR).incrementAndGet();
      return status(500, "InternalError", "injected fault");
    }
    if (write && dice < 20) {
      injected.get(Fault.CONFLICT).incrementAndGet();
      return status(409, "Conflict", "the object has been modified (injected)");
    }
    if (dice < 28) {
      injected.get(Fault.TOO_MANY_REQUESTS).incrementAndGet();
      return status(429, "TooManyRequests", "injected throttling").setHeader("Retry-After", 1);
    }
    if (dice < 40) {
      injected.get(Fault.SLOW).incrementAndGet();
      return cluster.dispatch(request).setBodyDelay(100 + dice * 10L, TimeUnit.MILLISECONDS);
    }
    return null;
  }

  /** 0..99, from the seed, the request, and how many times the same request came before. */
  private int dice(String request) {
    long nth = occurrences.computeIfAbsent(request, r -> new AtomicLong()).getAndIncrement();
    return new SplittableRandom(seed ^ (31L * request.hashCode() + nth)).nextInt(100);
  }

  private static MockResponse status(int code, String reason, String message) {
    return new MockResponse()
        .setResponseCode(code)
        .setHeader("Content-Type", "application/json")
        .setBody(
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":%d,\"reason\":\"%s\",\"message\":\"%s\"}"
                .formatted(code, reason, message));
  }

  /** A watch's path and selectors, without what changes between its reconnects. */
  private static String watchKey(String path) {
    return path.replaceAll("(resourceVersion|timeoutSeconds|allowWatchBookmarks)=[^&]*&?", "");
  }

  /** Remembers open watches so they can be dropped. */
  private final class Tracked extends WebSocketListener {
    private final WebSocketListener delegate;

    Tracked(WebSocketListener delegate) {
      this.delegate = delegate;
    }

    @Override
    public void onBeforeAccept(WebSocket webSocket, Response response) {
      delegate.onBeforeAccept(webSocket, response);
    }

    @Override
    public void onOpen(WebSocket webSocket, Response response) {
      openWatches.add(webSocket);
      delegate.onOpen(webSocket, response);
    }

    @Override
    public void onMessage(WebSocket webSocket, String text) {
      delegate.onMessage(webSocket, text);
    }

    @Override
    public void onMessage(WebSocket webSocket, ByteString bytes) {
      delegate.onMessage(webSocket, bytes);
    }

    @Override
    public void onMessage(WebSocket webSocket, byte[] bytes) {
      delegate.onMessage(webSocket, bytes);
    }

    @Override
    public void onClosing(WebSocket webSocket, int code, String reason) {
      openWatches.remove(webSocket);
      delegate.onClosing(webSocket, code, reason);
    }

    @Override
    public void onClosed(WebSocket webSocket, int code, String reason) {
      openWatches.remove(webSocket);
      delegate.onClosed(webSocket, code, reason);
    }

    @Override
    public void onFailure(WebSocket webSocket, Throwable t, Response response) {
      openWatches.remove(webSocket);
      delegate.onFailure(webSocket, t, response);
    }
  }
}
