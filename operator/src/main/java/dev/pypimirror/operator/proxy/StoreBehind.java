package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.simple.FileHash;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hashes a transfer's chunks (its sha256, and the page's other algorithm when it gives one) and
 * writes them to the cache behind the client, in order, on a small shared pool of threads, so a
 * chunk goes to the client as soon as it arrives. Bounded: {@link #behind} says when more than
 * {@link #CAP} bytes wait, and the relay then asks upstream for no more until {@code caughtUp}
 * runs. When the file is being stored, its {@link GrowingFile} learns of every write (before the
 * chunk is hashed) and of the end: verified, failed, or the store stopped. A chunk whose writing or
 * hashing throws fails the transfer: nothing more is written or hashed, the temporary file goes,
 * the readers are reset, {@code failed} runs and the end is a failure, never a file published under
 * the digest of some of its chunks.
 */
final class StoreBehind {
  /** Bytes queued for hashing and writing before the relay stops asking upstream for more. */
  static final long CAP = Defaults.PROXY_STORE_LAG.defaultValue();

  private static final Logger LOG = LoggerFactory.getLogger(StoreBehind.class);
  private static final ExecutorService POOL =
      Executors.newFixedThreadPool(
          Defaults.PROXY_STORE_THREADS.defaultValue(), DaemonThreads.named("proxy-store"));

  private final Optional<FileStore.Writer> writer;
  private final Runnable caughtUp;
  private final GrowingFile growing; // null: none (not stored, or no reader may attach)
  private final TransferDigests digests;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicLong queued = new AtomicLong();
  private final Runnable failed;
  private volatile boolean aborted;
  private volatile boolean broken; // a chunk's task threw: the transfer fails

  /**
   * @param caughtUp run (on a store thread) when the queue drops to the cap or below again
   * @param expected the hash the page gives for the bytes (null: none the proxy can check)
   */
  StoreBehind(Optional<FileStore.Writer> writer, Runnable caughtUp, FileHash expected) {
    this(writer, caughtUp, null, expected, () -> {});
  }

  /**
   * @param growing told of each write and of the end (null: nobody reads the file while written)
   * @param failed run (on a store thread) once, when a chunk's writing or hashing threw
   */
  StoreBehind(
      Optional<FileStore.Writer> writer,
      Runnable caughtUp,
      GrowingFile growing,
      FileHash expected,
      Runnable failed) {
    this.writer = writer;
    this.caughtUp = caughtUp;
    this.growing = growing;
    this.digests = new TransferDigests(expected);
    this.failed = failed;
  }

  /** Whether more than {@link #CAP} bytes wait to be hashed and written. */
  boolean behind() {
    return queued.get() > CAP;
  }

  /** Queues a chunk the caller no longer changes. */
  void add(ByteBuffer chunk) {
    int size = chunk.remaining();
    queued.addAndGet(size);
    submit(
        () -> {
          try {
            if (!aborted && !broken) {
              writer.ifPresent(w -> written(w, chunk, size));
              digests.update(chunk);
            }
          } catch (RuntimeException e) {
            broke(e);
          } finally { // a chunk that failed still leaves the queue, or the relay would wait forever
            long left = queued.addAndGet(-size);
            if (left <= CAP && left + size > CAP) {
              caughtUp.run();
            }
          }
        });
  }

  private void written(FileStore.Writer w, ByteBuffer chunk, int size) {
    w.write(chunk);
    if (growing != null) {
      if (w.storing()) {
        growing.wrote(size);
      } else {
        growing.ended(GrowingFile.End.STOPPED);
      }
    }
  }

  /** On a store thread: a chunk's task threw; the transfer fails, nothing more is stored. */
  private void broke(RuntimeException e) {
    if (broken) {
      return;
    }
    broken = true;
    LOG.error("storing a transfer failed: it is cut and nothing is stored", e);
    try {
      writer.ifPresent(FileStore.Writer::abort);
    } finally {
      if (growing != null) {
        growing.ended(GrowingFile.End.FAILED);
      }
      failed.run();
    }
  }

  /**
   * After every chunk: the digests of all, and whether the file is stored (published when they
   * match the expected hash, or when none was expected, and no chunk failed), handed to {@code
   * done}.
   */
  void finish(Consumer<Finished> done) {
    submit(
        () -> {
          TransferDigests.Checked checked = digests.done();
          boolean stored = false;
          try {
            stored = !broken && writer.map(w -> w.publish(checked)).orElse(false);
          } catch (RuntimeException e) { // still an end for the relay and the readers
            LOG.error("publishing a transfer failed", e);
          }
          Finished finished = new Finished(checked, stored, broken);
          if (growing != null) { // stopped earlier stays stopped; the open file has all the bytes
            growing.ended(finished.verified() ? GrowingFile.End.VERIFIED : GrowingFile.End.FAILED);
          }
          done.accept(finished);
        });
  }

  /**
   * What a finished transfer hashed to, whether it is now in the cache, and whether a chunk failed
   * (its digests then are not those of the bytes: the transfer failed).
   */
  record Finished(TransferDigests.Checked checked, boolean stored, boolean failed) {
    /** Whether the client may have the file: every chunk taken and the expected hash. */
    boolean verified() {
      return !failed && checked.matches();
    }
  }

  /** Drops what still waits and the temporary file, then runs {@code done}. */
  void abort(Runnable done) {
    aborted = true;
    if (growing != null) {
      growing.ended(GrowingFile.End.FAILED); // its readers are reset now, not after the queue
    }
    submit(
        () -> {
          try {
            writer.ifPresent(FileStore.Writer::abort);
          } finally {
            done.run();
          }
        });
  }

  private void submit(Runnable task) {
    tasks.add(task);
    if (draining.compareAndSet(false, true)) {
      POOL.execute(this::drain);
    }
  }

  /** Runs the queued tasks in order, one thread at a time per transfer. */
  private void drain() {
    while (true) {
      Runnable task;
      while ((task = tasks.poll()) != null) {
        try {
          task.run();
        } catch (RuntimeException e) {
          LOG.error("storing a transfer failed", e);
        }
      }
      draining.set(false);
      if (tasks.isEmpty() || !draining.compareAndSet(false, true)) {
        return;
      }
    }
  }
}
