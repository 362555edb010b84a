package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.simple.FileHash;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
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
 * Takes one upstream file: streams it to the client that asked first (the leader) while it is
 * written to the cache behind it ({@link StoreBehind}), and, when the file is being stored, makes
 * it a {@link GrowingFile} that other clients of the same file read from as it grows. The last
 * chunk is held back until the page's hash is checked: on a mismatch or a cut transfer every client
 * is reset (none sees a complete file) and nothing is stored. Memory stays a few chunks whatever
 * the file's size.
 *
 * <p>Pace: while the file is being stored, the upstream is read as fast as the store writes (no
 * more than its cap behind), never at a client's pace. The leader is sent each chunk from memory
 * while its write queue has room; once it is full, the leader goes on from the file at the offset
 * it reached ({@link TailReader}), like the other readers, and the upstream does not wait for it.
 * When the file is not stored (the volume is full) or its store stopped, the leader is the only
 * client and the upstream follows it: the next chunk is asked for only once its write queue has
 * room. A leader to be answered at the end (a client that would take a close for the end of a body
 * without a length) is sent nothing: it keeps the transfer attended until it leaves.
 *
 * <p>Nothing holds the upstream connection for long without a reason, each within {@code stall}: a
 * transfer whose upstream sends no byte while the relay asks for more is cut off; a client that
 * takes no byte is cut off (its connection reset; the transfer goes on for the others); and once no
 * client is attached (cut or left), the rest is still fetched into the cache only while the file is
 * being stored and only until {@code stall} after the last one went, else the transfer is cut and
 * nothing is stored (a request waiting for the same file then fetches it itself). The body
 * completes with whether the file is now in the cache.
 */
final class FileRelay implements BodySubscriber<Boolean> {
  /** Chunks asked for ahead, so the upstream connection does not wait for each client write. */
  static final int WINDOW = 8;

  private final Context context;
  private final HttpServerRequest request;
  private final HttpServerResponse response;
  private final boolean storing;
  private final GrowingFile growing; // null: no client reads the file while it is written
  private final StoreBehind store;
  private final FileHash expected;
  private final LongConsumer served;
  private final CompletableFuture<Boolean> result = new CompletableFuture<>();
  private final Duration stall;
  private final Runnable leaderAttached = () -> {}; // the leader's place among the file's readers
  private Flow.Subscription subscription;
  private boolean finished; // guarded by this: the upstream's end, an error or a cut, once
  private volatile long lastProgress = System.nanoTime();
  // the fields below are touched on the client's context only
  private Buffer pending;
  private long sent; // bytes written to the leader from memory
  private boolean
      clientGone; // the relay writes to the leader no more: it left, was cut or reads the file
  private long clientGoneAt = -1; // when the client's leaving was handled: bounds the rest
  private long owed; // chunks not asked for again while the client's queue or the store was full
  private long waitingForClientSince = -1; // while the client's write queue is full
  private StallWatch watchdog;

