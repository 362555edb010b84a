package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.cache.CacheLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
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
 */
public final class FileStore {
  private static final Logger LOG = LoggerFactory.getLogger(FileStore.class);

  static final String PROXY_DIR = ".proxy";
  static final String FETCHED_DIR = "fetched";
  static final String PAGES_DIR = "pages";

  /** Wheel, sdist and metadata names use these characters only. */
  private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+!-]*");

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  private final Path root;
  private final Path files;
  private final Path fetched;
  private final Path pages;
  private final double highWater;
  private final Clock clock;
  private final ConcurrentHashMap<String, AtomicInteger> serving = new ConcurrentHashMap<>();
  // files are never replaced, and only eviction removes them: what was found stays true
  private final ConcurrentHashMap<String, CachedFile> present = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Long> lastServed = new ConcurrentHashMap<>();
  private final AtomicLong bytes = new AtomicLong();
  private volatile boolean full;

  /**
   * @param highWater the share of the volume above which fetched files are evicted (0.9)
   */
  public FileStore(Path cacheRoot, double highWater, Clock clock) throws IOException {
    this.root = cacheRoot.toRealPath();
    this.files = directory(root.resolve(CacheLayout.FILES_DIR));
    Path proxy = directory(root.resolve(PROXY_DIR));
    this.fetched = directory(proxy.resolve(FETCHED_DIR));
    this.pages = directory(proxy.resolve(PAGES_DIR));
    this.highWater = highWater;
    this.clock = clock;
    try (DirectoryStream<Path> stale = Files.newDirectoryStream(files, ".proxy-*.part")) {
      for (Path temporary : stale) {
        Files.deleteIfExists(temporary);
      }
    }
  }

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
      CachedFile file = new CachedFile(name, path, attributes.size());
      present.put(name, file);
      return Optional.of(file);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * The sha256 the proxy computed when it fetched {@code name} (kept in its marker), for a file
   * whose page gave none; empty for a file it did not fetch.
   */
  public Optional<String> knownSha256(String name) {
    if (!plainName(name)) {
      return Optional.empty();
    }
    try {
      String sha = Files.readString(fetched.resolve(name)).strip();
      return SHA256.matcher(sha).matches() ? Optional.of(sha) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** A file ready to be served, held against eviction until released. */
  public record CachedFile(String name, Path path, long size) {}

  /** A file found in the cache before, from memory alone (no I/O: for the event loop). */
  public Optional<CachedFile> known(String name) {
    return Optional.ofNullable(present.get(name));
  }

  /** Forgets a file that turned out to be gone (removed by hand). */
  public void forget(String name) {
    present.remove(name);
  }

  /**
   * Holds {@code name} against eviction while it is served and notes it as served now, in memory
   * (no I/O); true when its marker's time should be brought up to date ({@link #touch}, off the
   * event loop), at most once a minute.
   */
  public boolean hold(String name) {
    serving.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
    long now = clock.millis();
    Long before = lastServed.put(name, now);
    return before == null || before < now - 60_000;
  }

  /** Sets the marker of a fetched file to now, so eviction after a restart knows its use too. */
  public void touch(String name) {
    try {
      Files.setLastModifiedTime(fetched.resolve(name), FileTime.from(clock.instant()));
    } catch (IOException e) {
      // not fetched by the proxy (a sync's file), or gone: nothing to note
    }
  }

  public void release(String name) {
    serving.computeIfPresent(name, (n, count) -> count.decrementAndGet() <= 0 ? null : count);
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
   * Starts writing {@code name}; empty when it cannot be stored (the volume is too full even after
   * eviction, or it is not a plain name): the caller passes the file through unstored.
   *
   * @param expectedSize the upstream's Content-Length, or -1
   */
  public Optional<Writer> begin(String name, long expectedSize) {
    if (!plainName(name)) {
      return Optional.empty();
    }
    try {
      if (!makeRoom(Math.max(0, expectedSize))) {
        full = true;
        return Optional.empty();
      }
      Path temporary = Files.createTempFile(files, ".proxy-", ".part");
      return Optional.of(new Writer(name, temporary));
    } catch (IOException e) {
      LOG.warn("cannot store {}: {}", name, e.toString());
      full = true;
      return Optional.empty();
    }
  }

  /** A file being written: bytes in, then {@link #publish} or {@link #abort}. */
  public final class Writer {
    private final String name;
    private final Path temporary;
    private final FileChannel channel;
    private long written;
    private boolean failed;

    private Writer(String name, Path temporary) throws IOException {
      this.name = name;
      this.temporary = temporary;
      this.channel = FileChannel.open(temporary, StandardOpenOption.WRITE);
    }

    /** Writes {@code buffer} (from its position, which it leaves unchanged). */
    public void write(ByteBuffer buffer) {
      ByteBuffer view = buffer.duplicate();
      if (failed) {
        return;
      }
      try {
        while (view.hasRemaining()) {
          written += channel.write(view);
        }
      } catch (IOException e) {
        // e.g. no space left: the transfer goes on to the client, nothing is stored
        failed = true;
        full = true;
        LOG.warn("cannot store {}: {}; it passes through unstored", name, e.toString());
      }
    }

    /**
     * Publishes the file under its name when {@code actualSha256} is what was expected (null: no
     * expectation). Returns whether it is now in the cache with those bytes.
     */
    public boolean publish(String actualSha256, String expectedSha256) {
      try {
        channel.close();
        if (failed || expectedSha256 != null && !expectedSha256.equals(actualSha256)) {
          return false;
        }
        Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-r--r--"));
        Path marker = fetched.resolve(name);
        Files.deleteIfExists(marker);
        Files.writeString(marker, actualSha256);
        try {
          Files.createLink(files.resolve(name), temporary);
        } catch (FileAlreadyExistsException e) {
          Files.deleteIfExists(marker);
          return false; // someone else's file of that name: kept as it is
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

    /** Deletes the temporary file (a published file stays under its name). */
    public void abort() {
      try {
        channel.close();
        Files.deleteIfExists(temporary);
      } catch (IOException e) {
        LOG.warn("cannot delete {}: {}", temporary, e.toString());
      }
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
   * Makes room for {@code size} more bytes below the high-water mark, evicting the least recently
   * served files the proxy fetched that nobody is being served; false when that is not enough.
   */
  synchronized boolean makeRoom(long size) throws IOException {
    java.nio.file.FileStore volume = Files.getFileStore(files);
    long total = volume.getTotalSpace();
    long limit = (long) (total * highWater);
    long used = total - volume.getUsableSpace();
    if (used + size <= limit) {
      return true;
    }
    record Candidate(String name, long served) {}
    List<Candidate> candidates = new ArrayList<>();
    try (DirectoryStream<Path> markers = Files.newDirectoryStream(fetched)) {
      for (Path marker : markers) {
        try {
          String name = marker.getFileName().toString();
          long served = Files.getLastModifiedTime(marker, LinkOption.NOFOLLOW_LINKS).toMillis();
          candidates.add(new Candidate(name, Math.max(served, lastServed.getOrDefault(name, 0L))));
        } catch (NoSuchFileException e) {
          // evicted meanwhile
        }
      }
    }
    candidates.sort(Comparator.comparingLong(Candidate::served));
    for (Candidate candidate : candidates) {
      if (used + size <= limit) {
        break;
      }
      if (serving.containsKey(candidate.name())) {
        continue;
      }
      Optional<CachedFile> file = cached(candidate.name());
      present.remove(candidate.name());
      lastServed.remove(candidate.name());
      Files.deleteIfExists(fetched.resolve(candidate.name()));
      if (file.isPresent()) {
        Files.deleteIfExists(file.get().path());
        bytes.addAndGet(-file.get().size());
        used -= file.get().size();
        LOG.info(
            "evicted {} ({} bytes), least recently served", candidate.name(), file.get().size());
      }
    }
    return used + size <= limit;
  }
}
