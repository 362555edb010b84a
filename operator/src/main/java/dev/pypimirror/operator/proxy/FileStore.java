package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.cache.CacheLayout;
import dev.pypimirror.operator.simple.FileHash;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache's files, in the layout {@code index} and {@code ingest} use: every file flat in {@code
 * <cache>/_files/} under its own name, mode 0644. What the proxy fetched is also marked in {@code
 * <cache>/.proxy/fetched/} (the marker's time: when it was last served), so eviction takes only
 * those, never what a sync put there.
 *
 * <p>A file is written to a hidden temporary file beside its place (never indexed), checked against
 * its sha256, and published with a hard link, which never replaces a file; anything short of that
 * deletes the temporary file. All of this blocks: call it off the event loop.
 *
 * <p>A transfer reserves the room its upstream announced before it starts (none announced: room in
 * steps as it writes), and the room check counts what transfers under way have reserved and not yet
 * written, so concurrent transfers cannot together pass the high-water mark.
 *
 * <p>A file being served is held against eviction by every process sharing the volume ({@link
 * VolumeHolds}): eviction deletes a file only while no serve holds it.
 */
public final class FileStore {
  private static final Logger LOG = LoggerFactory.getLogger(FileStore.class);

  static final String PROXY_DIR = ".proxy";
  static final String FETCHED_DIR = "fetched";
  static final String PAGES_DIR = "pages";
  static final String LOCKS_DIR = "locks";

  /** Wheel, sdist and metadata names use these characters only. */
  private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+!-]*");

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  /**
   * A transfer without a length reserves room in steps of 1 MiB, or of its volume's 1/1024 when
   * that is less.
   */
  private static final long MAX_STEP = 1 << 20;

  private final Path root;
  private final Path files;
  private final Path fetched;
  private final Path pages;
  private final Path locks;
  private final double highWater;
  private final Clock clock;
  private final Disk disk;
  private final long step;
  // bytes reserved by transfers under way and not yet written: taken under this store's lock,
  // given back without it, so a write never waits for an eviction
  private final AtomicLong reserved = new AtomicLong();
  private final VolumeHolds holds;
  // files are never replaced, and only eviction removes them: what was found stays true
  private final ConcurrentHashMap<String, CachedFile> present = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Long> lastServed = new ConcurrentHashMap<>();
  private final AtomicLong bytes = new AtomicLong();
  private volatile boolean full;

  /**
   * @param highWater the share of the volume above which fetched files are evicted (0.9)
   */
  public FileStore(Path cacheRoot, double highWater, Clock clock) throws IOException {
    this(cacheRoot, highWater, clock, Disk::of);
  }

  /** With the volume {@code disks} gives for the files' folder (a test's stand-in). */
  FileStore(Path cacheRoot, double highWater, Clock clock, Disk.Factory disks) throws IOException {
    this.root = cacheRoot.toRealPath();
    this.files = directory(root.resolve(CacheLayout.FILES_DIR));
    Path proxy = directory(root.resolve(PROXY_DIR));
    this.fetched = directory(proxy.resolve(FETCHED_DIR));
    this.pages = directory(proxy.resolve(PAGES_DIR));
    this.locks = directory(proxy.resolve(LOCKS_DIR));
    this.holds = new VolumeHolds(files, locks);
    this.highWater = highWater;
    this.clock = clock;
    this.disk = disks.of(files);
    this.step = Math.min(MAX_STEP, disk.totalSpace() / 1024);
    // a crashed run's temporary files; not another replica's (shared volume) still being written
    Instant before = clock.instant().minus(STALE_TEMPORARY);
    try (DirectoryStream<Path> stale = Files.newDirectoryStream(files, ".proxy-*.part")) {
      for (Path temporary : stale) {
        if (Files.getLastModifiedTime(temporary).toInstant().isBefore(before)) {
          Files.deleteIfExists(temporary);
        }
      }
    }
  }

  /** How long a temporary file goes unwritten before a starting proxy takes it for a crash's. */
  static final Duration STALE_TEMPORARY = Duration.ofHours(1);

  private static Path directory(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      } catch (FileAlreadyExistsException e) {
        // made meanwhile
      }
    }
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(dir + " is not a directory (a link or a file): refusing to use it");
    }
    return dir;
  }

  public Path root() {
    return root;
  }

  Path pages() {
    return pages;
  }

  /** Whether a name may be a file of the cache: plain characters, no path. */
  public static boolean plainName(String name) {
    return name.length() <= 255 && PLAIN_NAME.matcher(name).matches();
  }

  /** The cached file of that name: a regular file, never a link. */
  public Optional<CachedFile> cached(String name) {
    if (!plainName(name)) {
      return Optional.empty();
    }
    Path path = files.resolve(name);
    try {
      BasicFileAttributes attributes =
          Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!attributes.isRegularFile()) {
        return Optional.empty();
      }
      Marker marker = marker(name).orElse(Marker.NONE);
      CachedFile file =
          new CachedFile(
              name, path, attributes.size(), marker.sha256(), marker.origin(), marker.checked());
      present.put(name, file);
      return Optional.of(file);
    } catch (NoSuchFileException e) {
      forget(name); // another replica may have evicted it
      return Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * The sha256 the proxy computed when it fetched {@code name} (kept in its marker), for a link
   * whose page gives no sha256: only when the fetched file is that link's ({@link
   * CachedFile#answers}); empty for a file it did not fetch.
   *
   * @param expected the hash the link gives (null: none the proxy can check)
   * @param upstream the upstream whose page lists it (null: only the cache does)
   */
  public Optional<String> knownSha256(String name, FileHash expected, String upstream) {
    // a marker whose file is gone (an eviction cut short) vouches for nothing
    return marker(name)
        .filter(m -> answers(m.sha256(), m.origin(), m.checked(), expected, upstream))
        .filter(m -> Files.isRegularFile(files.resolve(name), LinkOption.NOFOLLOW_LINKS))
        .map(Marker::sha256);
  }

  /**
   * What the proxy wrote down when it fetched {@code name}: its sha256, the upstream it came from
   * (null in markers written before the upstream was; a sync's file has no marker at all), and the
   * page's hash of another algorithm its bytes were checked against (null: sha256 or none).
   */
  private record Marker(String sha256, String origin, FileHash checked) {
    static final Marker NONE = new Marker(null, null, null);
  }

  private Optional<Marker> marker(String name) {
    if (!plainName(name)) {
      return Optional.empty();
    }
    try {
      List<String> lines = Files.readAllLines(fetched.resolve(name));
      String sha = lines.isEmpty() ? "" : lines.get(0).strip();
      if (!SHA256.matcher(sha).matches()) {
        return Optional.empty();
      }
      String origin = lines.size() > 1 && !lines.get(1).isBlank() ? lines.get(1).strip() : null;
      FileHash checked = lines.size() > 2 ? FileHash.parse(lines.get(2)).orElse(null) : null;
      return Optional.of(new Marker(sha, origin, checked));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * A file of the cache.
   *
   * @param sha256 the sha256 the proxy computed when it fetched the file (null: a sync's file)
   * @param origin the upstream the proxy fetched it from (null: unknown, or a sync's file)
   * @param checked the page's hash of another algorithm than sha256 its bytes were checked against
   *     when fetched (null: none)
   */
  public record CachedFile(
      String name, Path path, long size, String sha256, String origin, FileHash checked) {
    /** Whether it is the file a page's link names: {@link FileStore#answers}. */
    public boolean answers(FileHash expected, String upstream) {
      return FileStore.answers(sha256, origin, checked, expected, upstream);
    }
  }

  /**
   * Whether a file the proxy fetched (its sha256, origin and other checked hash) is the one a
   * page's link names: compared by the link's hash when the file's marker has a digest in that
   * algorithm, else (no hash, or one of an algorithm the file was not checked with) taken as the
   * same when it came from the upstream that lists it now. A sync's file, or one fetched before the
   * proxy wrote its upstream down, is taken as the link's.
   *
   * @param expected the hash the link gives (null: none the proxy can check)
   * @param upstream the upstream whose page lists it (null: only the cache does)
   */
  static boolean answers(
      String sha256, String origin, FileHash checked, FileHash expected, String upstream) {
    if (expected != null) {
      String known =
          expected.algorithm().equals("sha256")
              ? sha256
              : checked != null && checked.algorithm().equals(expected.algorithm())
                  ? checked.hex()
                  : null;
      if (known != null) {
        return known.equals(expected.hex());
      }
    }
    return origin == null || upstream == null || origin.equals(upstream);
  }

  /** Forgets a file that turned out to be gone (evicted by another replica, removed by hand). */
  public void forget(String name) {
    present.remove(name);
    lastServed.remove(name);
  }

  /** Whether this store still remembers {@code name} as present or served (for tests). */
  boolean remembers(String name) {
    return present.containsKey(name) || lastServed.containsKey(name);
  }

  /**
   * Holds the cached file {@code name} against eviction, by this process and by every other one
   * sharing the volume, until {@link Held#release}; empty when the cache does not hold it (or
   * another process is evicting it now). Blocking (the lock file is opened and locked, the file
   * looked at): off the event loop.
   *
   * @throws CannotHold when the cache holds the file but its lock cannot be taken for another
   *     reason than a volume without locks: it must not be sent then
   */
  public Optional<Held> hold(String name) {
    if (!plainName(name)) {
      return Optional.empty();
    }
    Optional<VolumeHolds.Hold> hold = holds.hold(name, () -> cached(name));
    if (hold.isEmpty()) {
      forget(name);
      return Optional.empty();
    }
    if (served(name)) {
      touch(name);
    }
    return Optional.of(new Held(hold.get(), false));
  }

  /**
   * As {@link #hold}, only when this process holds the file already for another serve: no I/O (for
   * the event loop); empty otherwise.
   */
  public Optional<Held> holdAgain(String name) {
    CachedFile file = present.get(name);
    if (file == null) {
      return Optional.empty();
    }
    return holds.holdAgain(file).map(hold -> new Held(hold, served(name)));
  }

  /**
   * Notes {@code name} as served now; true when its marker's time is due to be brought up to it.
   */
  private boolean served(String name) {
    long now = clock.millis();
    Long before = lastServed.put(name, now);
    return before == null || before < now - 60_000;
  }

  /**
   * A served file held against eviction.
   *
   * @param touchDue whether its marker's time should be brought up to date ({@link #touch}, off the
   *     event loop), at most once a minute
   */
  public static final class Held {
    private final VolumeHolds.Hold hold;
    private final boolean touchDue;

    private Held(VolumeHolds.Hold hold, boolean touchDue) {
      this.hold = hold;
      this.touchDue = touchDue;
    }

    public CachedFile file() {
      return hold.file();
    }

    public boolean touchDue() {
      return touchDue;
    }

    /**
     * Lets the file go (once, however often it is called), without I/O or waiting: for the event
     * loop (the volume lock is given up later, off it: {@link VolumeHolds#LINGER}).
     */
    public void release() {
      hold.release();
    }
  }

  /** {@link VolumeHolds#lockFile}. */
  Optional<FileChannel> lockFile(String name, boolean shared) throws IOException {
    return holds.lockFile(name, shared);
  }

  /**
   * A cached file whose hold cannot be taken for another reason than a volume without locks (see
   * {@link VolumeHolds#withoutLocks}): it is not sent, since another replica could delete it
   * mid-send.
   */
  public static final class CannotHold extends RuntimeException {
    CannotHold(String name, Exception cause) {
      super("cannot hold " + name + " against eviction: " + cause, cause);
    }
  }

  /** Gives up the locks kept after the last serve of a file, at once (see {@link VolumeHolds}). */
  void letGoIdle() {
    holds.letGoIdle();
  }

  /** Sets the marker of a fetched file to now, so eviction after a restart knows its use too. */
  public void touch(String name) {
    try {
      Files.setLastModifiedTime(fetched.resolve(name), FileTime.from(clock.instant()));
    } catch (IOException e) {
      // not fetched by the proxy (a sync's file), or gone: nothing to note
    }
  }

  /** The bytes of fetched files, as last counted or changed. */
  public long fetchedBytes() {
    return bytes.get();
  }

  /** Whether the last write found the volume full (files then pass through unstored). */
  public boolean full() {
    return full;
  }

  /** Counts what the proxy fetched earlier (at start, on a worker). */
  public void count() throws IOException {
    long total = 0;
    try (DirectoryStream<Path> markers = Files.newDirectoryStream(fetched)) {
      for (Path marker : markers) {
        total += cached(marker.getFileName().toString()).map(CachedFile::size).orElse(0L);
      }
    }
    bytes.set(total);
  }

  /**
   * Starts writing {@code name}, reserving {@code expectedSize} bytes below the high-water mark;
   * empty when it cannot be stored (the volume is too full even after eviction, its temporary file
   * cannot be made, or it is not a plain name): the caller passes the file through unstored.
   *
   * @param expectedSize the upstream's Content-Length, or -1
   */
  public Optional<Writer> begin(String name, long expectedSize) {
    if (!plainName(name)) {
      return Optional.empty();
    }
    long size = Math.max(0, expectedSize);
    try {
      if (!reserve(size)) {
        full = true;
        return Optional.empty();
      }
    } catch (IOException e) {
      cannotStore(name, e, size);
      return Optional.empty();
    }
    Path temporary = null;
    try {
      temporary = Files.createTempFile(files, ".proxy-", ".part");
      return Optional.of(new Writer(name, temporary, disk.open(temporary), size));
    } catch (IOException e) {
      unreserve(size);
      if (temporary != null) {
        delete(temporary);
      }
      cannotStore(name, e, size);
      return Optional.empty();
    }
  }

  private void cannotStore(String name, IOException e, long wanted) {
    noteIfFull(e, wanted);
    LOG.warn("cannot store {}: {}; it passes through unstored", name, e.toString());
  }

  /** After a failed create or write: the volume is full only when the error says so. */
  private void noteIfFull(IOException e, long wanted) {
    if (outOfSpace(e, usableSpace(), wanted)) {
      full = true;
    }
  }

  private long usableSpace() {
    try {
      return disk.usableSpace();
    } catch (IOException e) {
      return Long.MAX_VALUE; // unknown: the error's own words decide
    }
  }

  /**
   * Whether a failed create or write means the volume is full: its error says no space is left (of
   * blocks or inodes) or a quota is reached, or fewer bytes are free than it wanted to write.
   */
  static boolean outOfSpace(IOException e, long usable, long wanted) {
    String reason =
        e instanceof FileSystemException fileSystem ? fileSystem.getReason() : e.getMessage();
    return reason != null
            && (reason.contains("No space left on device")
                || reason.contains("Disk quota exceeded"))
        || usable < Math.max(1, wanted);
  }

  private void delete(Path temporary) {
    try {
      Files.deleteIfExists(temporary);
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", temporary, e.toString());
    }
  }

  /**
   * A file being written: bytes in, then {@link #publish} or {@link #abort}. Called by one thread
   * at a time.
   */
  public final class Writer {
    private final String name;
    private final Path temporary;
    private final WritableByteChannel channel;
    private long written;
    // reserved for this transfer and not yet written
    private long reservation;
    private boolean failed;
    private String origin;

    private Writer(String name, Path temporary, WritableByteChannel channel, long reservation) {
      this.name = name;
      this.temporary = temporary;
      this.channel = channel;
      this.reservation = reservation;
    }

    /**
     * Names the upstream the bytes come from (its URL, never with credentials), written down with
     * the sha256 so that a later page from another upstream can tell the file is not its own.
     */
    public Writer from(String upstream) {
      this.origin = upstream;
      return this;
    }

    /** The temporary file the bytes go to, for reading them back while they are written. */
    Path temporary() {
      return temporary;
    }

    /** Whether it still stores: false once it stopped (no room, a write error). */
    boolean storing() {
      return !failed;
    }

    /**
     * Writes {@code buffer} (from its position, which it leaves unchanged). Past its reservation it
     * reserves more first; when that cannot be had, or the write fails, it stores no more: the
     * temporary file goes at once and the transfer goes on to the client unstored.
     */
    public void write(ByteBuffer buffer) {
      if (failed) {
        return;
      }
      ByteBuffer view = buffer.duplicate();
      int size = view.remaining();
      try {
        if (size > reservation) {
          long more = Math.max(size - reservation, step);
          if (!reserve(more)) {
            full = true;
            stop("the volume is above its high-water mark");
            return;
          }
          reservation += more;
        }
        while (view.hasRemaining()) {
          int n = channel.write(view);
          written += n;
          reservation -= n;
          unreserve(n);
        }
      } catch (IOException e) {
        noteIfFull(e, view.remaining());
        stop(e.toString());
      }
    }

    private void stop(String why) {
      if (!failed) {
        failed = true;
        LOG.warn("stops storing {} after {} bytes: {}; it passes through", name, written, why);
      }
      abort();
    }

    /**
     * Publishes the file under its name when {@code actualSha256} is what was expected (null: no
     * expectation). Returns whether it is now in the cache with those bytes.
     */
    public boolean publish(String actualSha256, String expectedSha256) {
      return publish(
          new TransferDigests.Checked(
              actualSha256,
              FileHash.sha256(actualSha256),
              expectedSha256 == null || expectedSha256.equals(actualSha256)));
    }

    /**
     * Publishes the file under its name when its digests matched the page's hash, its marker
     * keeping the sha256, the upstream and the page's other checked hash. Returns whether it is now
     * in the cache with those bytes.
     */
    boolean publish(TransferDigests.Checked digests) {
      String actualSha256 = digests.sha256();
      FileHash checked = digests.otherVerified();
      try {
        channel.close();
        if (failed || !digests.matches()) {
          return false;
        }
        Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-r--r--"));
        // the marker is written aside and moved in only once the file is ours: a transfer that
        // loses the race for the name (another replica's, on a shared volume) leaves the winner's
        Path marker = fetched.resolve(name);
        Path markerAside = Files.createTempFile(fetched, ".proxy-", ".part");
        try {
          Files.writeString(
              markerAside,
              actualSha256
                  + "\n"
                  + (origin == null ? "" : origin)
                  + "\n"
                  + (checked == null ? "" : checked + "\n"));
          // its lock file is made now, so that serving it never has to make one on a full volume
          try {
            Files.createFile(locks.resolve(name));
          } catch (FileAlreadyExistsException e) {
            // the name's, made by an earlier serve or store
          }
          try {
            Files.createLink(files.resolve(name), temporary);
          } catch (FileAlreadyExistsException e) {
            return false; // someone else's file of that name: kept as it is, with its marker
          }
          try {
            Files.move(markerAside, marker, StandardCopyOption.REPLACE_EXISTING);
          } catch (IOException e) {
            // an unmarked file would pass for a sync's: the name just linked goes again
            unpublish(name);
            throw e;
          }
        } finally {
          Files.deleteIfExists(markerAside);
        }
        bytes.addAndGet(written);
        full = false;
        return true;
      } catch (IOException | UnsupportedOperationException e) {
        LOG.warn("cannot store {}: {}", name, e.toString());
        return false;
      } finally {
        abort();
      }
    }

    /**
     * Deletes the temporary file (a published file stays under its name) and gives back what is
     * left of the reservation; again is harmless.
     */
    public void abort() {
      try {
        channel.close();
      } catch (IOException e) {
        LOG.warn("cannot close {}: {}", temporary, e.toString());
      }
      delete(temporary);
      unreserve(reservation);
      reservation = 0;
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  /**
   * Reserves {@code size} more bytes below the high-water mark, counting what transfers under way
   * reserved and have not written yet, and evicting the least recently served files the proxy
   * fetched that nobody is being served; false when that is not enough.
   */
  synchronized boolean reserve(long size) throws IOException {
    long total = disk.totalSpace();
    long limit = (long) (total * highWater);
    long used = total - disk.usableSpace() + reserved.get();
    if (used + size > limit) {
      used -= evict(used + size - limit);
    }
    if (used + size > limit) {
      return false;
    }
    reserved.addAndGet(size);
    return true;
  }

  private void unreserve(long size) {
    reserved.addAndGet(-size);
  }

  /** Evicts fetched files, least recently served first, until {@code wanted} bytes are freed. */
  private long evict(long wanted) throws IOException {
    record Candidate(String name, long served) {}
    List<Candidate> candidates = new ArrayList<>();
    try (DirectoryStream<Path> markers = Files.newDirectoryStream(fetched)) {
      for (Path marker : markers) {
        try {
          String name = marker.getFileName().toString();
          if (!plainName(name)) {
            continue; // a marker being written aside
          }
          long served = Files.getLastModifiedTime(marker, LinkOption.NOFOLLOW_LINKS).toMillis();
          candidates.add(new Candidate(name, Math.max(served, lastServed.getOrDefault(name, 0L))));
        } catch (NoSuchFileException e) {
          // evicted meanwhile
        }
      }
    }
    candidates.sort(Comparator.comparingLong(Candidate::served));
    long freed = 0;
    for (Candidate candidate : candidates) {
      if (freed >= wanted) {
        break;
      }
      freed += evict(candidate.name());
    }
    return freed;
  }

  /** Deletes the fetched file {@code name} unless it is being served; returns the bytes freed. */
  private long evict(String name) {
    long size = deleteUnserved(name);
    if (size > 0) {
      bytes.addAndGet(-size);
      LOG.info("evicted {} ({} bytes), least recently served", name, size);
    }
    return Math.max(0, size);
  }

  /** Takes back a file just linked whose marker could not be moved in. */
  private void unpublish(String name) {
    if (deleteUnserved(name) < 0) {
      LOG.warn("cannot delete {} again: it is being served; it stays unmarked", name);
    }
  }

  /**
   * Deletes the file {@code name}, then its marker and its lock file, unless it is being served,
   * here or by another process on the volume: only while this process holds its lock file
   * exclusively, so no serve can open it between the check and the delete. The file goes first: a
   * marker without its file is harmless, a file without its marker would pass for a sync's. Returns
   * the file's size (0 when it was gone), or -1 when it is served or cannot be deleted.
   */
  private long deleteUnserved(String name) {
    return holds.whileUnserved(
        name,
        () -> {
          Optional<CachedFile> file = cached(name);
          forget(name);
          try {
            if (file.isPresent()) {
              disk.delete(file.get().path());
            }
          } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", name, e.toString()); // still marked: still fetched
            return -1;
          }
          delete(fetched.resolve(name));
          return file.map(CachedFile::size).orElse(0L);
        });
  }

  /** The cache's volume: its size and free bytes, and how a temporary file is opened to write. */
  interface Disk {
    long totalSpace() throws IOException;

    long usableSpace() throws IOException;

    WritableByteChannel open(Path temporary) throws IOException;

    /** Deletes a cached file (gone already: nothing). */
    default void delete(Path file) throws IOException {
      Files.deleteIfExists(file);
    }

    /** The volume that holds {@code folder}. */
    static Disk of(Path folder) throws IOException {
      java.nio.file.FileStore volume = Files.getFileStore(folder);
      return new Disk() {
        @Override
        public long totalSpace() throws IOException {
          return volume.getTotalSpace();
        }

        @Override
        public long usableSpace() throws IOException {
          return volume.getUsableSpace();
        }

        @Override
        public WritableByteChannel open(Path temporary) throws IOException {
          return FileChannel.open(temporary, StandardOpenOption.WRITE);
        }
      };
    }

    /** How a store finds the volume of its files' folder. */
    interface Factory {
      Disk of(Path folder) throws IOException;
    }
  }
}
