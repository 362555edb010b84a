package dev.pypimirror.operator.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.FileRegion;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.net.impl.ConnectionBase;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * One client served from a {@link GrowingFile} while it is fetched: from its own offset, in chunks
 * of at most {@link #CHUNK} bytes read from the file (positional reads of a region just written, in
 * the page cache: done on the client's event loop), each read only when the client's write queue
 * has room, so a reader holds a chunk or two whatever the file's size and takes the upstream's
 * bytes at its own pace without slowing the upstream or the other readers. It is woken on every
 * write, sends what {@link GrowingFile#readable} allows (never the last byte before the sha256 is
 * checked), ends the response once the transfer is verified, and resets the client's connection
 * when the transfer fails or the store stops, or when the client takes no byte for {@code stall}. A
 * client still behind once the file is whole and checked is sent the rest by the kernel (sendfile),
 * as a cached file is, in regions of {@link #REGION} bytes.
 */
final class TailReader {
  /** The most bytes read from the file at once. */
  static final int CHUNK = 64 << 10;

  /**
   * The most bytes sent by the kernel at once, as Vert.x sends a file: the server's idle time-out
   * counts a write only once it has finished, so one region of a large file to a slow client would
   * be cut in the middle while its bytes flow.
   */
  static final long REGION = 1L << 20;

  /**
   * How far behind what is written a read is still done on the event loop: bytes written that
   * recently are in the page cache; older ones (a slow client of a large file) may have to come
   * from the disk, so they are read on a worker.
   */
  static final long NEAR = 8L << 20;

  /** What the reader sends to: a client's response (an interface for the reader's unit test). */
  interface Client {
    /** Whether the write queue is full (the reader then waits for {@link #onDrain}). */
    boolean full();

    /** Runs {@code then} once the write queue has room again. */
    void onDrain(Runnable then);

    /** Sends {@code chunk} and releases it once written (or failed): it is the client's now. */
    void write(ByteBuf chunk);

    /**
     * Sends {@code region} by the kernel (sendfile), then runs {@code sent} (on the reader's event
     * loop, possibly before this returns) with whether it was; false when this client cannot take
     * one now (where Vert.x would not send one either: a transport without regions, TLS, traffic
     * shaping; a body without a length; no byte sent yet: the head goes with the first chunk), and
     * nothing was sent.
     */
    boolean send(FileRegion region, Consumer<Boolean> sent);

    void end();

    /** Cuts the connection at once: the client must not take what it got for a whole file. */
    void reset();
  }

  /** How a reader ended: the client got the whole file, left, or was reset by the proxy. */
  enum Ended {
    COMPLETE,
    LEFT,
    RESET
  }

  private final GrowingFile file;
  private final Client client;
  private final Executor onContext;
  private final Executor aside;
  private final LongConsumer served;
  private final Consumer<Ended> ended;
  private final LongSupplier clock;
  private final AtomicBoolean wakePosted = new AtomicBoolean();
  private final Runnable wake = this::wake;
  // on the client's context only
  private long offset;
  private boolean done;
  private boolean busy; // a read on a worker, or the rest sent by the kernel, is under way
  private boolean pumping; // pump() is running: a nested call asks it to look again
  private boolean pumpAgain;
  private long waitingSince = -1; // while the client's write queue is full

  /**
   * @param onContext runs a task on the client's context (where every other method is called)
   * @param aside runs a read of bytes written more than {@link #NEAR} ago, off the event loop
   * @param offset where this client starts (a leader that fell behind: what it was sent)
   */
  TailReader(
      GrowingFile file,
      Client client,
      Executor onContext,
      Executor aside,
      long offset,
      LongConsumer served,
      Consumer<Ended> ended,
      LongSupplier clock) {
    this.file = file;
    this.client = client;
    this.onContext = onContext;
    this.aside = aside;
    this.offset = offset;
    this.served = served;
    this.ended = ended;
    this.clock = clock;
  }

  /**
   * Serves {@code request} from {@code file} from {@code offset} on (on the request's context),
   * with its own stall bound, {@code head} setting the response's head once attached; false when
   * the file can no longer be read (nothing was sent, the head not set).
   */
  static boolean serve(
      Context context,
      HttpServerRequest request,
      GrowingFile file,
      long offset,
      Duration stall,
      LongConsumer served,
      Runnable head,
      Consumer<Ended> ended) {
    TailReader reader =
        new TailReader(
            file,
            new ResponseClient(request),
            task -> context.runOnContext(v -> task.run()),
            task ->
                context.executeBlocking(
                    () -> {
                      task.run();
                      return null;
                    },
                    false),
            offset,
            served,
            ended,
            System::nanoTime);
    if (!reader.start(head)) {
      return false;
    }
    StallWatch watch =
        StallWatch.start(
            context,
            stall,
            () -> {
              if (reader.done || reader.stalledFor() >= stall.toNanos()) {
                reader.cutIfStalled();
                return false;
              }
              return true;
            });
    HttpServerResponse response = request.response();
    response.closeHandler(closed -> reader.left());
    if (response.closed()) {
      watch.cancel();
      reader.left();
    }
    return true;
  }

  /** A request's response as a reader's client. */
  private static final class ResponseClient implements Client {
    private final HttpServerRequest request;
    private final HttpServerResponse response;

    ResponseClient(HttpServerRequest request) {
      this.request = request;
      this.response = request.response();
    }

    @Override
    public boolean full() {
      return response.writeQueueFull();
    }

    @Override
    public void onDrain(Runnable then) {
      response.drainHandler(v -> then.run());
    }

    @Override
    public void write(ByteBuf chunk) {
      try { // Vert.x sends a pooled buffer as is, and never releases it itself
        response.write(Buffer.buffer(chunk)).onComplete(written -> chunk.release());
      } catch (RuntimeException e) { // the response ended meanwhile
        chunk.release();
      }
    }

    @Override
    public boolean send(FileRegion region, Consumer<Boolean> sent) {
      if (!(request.connection() instanceof ConnectionBase connection)
          || !connection.getContext().owner().transport().supportFileRegion()
          || connection.isSsl()
          || connection.isTrafficShaped()
          || response.isChunked() // a file without a length: rare, kept to chunks
          || !response.headWritten()
          || response.ended()) {
        return false;
      }
      // on the connection, in order with the response's writes; the response's end follows it
      // the next region at once, on the loop: a task hop between regions cost 100 clients of
      // one 500 MiB file a fifth more time
      ContextInternal context = connection.getContext();
      connection.writeToChannel(
          region,
          written -> {
            if (context.nettyEventLoop().inEventLoop()) {
              sent.accept(written.isSuccess());
            } else {
              context.runOnContext(v -> sent.accept(written.isSuccess()));
            }
          });
      return true;
    }

    @Override
    public void end() {
      response.end();
    }

    @Override
    public void reset() {
      FileRelay.resetNow(response, request.connection());
    }
  }

  /**
   * Attaches to the file, runs {@code head} and sends what is there; false when the file can no
   * longer be read.
   */
  boolean start(Runnable head) {
    if (!file.attach(wake)) {
      return false;
    }
    head.run();
    pump();
    return true;
  }

  /** From any thread: the file grew or ended; the reader looks again on its context. */
  private void wake() {
    if (wakePosted.compareAndSet(false, true)) {
      onContext.execute(this::pump);
    }
  }

  /**
   * Sends what the file allows while the client takes it; ends or resets when the file did. A write
   * can run the client's drain handler before it returns (Netty tells of a writable channel as soon
   * as a flush empties its queue), and so this method again: that nested call only asks the running
   * one to look once more, or it would send from an offset the running one is about to pass.
   */
  void pump() {
    wakePosted.set(false);
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        pumpOnce();
      } while (pumpAgain);
    } finally {
      pumping = false;
    }
  }

  private void pumpOnce() {
    if (done || busy) {
      return; // what is under way pumps again when it is back
    }
    GrowingFile.End end = file.end();
    if (end == GrowingFile.End.FAILED || end == GrowingFile.End.STOPPED) {
      finish(Ended.RESET);
      return;
    }
    long limit = file.readable();
    if (end == GrowingFile.End.VERIFIED && limit - offset > CHUNK && !client.full() && sendRest()) {
      return;
    }
    while (offset < limit) {
      if (client.full()) {
        if (waitingSince < 0) {
          waitingSince = clock.getAsLong();
          client.onDrain(this::drained);
        }
        return;
      }
      int n = (int) Math.min(CHUNK, limit - offset);
      if (file.written() - offset > NEAR) {
        readAside(n);
        return;
      }
      ByteBuf chunk = read(offset, n);
      if (chunk == null) {
        finish(Ended.RESET);
        return;
      }
      send(chunk);
    }
    if (end == GrowingFile.End.VERIFIED && offset == file.written()) {
      done = true;
      file.detach(wake);
      client.end();
      ended.accept(Ended.COMPLETE);
    }
  }

  /**
   * {@code n} bytes from {@code at} in a pooled direct buffer (read by the kernel into it and sent
   * from it, with no copy through the heap); null when they cannot be read.
   */
  private ByteBuf read(long at, int n) {
    ByteBuf chunk = PooledByteBufAllocator.DEFAULT.directBuffer(n, n);
    try {
      ByteBuffer into = chunk.nioBuffer(0, n);
      while (into.hasRemaining()) {
        if (file.read(into, at + into.position()) < 0) {
          throw new IOException("the file is shorter than was written");
        }
      }
      chunk.writerIndex(n);
      return chunk;
    } catch (IOException | RuntimeException e) {
      chunk.release();
      return null;
    }
  }

  /** Reads the next {@code n} bytes on a worker, then sends them and goes on, on the context. */
  private void readAside(int n) {
    busy = true;
    long at = offset;
    aside.execute(
        () -> {
          ByteBuf chunk = read(at, n);
          onContext.execute(
              () -> {
                busy = false;
                if (done) {
                  if (chunk != null) {
                    chunk.release();
                  }
                } else if (chunk == null) {
                  finish(Ended.RESET);
                } else {
                  send(chunk);
                  pump();
                }
              });
        });
  }

  /**
   * The file is whole and checked: the rest goes by the kernel, as a cached file does, not through
   * user space a chunk at a time, a region at a time; false when the client cannot take it so.
   */
  private boolean sendRest() {
    long count = Math.min(REGION, file.written() - offset);
    busy = true; // no other send meanwhile; the reader stays attached: the file stays open
    boolean sending = client.send(file.region(offset, count), sent -> restSent(sent, count));
    if (!sending) {
      busy = false;
    }
    return sending;
  }

  private void restSent(boolean sent, long count) {
    busy = false;
    if (done) {
      return; // the client left meanwhile
    }
    if (!sent) {
      finish(Ended.RESET);
      return;
    }
    offset += count;
    served.accept(count);
    pump(); // the next region, or the response's end
  }

  private void send(ByteBuf chunk) {
    int n = chunk.readableBytes();
    offset += n; // before the write, which may run the drain handler
    served.accept(n);
    client.write(chunk);
  }

  private void drained() {
    waitingSince = -1;
    pump();
  }

  /** How long the client has left its full write queue untaken; 0 while it takes. */
  long stalledFor() {
    return waitingSince < 0 ? 0 : clock.getAsLong() - waitingSince;
  }

  /** A client that took nothing for its stall bound: reset; the transfer goes on for the others. */
  void cutIfStalled() {
    if (!done && waitingSince >= 0) {
      finish(Ended.RESET);
    }
  }

  /** The client's connection is gone. */
  void left() {
    if (!done) {
      done = true;
      file.detach(wake);
      ended.accept(Ended.LEFT);
    }
  }

  private void finish(Ended how) {
    done = true;
    file.detach(wake);
    if (how == Ended.RESET) {
      client.reset();
    }
    ended.accept(how);
  }
}
