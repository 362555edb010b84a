package dev.pypimirror.operator.proxy;

import io.netty.channel.DefaultFileRegion;
import io.netty.channel.FileRegion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A file being fetched into the cache, as its readers see it: the temporary file the store writes
 * (opened once for reading, so it stays readable after it is renamed or deleted), the length its
 * upstream announced, how many bytes are written so far and how the transfer ended. Clients attach
 * to it ({@link TailReader}) and read from their own offsets up to what is written, woken on every
 * write; only a transfer that ended {@link End#VERIFIED} lets them have its last bytes.
 *
 * <p>The store's thread publishes progress and the end; readers read from any thread (positional
 * reads). The file is closed once the transfer ended and no reader is attached.
 */
final class GrowingFile {
  private static final Logger LOG = LoggerFactory.getLogger(GrowingFile.class);

  /** How a transfer ended, as its readers must take it. */
  enum End {
    /** Every byte is written and its sha256 is the expected one: readers may finish. */
    VERIFIED,
    /** Cut, failed or not the expected bytes: every reader is reset. */
    FAILED,
    /**
     * The store stopped writing (volume above its mark, a write error): the file ends short, its
     * readers are reset; the leader's live client goes on from memory.
     */
    STOPPED
  }

  private final FileChannel channel;
  private final Executor closing;
  private final long length;
  private final List<Runnable> wakes = new CopyOnWriteArrayList<>();
  private volatile long written;
  private volatile End end; // set once, after the last progress
  private int attached; // guarded by this
  private long unattendedSince = System.nanoTime(); // guarded by this; -1 while attached
  private boolean closed; // guarded by this

  private GrowingFile(FileChannel channel, long length, Executor closing) {
    this.channel = channel;
    this.length = length;
    this.closing = closing;
  }

  /**
   * Opens {@code temporary} (which the store writes) for reading, closed on the caller's thread.
   *
   * @param length the upstream's Content-Length, or -1
   */
  static GrowingFile open(Path temporary, long length) throws IOException {
    return open(temporary, length, Runnable::run);
  }

  /**
   * As {@link #open(Path, long)}, closed by {@code closing}: the last reader detaches on an event
   * loop, and closing a file may wait for its volume (a network round trip on NFS).
   */
  static GrowingFile open(Path temporary, long length, Executor closing) throws IOException {
    return new GrowingFile(FileChannel.open(temporary, StandardOpenOption.READ), length, closing);
  }

  /** The upstream's Content-Length, or -1. */
  long length() {
    return length;
  }

  /** Bytes written to the file so far. */
  long written() {
    return written;
  }

  /** How the transfer ended; null while it goes on. */
  End end() {
    return end;
  }

  /**
   * How far a reader may read now: all of it once verified; else what is written, short of the last
   * byte the upstream announced (held back until the sha256 is checked: a client that has all of
   * Content-Length takes the file for complete; without a length, the end of the chunked body is
   * what is held back).
   */
  long readable() {
    End ended = end; // before written: once ended, written is final
    long now = written;
    if (ended == End.VERIFIED) {
      return now;
    }
    return length >= 0 ? Math.min(now, length - 1) : now;
  }

  /** On the store's thread, after each write: {@code n} more bytes are in the file. */
  void wrote(long n) {
    written += n;
    wakeAll();
  }

  /** On the store's thread, once: how the transfer ended. */
  void ended(End how) {
    synchronized (this) {
      if (end != null) {
        return;
      }
      end = how;
      closeIfDone();
    }
    wakeAll();
  }

  /**
   * Attaches a reader woken by {@code wake} on every write and at the end; false once the transfer
   * ended (the reader then takes the file from the cache, whole and checked, or fetches it).
   */
  boolean attach(Runnable wake) {
    synchronized (this) {
      if (end != null) {
        return false;
      }
      attached++;
      unattendedSince = -1;
    }
    wakes.add(wake);
    return true;
  }

  /** A reader is done (finished, reset or its client gone). */
  void detach(Runnable wake) {
    if (!wakes.remove(wake)) {
      return;
    }
    synchronized (this) {
      if (--attached == 0) {
        unattendedSince = System.nanoTime();
        closeIfDone();
      }
    }
  }

  /**
   * Fails the transfer when no reader has been attached for {@code stallNanos} by {@code now}
   * (System.nanoTime), at once for {@link #attach}: a reader attaching meanwhile either keeps the
   * transfer or is refused (and fetches the file itself), never attached to a transfer being cut.
   * Returns whether it failed it.
   */
  boolean failIfUnattended(long now, long stallNanos) {
    synchronized (this) {
      if (end != null || attached > 0 || now - unattendedSince < stallNanos) {
        return false;
      }
      end = End.FAILED;
      closeIfDone();
    }
    wakeAll();
    return true;
  }

  /**
   * Reads into {@code into} from {@code position}, as {@link FileChannel#read(ByteBuffer, long)}.
   */
  int read(ByteBuffer into, long position) throws IOException {
    return channel.read(into, position);
  }

  /**
   * {@code count} bytes from {@code position}, for the kernel to send (sendfile); the file stays
   * open for the others (a reader stays attached until its region is sent).
   */
  FileRegion region(long position, long count) {
    return new DefaultFileRegion(channel, position, count) {
      @Override
      protected void deallocate() {
        // the channel is the file's, closed once no reader is attached
      }
    };
  }

  private void wakeAll() {
    for (Runnable wake : wakes) {
      wake.run();
    }
  }

  private void closeIfDone() {
    if (end != null && attached == 0 && !closed) {
      closed = true;
      closing.execute(
          () -> {
            try {
              channel.close();
            } catch (IOException e) {
              LOG.warn("cannot close a transfer's file: {}", e.toString());
            }
          });
    }
  }
}
