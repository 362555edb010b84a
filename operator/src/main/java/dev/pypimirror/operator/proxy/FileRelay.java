package dev.pypimirror.operator.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.impl.ConnectionBase;
import java.io.IOException;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;

/**
 * Streams one upstream file to one client while it is written to the cache: each chunk goes to the
 * client (on the client's event loop) as soon as it arrives, and is hashed and written to the file
 * behind it ({@link StoreBehind}); the next is asked for only once the client's write queue has
 * room and the store is no more than its cap behind, so memory stays a few chunks whatever the
 * file's size. The last chunk is held back until the sha256 is checked: on a mismatch or a cut
 * transfer the client's connection is reset (it never sees a complete file) and nothing is stored.
 *
 * <p>Nothing holds the upstream connection for long without a reason, each within {@code stall}: a
 * transfer whose upstream sends no byte while the relay asks for more is cut off; a client that
 * takes no byte is cut off (its connection reset); and once the client is gone (cut or left), the
 * rest is still fetched into the cache only while the file is being stored and only until {@code
 * stall} after the client went, else the transfer is cut and nothing is stored (a request waiting
 * for the same file then fetches it itself). The body completes with whether the file is now in the
 * cache.
 */
final class FileRelay implements BodySubscriber<Boolean> {
  /** Chunks asked for ahead, so the upstream connection does not wait for each client write. */
  static final int WINDOW = 8;

  private final Context context;
  private final HttpServerResponse response;
  private final HttpConnection connection;
  private final boolean storing;
  private final StoreBehind store;
  private final String expectedSha256;
  private final LongConsumer served;
  private final CompletableFuture<Boolean> result = new CompletableFuture<>();
  private final Duration stall;
  private Flow.Subscription subscription;
  private boolean finished; // guarded by this: the upstream's end, an error or a cut, once
  private volatile long lastProgress = System.nanoTime();
  // the fields below are touched on the client's context only
  private Buffer pending;
  private boolean clientGone;
  private long clientGoneAt = -1; // when the client's leaving was handled: bounds the rest
  private long owed; // chunks not asked for again while the client's queue or the store was full
  private long waitingForClientSince = -1; // while the client's write queue is full
  private long watchdog = -1;

  FileRelay(
      Context context,
      HttpServerRequest request,
      Optional<FileStore.Writer> writer,
      String expectedSha256,
      LongConsumer served,
      Duration stall) {
    this.context = context;
    this.response = request.response();
    this.connection = request.connection();
    this.storing = writer.isPresent();
    this.store = new StoreBehind(writer, () -> context.runOnContext(v -> askOwed()));
    this.expectedSha256 = expectedSha256;
    this.served = served;
    this.stall = stall;
  }

  @Override
  public CompletionStage<Boolean> getBody() {
    return result;
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    context.runOnContext(
        v -> {
          response.closeHandler(closed -> clientLeft());
          long period = Math.max(1, stall.toMillis() / 4);
          watchdog = context.owner().setPeriodic(period, id -> checkStalled());
          s.request(WINDOW);
          if (response.closed()) {
            clientLeft(); // gone before the upstream answered: Vert.x calls no handler set since
          }
        });
  }

  /**
   * On the context, when the client's connection is gone (it left, or was cut): the rest goes into
   * the cache only when the file is being stored (and {@link #checkStalled} bounds it), else the
   * transfer ends now.
   */
  private void clientLeft() {
    if (clientGoneAt >= 0) {
      return;
    }
    clientGone = true;
    clientGoneAt = System.nanoTime();
    if (!storing) {
      cut(new ClientGone());
      return;
    }
    lastProgress = clientGoneAt;
    askOwed();
  }

  /**
   * On the context: asks upstream for the chunks owed, unless the client's write queue is full (its
   * drain asks again) or the store is behind (its catching up asks again).
   */
  private void askOwed() {
    if (owed == 0) {
      return;
    }
    if (!clientGone && response.writeQueueFull()) {
      if (waitingForClientSince < 0) {
        waitingForClientSince = System.nanoTime();
        response.drainHandler(d -> askOwed());
      }
      return;
    }
    waitingForClientSince = -1;
    if (store.behind()) {
      return;
    }
    long n = owed;
    owed = 0;
    lastProgress = System.nanoTime();
    subscription.request(n);
  }