  /**
   * @param growing the file as it is written, for readers (null: none may attach); the leader is
   *     attached to it from the start
   * @param expected the hash the page gives for the bytes (null: none the proxy can check)
   * @param answeredAtEnd the relay sends the leader nothing: it is answered once the transfer ended
   *     (from the cache), and counts as attached to the file meanwhile
   */
  FileRelay(
      Context context,
      HttpServerRequest request,
      Optional<FileStore.Writer> writer,
      GrowingFile growing,
      FileHash expected,
      LongConsumer served,
      Duration stall,
      boolean answeredAtEnd) {
    this.context = context;
    this.request = request;
    this.response = request.response();
    this.storing = writer.isPresent();
    this.growing = growing;
    this.store =
        new StoreBehind(
            writer,
            () -> context.runOnContext(v -> askOwed()),
            growing,
            expected,
            () -> context.runOnContext(v -> cut(new StoreFailed())));
    this.expected = expected;
    this.served = served;
    this.stall = stall;
    this.clientGone = answeredAtEnd;
    if (growing != null) {
      growing.attach(leaderAttached);
    }
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
          watchdog =
              StallWatch.start(
                  context,
                  stall,
                  () -> {
                    checkStalled();
                    return true; // cancelled when the transfer ends
                  });
          s.request(WINDOW);
          if (response.closed()) {
            clientLeft(); // gone before the upstream answered: Vert.x calls no handler set since
          }
        });
  }

  /** Whether the file is still being stored (its store did not stop). */
  private boolean storingNow() {
    return storing && (growing == null || growing.end() != GrowingFile.End.STOPPED);
  }

  /** Whether readers can go on from the file: it is being stored and readable as it grows. */
  private boolean fileBacked() {
    return growing != null && growing.end() == null;
  }

  /**
   * On the context, when the leader's connection is gone (it left, or was cut): the rest goes into
   * the cache only when the file is being stored (and {@link #checkStalled} bounds it), else the
   * transfer ends now.
   */
  private void clientLeft() {
    if (clientGoneAt >= 0) {
      return;
    }
    leaderDone();
    clientGoneAt = System.nanoTime();
    if (!storingNow()) {
      cut(new ClientGone());
      return;
    }
    lastProgress = clientGoneAt;
    askOwed();
  }

  /** On the context: the relay writes to the leader no more. */
  private void leaderDone() {
    clientGone = true;
    pending = null;
    if (growing != null) {
      growing.detach(leaderAttached);
    }
  }

  /**
   * On the context: asks upstream for the chunks owed, unless the store is behind (its catching up
   * asks again) or, when no file backs the leader, the leader's write queue is full (its drain asks
   * again); cuts the transfer when the store stopped and the relay writes to no client.
   */
  private void askOwed() {
    if (clientGone && !storingNow()) {
      cut(new ClientGone()); // the store stopped with no client taking the rest: nothing to read
      // for
      return;
    }
    if (owed == 0) {
      return;
    }
    if (!clientGone && !fileBacked() && response.writeQueueFull()) {
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

  /**
   * On the context: a chunk for the leader, sent from memory while its write queue has room; once
   * it is full (and the file backs it), the leader goes on from the file where it is.
   */
  private void offer(Buffer chunk) {
    if (clientGone) {
      return;
    }
    if (fileBacked() && response.writeQueueFull() && readFromFile()) {
      return;
    }
    Buffer now = pending;
    pending = chunk;
    if (now != null) { // counted before the write, which may run the drain handler
      served.accept(now.length());
      sent += now.length();
      response.write(now);
    }
  }

  /**
   * On the context: the leader reads the file from what it was sent, the relay lets it go; false
   * when the transfer was verified meanwhile (no reader attaches then): the relay goes on sending
   * it from memory.
   */
  private boolean readFromFile() {
    boolean reading =
        TailReader.serve(context, request, growing, sent, stall, served, () -> {}, ended -> {});
    if (!reading && growing.end() == GrowingFile.End.VERIFIED) {
      return false;
    }
    leaderDone(); // after the reader attached: the transfer stays attended
    if (!reading) { // the store stopped or the transfer failed meanwhile
      resetNow(response, request.connection());
    }
    return true;
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
    if (clientGone && !storingNow()) {
      cut(new ClientGone()); // no file to fetch the rest into, and no client left to take it
    } else if (growing != null
        ? growing.failIfUnattended(now, stall.toNanos())
        : clientGoneAt >= 0 && now - clientGoneAt >= stall.toNanos()) {
      cut(new ClientGone());
    } else if (now - lastProgress >= stall.toNanos() && !(owed > 0 && store.behind())) {
      cut(new Stalled(stall));
    }
  }

  /** Ends the transfer: nothing is stored, every client still there is reset. */
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
    if (watchdog != null) {
      watchdog.cancel();
      watchdog = null;
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
          offer(chunk);
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
    store.finish(this::finished);
  }

  /** Once every chunk is hashed and written: ends the client's response, or resets it. */
  private void finished(StoreBehind.Finished done) {
    boolean stored = done.stored();
    boolean verified = done.verified();
    context.runOnContext(
        v -> {
          stopWatchdog();
          if (clientGone) {
            return;
          }
          if (!verified) {
            reset();
            return;
          }
          Buffer last = pending;
          leaderDone();
          if (last != null) {
            served.accept(last.length());
            response.end(last);
          } else {
            response.end();
          }
        });
    if (verified) {
      result.complete(stored);
    } else if (done.failed()) {
      result.completeExceptionally(new StoreFailed());
    } else {
      result.completeExceptionally(new HashMismatch(done.checked().actual(), expected));
    }
  }

  /**
   * Whether {@code error} is the relay's own cut (a stall, a client gone, a hash mismatch, a store
   * that failed): the relay reset the client then, and no answer may follow the reset (a 502
   * written behind it could still reach the client before the connection closes).
   */
  static boolean cutByRelay(Throwable error) {
    for (Throwable e = error; e != null; e = e.getCause()) {
      if (e instanceof Stalled
          || e instanceof ClientGone
          || e instanceof HashMismatch
          || e instanceof StoreFailed) {
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

  /** Storing or hashing a chunk failed: the bytes were not all checked. */
  static final class StoreFailed extends IOException {
    StoreFailed() {
      super("storing the file failed: transfer cut off, not stored");
    }
  }

  /** The bytes an upstream sent are not those its page announced. */
  static final class HashMismatch extends IOException {
    HashMismatch(FileHash actual, FileHash expected) {
      super(actual + " is not the " + expected + " its page gives: not stored");
    }
  }

  /** On the context: resets the leader's connection while the relay still writes to it. */
  private void reset() {
    if (!clientGone) {
      leaderDone();
      resetNow(response, request.connection());
    }
  }

  /**
   * Resets a client's connection at once, the bytes queued dropped: Vert.x's reset (and a close
   * through the pipeline) waits for them to be flushed, which a client that reads nothing never
   * lets happen. The connection is reset (TCP RST, by a zero linger), not closed: an HTTP/1.0
   * client of a body without a length takes a close for its end, and so for a whole file. A
   * response already ended is left alone.
   */
  static void resetNow(HttpServerResponse response, HttpConnection connection) {
    if (response.ended()) {
      return;
    }
    if (connection instanceof ConnectionBase socket) {
      Channel channel = socket.channel();
      try { // a reset (RST), not a close (FIN): a body without a length ends at a close
        channel.config().setOption(ChannelOption.SO_LINGER, 0);
      } catch (RuntimeException closedAlready) {
        // nothing left to reset
      }
      channel.unsafe().close(channel.unsafe().voidPromise());
    } else {
      response.reset();
    }
  }
}
