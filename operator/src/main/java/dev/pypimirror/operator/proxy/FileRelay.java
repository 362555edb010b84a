package dev.pypimirror.operator.proxy;

import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.LongConsumer;

/**
 * Streams one upstream file to one client while it is written to the cache: each chunk goes to the
 * file (on the HTTP client's thread) and to the client (on the client's event loop), and the next
 * is asked for only once the client's write queue has room, so memory stays a few chunks whatever
 * the file's size. The last chunk is held back until the sha256 is checked: on a mismatch or a cut
 * transfer the client's connection is reset (it never sees a complete file) and nothing is stored.
 * A transfer that goes {@code stall} without a byte while the relay is asking for more (not while
 * it waits for a slow client) is cut off the same way. The body completes with whether the file is
 * now in the cache.
 */
final class FileRelay implements BodySubscriber<Boolean> {
  /** Chunks asked for ahead, so the upstream connection does not wait for each client write. */
  static final int WINDOW = 8;

  private final Context context;
  private final HttpServerResponse response;
  private final Optional<FileStore.Writer> writer;
  private final String expectedSha256;
  private final LongConsumer served;
  private final MessageDigest digest = FileStore.sha256();
  private final CompletableFuture<Boolean> result = new CompletableFuture<>();
  private final Duration stall;
  private Flow.Subscription subscription;
  private boolean finished; // guarded by this: the upstream's end, an error or a stall, once
  private volatile long lastProgress = System.nanoTime();
  // the fields below are touched on the client's context only
  private Buffer pending;
  private boolean clientGone;
  private long owed; // chunks not asked for again while the client's queue was full
  private long watchdog = -1;

  FileRelay(
      Context context,
      HttpServerResponse response,
      Optional<FileStore.Writer> writer,
      String expectedSha256,
      LongConsumer served,
      Duration stall) {
    this.context = context;
    this.response = response;
    this.writer = writer;
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
          response.closeHandler(
              closed -> {
                if (!clientGone) {
                  clientGone = true;
                  lastProgress = System.nanoTime();
                  subscription.request(Long.MAX_VALUE); // the cache still gets the file
                }
              });
          long period = Math.max(1, stall.toMillis() / 4);
          watchdog = context.owner().setPeriodic(period, id -> checkStalled());
          s.request(WINDOW);
        });
  }

  /** On the context: cuts the transfer off when the upstream sent nothing for too long. */
  private void checkStalled() {
    boolean waitingForClient = owed > 0 && !clientGone;
    if (waitingForClient || System.nanoTime() - lastProgress < stall.toNanos()) {
      return;
    }
    synchronized (this) {
      if (finished) {
        return;
      }
      finished = true;
      writer.ifPresent(FileStore.Writer::abort);
    }
    subscription.cancel();
    stopWatchdog();
    reset();
    result.completeExceptionally(new Stalled(stall));
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
        writer.ifPresent(w -> w.write(item));
        digest.update(item.duplicate());
        int n = item.remaining();
        item.get(bytes, at, n);
        at += n;
      }
    }
    Buffer chunk = Buffer.buffer(Unpooled.wrappedBuffer(bytes));
    context.runOnContext(
        v -> {
          if (clientGone) {
            return;
          }
          if (pending != null) {
            served.accept(pending.length());
            response.write(pending);
          }
          pending = chunk;
          if (!response.writeQueueFull()) {
            subscription.request(1);
          } else {
            owed++;
            response.drainHandler(
                d -> {
                  long n = owed;
                  owed = 0;
                  if (n > 0) {
                    lastProgress = System.nanoTime();
                    subscription.request(n);
                  }
                });
          }
        });
  }

  @Override
  public void onError(Throwable error) {
    synchronized (this) {
      if (finished) {
        return;
      }
      finished = true;
      writer.ifPresent(FileStore.Writer::abort);
    }
    context.runOnContext(
        v -> {
          stopWatchdog();
          reset();
        });
    result.completeExceptionally(error);
  }

  @Override
  public void onComplete() {
    String actual;
    boolean stored;
    synchronized (this) {
      if (finished) {
        return;
      }
      finished = true;
      actual = HexFormat.of().formatHex(digest.digest());
      stored = writer.map(w -> w.publish(actual, expectedSha256)).orElse(false);
    }
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

  /** The upstream stopped sending in the middle of a file. */
  static final class Stalled extends IOException {
    Stalled(Duration stall) {
      super("no bytes from upstream for " + stall.toSeconds() + " s: cut off, not stored");
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
      response.reset();
    }
  }
}