  /** On the context: cuts off a client, an upstream or a transfer nobody waits for any more. */
  private void checkStalled() {
    long now = System.nanoTime();
    if (!clientGone && waitingForClientSince >= 0) {
      if (now - waitingForClientSince < stall.toNanos()) {
        return; // the client has a while yet to take what it was sent
      }
      reset(); // a client that takes nothing: cut off
      clientLeft();
    }
    if (clientGoneAt >= 0 && now - clientGoneAt >= stall.toNanos()) {
      cut(new ClientGone());
    } else if (now - lastProgress >= stall.toNanos() && !(owed > 0 && store.behind())) {
      cut(new Stalled(stall));
    }
  }

  /** Ends the transfer: nothing is stored, the client (if still there) is reset. */
  private void cut(IOException why) {
    synchronized (this) {
      if (finished) {
        return;
      }
      finished = true;
    }
    subscription.cancel();
    stopWatchdog();
    reset();
    store.abort(() -> result.completeExceptionally(why));
  }

  private void stopWatchdog() {
    if (watchdog >= 0) {
      context.owner().cancelTimer(watchdog);
      watchdog = -1;
    }
  }

  @Override
  public void onNext(List<ByteBuffer> items) {
    lastProgress = System.nanoTime();
    int size = 0;
    for (ByteBuffer item : items) {
      size += item.remaining();
    }
    byte[] bytes = new byte[size];
    synchronized (this) {
      if (finished) {
        return;
      }
      int at = 0;
      for (ByteBuffer item : items) {
        int n = item.remaining();
        item.get(bytes, at, n);
        at += n;
      }
      store.add(ByteBuffer.wrap(bytes)); // the client's chunk and the store's share the bytes
    }
    Buffer chunk = Buffer.buffer(Unpooled.wrappedBuffer(bytes));
    context.runOnContext(
        v -> {
          if (!clientGone) {
            if (pending != null) {
              served.accept(pending.length());
              response.write(pending);
            }
            pending = chunk;
          }
          owed++;
          askOwed();
        });
  }

  @Override
  public void onError(Throwable error) {
    synchronized (this) {
      if (finished) {
        return;
      }
      finished = true;
    }
    context.runOnContext(
        v -> {
          stopWatchdog();
          reset();
        });
    store.abort(() -> result.completeExceptionally(error));
  }

  @Override
  public void onComplete() {
    synchronized (this) {
      if (finished) {
        return;
      }
      finished = true;
    }
    store.finish(expectedSha256, this::finished);
  }

  /** Once every chunk is hashed and written: ends the client's response, or resets it. */
  private void finished(StoreBehind.Finished done) {
    String actual = done.sha256();
    boolean stored = done.stored();
    boolean matches = expectedSha256 == null || expectedSha256.equals(actual);
    context.runOnContext(
        v -> {
          stopWatchdog();
          if (clientGone) {
            return;
          }
          if (!matches) {
            reset();
            return;
          }
          if (pending != null) {
            served.accept(pending.length());
            response.end(pending);
          } else {
            response.end();
          }
        });
    if (matches) {
      result.complete(stored);
    } else {
      result.completeExceptionally(new HashMismatch(actual, expectedSha256));
    }
  }

  /**
   * Whether {@code error} is the relay's own cut (a stall, a client gone, a hash mismatch): the
   * relay reset the client then, and no answer may follow the reset (a 502 written behind it could
   * still reach the client before the connection closes).
   */
  static boolean cutByRelay(Throwable error) {
    for (Throwable e = error; e != null; e = e.getCause()) {
      if (e instanceof Stalled || e instanceof ClientGone || e instanceof HashMismatch) {
        return true;
      }
    }
    return false;
  }

  /** The upstream stopped sending in the middle of a file. */
  static final class Stalled extends IOException {
    Stalled(Duration stall) {
      super("no bytes from upstream for " + stall.toSeconds() + " s: cut off, not stored");
    }
  }

  /** The client went away and the rest could not be stored in time: not stored. */
  static final class ClientGone extends IOException {
    ClientGone() {
      super("the client went away: transfer cut off, not stored");
    }
  }

  /** The bytes an upstream sent are not those its page announced. */
  static final class HashMismatch extends IOException {
    HashMismatch(String actual, String expected) {
      super("sha256 " + actual + " is not the " + expected + " its page gives: not stored");
    }
  }

  private void reset() {
    if (!clientGone && !response.ended()) {
      clientGone = true;
      if (connection instanceof ConnectionBase socket) {
        // at once, the bytes queued dropped: Vert.x's reset (and a close through the pipeline)
        // waits for them to be flushed, which a client that reads nothing never lets happen
        Channel channel = socket.channel();
        channel.unsafe().close(channel.unsafe().voidPromise());
      } else {
        response.reset();
      }
    }
  }
}
