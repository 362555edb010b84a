package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.proxy.FileStore.CachedFile;
import dev.pypimirror.operator.serving.LogThrottle;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds on the cache's files against their deletion, by every process sharing the volume (replicas
 * on one ReadWriteMany volume): a serve holds a shared lock on the file's lock file in {@code
 * <cache>/.proxy/locks/}, and a file is deleted only while its lock file is held exclusively. The
 * lock is on a companion file, not the file itself: POSIX locks belong to the process, and the HTTP
 * server's own open and close of the file it sends would release them. Within the process one lock
 * per file is taken (the JVM refuses a second one, and closing a second descriptor of the file
 * would release the first), shared by every serve of that file. The lock is kept for {@link
 * #LINGER} after the last serve of the file ends, so a file served again and again (a popular
 * wheel) takes it once, not at every request; another replica's eviction waits that long. All of
 * this blocks but {@link #holdAgain}: off the event loop.
 */
final class VolumeHolds {
  private static final Logger LOG = LoggerFactory.getLogger(VolumeHolds.class);

  /** How long a file's lock is kept after its last serve ended. */
  static final Duration LINGER = Duration.ofSeconds(2);

  private static final ScheduledExecutorService LETTING_GO =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("proxy-holds"));

  private final Path files;
  private final Path locks;
  // this process's holds on files being served, one volume lock per file
  private final ConcurrentHashMap<String, Lease> serving = new ConcurrentHashMap<>();
  private final AtomicBoolean sweepDue = new AtomicBoolean(); // a look at idle leases is scheduled
  private final LogThrottle lockFailures =
      new LogThrottle(Duration.ofMinutes(1), 1, System::nanoTime);

  /**
   * @param files the folder of the cache's files
   * @param locks the folder of their lock files
   */
  VolumeHolds(Path files, Path locks) {
    this.files = files;
    this.locks = locks;
  }

  /**
   * Holds {@code name} until {@link Hold#release}: the file {@code lookup} finds once it is locked;
   * empty when the cache does not hold it (or another process is deleting it now).
   *
   * @throws FileStore.CannotHold when the file is there but its lock cannot be taken for another
   *     reason than a volume without locks
   */
  Optional<Hold> hold(String name, Supplier<Optional<CachedFile>> lookup) {
    while (true) {
      Lease lease = serving.computeIfAbsent(name, n -> new Lease());
      lease.lock.lock();
      try {
        if (lease.gone) {
          continue; // ended meanwhile: a new one
        }
        // no lock file for a name the cache does not hold: any client can ask for any name
        if (!lease.held && !Files.isRegularFile(files.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
          if (Files.exists(locks.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
            dropLockFile(name); // the file went by other means than eviction
          }
          lease.end(name);
          return Optional.empty();
        }
        if (!lease.held && !lockVolume(lease, name)) {
          lease.end(name);
          return Optional.empty();
        }
        // once locked, the file is deleted by nobody (eviction takes the lock first)
        Optional<CachedFile> file = lookup.get();
        if (file.isEmpty()) {
          if (lease.holders == 0) {
            lease.unlockVolume(name);
            dropLockFile(name); // it went between the look and the lock
            lease.end(name);
          }
          return Optional.empty();
        }
        lease.holders++;
        return Optional.of(new Hold(lease, file.get()));
      } finally {
        lease.lock.unlock();
      }
    }
  }

  /**
   * As {@link #hold}, only when this process holds {@code file} already for another serve: no I/O
   * (for the event loop); empty otherwise.
   */
  Optional<Hold> holdAgain(CachedFile file) {
    Lease lease = serving.get(file.name());
    if (lease == null || !lease.lock.tryLock()) {
      return Optional.empty();
    }
    try {
      if (lease.gone || !lease.held) {
        return Optional.empty();
      }
      lease.holders++;
      return Optional.of(new Hold(lease, file));
    } finally {
      lease.lock.unlock();
    }
  }

  /** A file held against deletion by one serve. */
  final class Hold {
    private final Lease lease;
    private final CachedFile file;
    private final AtomicBoolean released = new AtomicBoolean();

    private Hold(Lease lease, CachedFile file) {
      this.lease = lease;
      this.file = file;
    }

    CachedFile file() {
      return file;
    }

    /**
     * Lets the file go (once, however often it is called), without I/O: the last serve of it in
     * this process leaves the volume lock kept for {@link #LINGER}, then given up off the caller's
     * thread.
     */
    void release() {
      if (!released.compareAndSet(false, true)) {
        return;
      }
      if (lease.lock.tryLock()) {
        releaseLocked();
      } else { // a serve taking the lease holds it through I/O: not on this (event-loop) thread
        LETTING_GO.execute(
            () -> {
              lease.lock.lock();
              releaseLocked();
            });
      }
    }

    /** Called holding the lease's lock, which it gives back. */
    private void releaseLocked() {
      try {
        if (--lease.holders == 0) {
          lease.idleSince = System.nanoTime();
          sweepLater();
        }
      } finally {
        lease.lock.unlock();
      }
    }
  }

  /**
   * Has the idle leases looked at {@link #LINGER} from now, unless a look is due already: one task
   * per store, not one per serve.
   */
  private void sweepLater() {
    if (sweepDue.compareAndSet(false, true)) {
      LETTING_GO.schedule(this::sweep, LINGER.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Ends the leases whose last serve ended {@link #LINGER} ago; looks again while some are idle.
   */
  private void sweep() {
    sweepDue.set(false);
    if (endIdle(LINGER.toNanos())) {
      sweepLater();
    }
  }

  /** Ends every lease no serve holds now, as if their {@link #LINGER} had passed. */
  void letGoIdle() {
    endIdle(0);
  }

  /** Ends the leases idle for {@code nanos} or more; whether others are idle still. */
  private boolean endIdle(long nanos) {
    long now = System.nanoTime();
    boolean idleLeft = false;
    for (var entry : serving.entrySet()) {
      Lease lease = entry.getValue();
      if (!lease.lock.tryLock()) { // held through I/O (NFS) by a serve: the next look takes it
        idleLeft = true;
        continue;
      }
      try {
        if (lease.gone || lease.holders > 0) {
          continue;
        }
        if (now - lease.idleSince >= nanos) {
          lease.end(entry.getKey());
        } else {
          idleLeft = true;
        }
      } finally {
        lease.lock.unlock();
      }
    }
    return idleLeft;
  }

  /**
   * Runs {@code deletion} (a file's, returning its size, or -1 when it could not) unless {@code
   * name} is being served, here or by another process on the volume: only while this process holds
   * its lock file exclusively, so no serve can open the file between the check and the delete.
   * Returns what {@code deletion} returned, or -1 when the file is served or its lock file cannot
   * be locked.
   */
  long whileUnserved(String name, LongSupplier deletion) {
    Lease lease = serving.computeIfAbsent(name, n -> new Lease());
    if (!lease.lock.tryLock()) {
      return -1; // a serve is taking or giving up its hold now
    }
    try {
      if (lease.gone || lease.holders > 0) {
        return -1;
      }
      lease.unlockVolume(name); // a lock kept after the last serve: this process's own
      long[] deleted = {-1};
      exclusively(name, () -> deleted[0] = deletion.getAsLong());
      return deleted[0];
    } finally {
      if (lease.holders == 0) {
        lease.end(name); // this deletion's own lease (any serve makes a new one)
      }
      lease.lock.unlock();
    }
  }

  /**
   * Takes the shared volume lock for {@code lease}; false when another process holds the file
   * exclusively, true without a lock on a volume that takes none (this process's hold alone:
   * deletion there takes nothing). On any other error the lease ends and the file is not held.
   */
  private boolean lockVolume(Lease lease, String name) {
    try {
      Optional<FileChannel> locked = lockFile(name, true);
      lease.channel = locked.orElse(null);
      lease.held = locked.isPresent();
      return lease.held;
    } catch (IOException | UnsupportedOperationException e) {
      lockFailed(e);
      if (withoutLocks(e)) {
        lease.held = true;
        return true;
      }
      lease.end(name);
      throw new FileStore.CannotHold(name, e);
    }
  }

  /**
   * Deletes the lock file of a name the cache no longer holds, only while holding it exclusively
   * (another process's serve may hold it still); left as it is otherwise. Called holding the name's
   * lease, with no lock of this process on the file.
   */
  private void dropLockFile(String name) {
    exclusively(name, () -> {});
  }

  /**
   * With the lock file of {@code name} held exclusively (no serve holds the file, here or in
   * another process), runs {@code action}, then deletes the lock file when the file is gone (still
   * locked: its next user makes a new one). Called holding the name's lease, with no lock of this
   * process on the file; does nothing when the lock file cannot be locked.
   */
  private void exclusively(String name, Runnable action) {
    Optional<FileChannel> locked;
    try {
      locked = lockFile(name, false);
    } catch (IOException e) {
      lockFailed(e);
      return;
    }
    if (locked.isEmpty()) {
      return;
    }
    try (FileChannel exclusive = locked.get()) {
      action.run();
      if (!Files.exists(files.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
        Files.deleteIfExists(locks.resolve(name));
      }
    } catch (IOException e) {
      LOG.warn("cannot delete the lock file of {}: {}", name, e.toString());
    }
  }

  /**
   * This process's hold on one file: how many serves have it, and the shared lock on its lock file
   * they share. A lease that {@link #gone ended} is out of the map and not used again.
   */
  private final class Lease {
    final ReentrantLock lock = new ReentrantLock();
    int holders;
    boolean gone;
    // the volume lock is taken (or the volume takes none): kept for LINGER after the last serve
    boolean held;
    // when the last serve ended (System.nanoTime): the lease ends LINGER after, if none came
    long idleSince;
    // the lock file's channel holding the shared lock; null on a volume without locks
    FileChannel channel;

    /**
     * Gives up the volume lock, then leaves the map. Called holding {@link #lock}: the next lease
     * of the name opens the lock file only after this one's descriptor is closed (closing it would
     * release that lease's lock too, POSIX locks being the process's).
     */
    void end(String name) {
      unlockVolume(name);
      gone = true;
      serving.remove(name, this);
    }

    void unlockVolume(String name) {
      held = false;
      if (channel != null) {
        try {
          channel.close(); // releases the lock
        } catch (IOException e) {
          LOG.warn("cannot close the lock file of {}: {}", name, e.toString());
        }
        channel = null;
      }
    }
  }

  /**
   * Opens the lock file of {@code name} (made when missing) and locks it, shared or exclusive,
   * without waiting: empty when another process (or, within this one, another channel) holds a lock
   * that excludes it. The lock is on the file found at the path: one a deletion removed between the
   * open and the lock is let go, and the one now there taken.
   *
   * @throws IOException when the volume takes no locks, or the lock file cannot be made
   */
  Optional<FileChannel> lockFile(String name, boolean shared) throws IOException {
    Path path = locks.resolve(name);
    for (int attempt = 0; attempt < 3; attempt++) {
      Object before = fileKey(path);
      if (before == null) {
        try {
          Files.createFile(path);
        } catch (FileAlreadyExistsException e) {
          // made meanwhile
        }
        continue;
      }
      FileChannel channel =
          FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
      boolean keep = false;
      try {
        if (channel.tryLock(0, Long.MAX_VALUE, shared) == null) {
          return Optional.empty();
        }
        // the file opened is the one looked at before, still at the path (nothing swapped it
        // between, or its inode number would differ): the lock holds the name
        keep = before.equals(fileKey(path));
        if (keep) {
          return Optional.of(channel);
        }
      } catch (OverlappingFileLockException e) {
        return Optional.empty();
      } finally {
        if (!keep) {
          channel.close();
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Whether a lock's error says the volume takes no locks at all: {@code ENOLCK} (NFSv3 without a
   * lock manager), which the JDK reports as an IOException with the C library's words for it, or a
   * file system that does not support locks. Any other error (too many open files, no space for the
   * lock file, no permission) is not that: the file is not held.
   */
  static boolean withoutLocks(Exception e) {
    return e instanceof UnsupportedOperationException
        || e.getMessage() != null && e.getMessage().contains("No locks available");
  }

  private static Object fileKey(Path path) throws IOException {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .fileKey();
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private void lockFailed(Exception e) {
    if (lockFailures.mayLog("lock")) {
      LOG.warn(
          "cannot lock in {}: {}; a cached file that cannot be locked is neither sent (503) nor"
              + " evicted, except on a volume without locks, where files being served are held"
              + " against this process's eviction only (logged at most once a minute)",
          locks,
          e.toString());
    }
  }
}
