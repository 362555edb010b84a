package dev.pypimirror.operator.proxy;

import static dev.pypimirror.operator.proxy.FileStoreRoomTest.stored;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Eviction never deletes a file being served, whether this process or another one sharing the
 * volume serves it: a serve holds its file's lock file shared, eviction locks it exclusively first.
 * The other replica is a real second JVM ({@link OtherReplica}), as a second pod would be.
 */
class FileStoreSharedHoldTest {
  @TempDir Path cache;
  final FileStoreRoomTest.SmallVolume volume = new FileStoreRoomTest.SmallVolume(300);
  FileStore store;

  @BeforeEach
  void threeFetchedFiles() throws IOException {
    store = new FileStore(cache, 1.0, Clock.systemUTC(), volume);
    long served = 1000;
    for (String name : List.of("a-1.0.tar.gz", "b-1.0.tar.gz", "c-1.0.tar.gz")) {
      stored(store, name, 100);
      // a was served least recently, then b, then c
      Files.setLastModifiedTime(
          cache.resolve(".proxy/fetched/" + name), FileTime.fromMillis(served));
      served += 1000;
    }
  }

  List<String> files() throws IOException {
    try (Stream<Path> files = Files.list(cache.resolve("_files"))) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aFileAnotherProcessServesIsSkippedUntilThatProcessEnds() throws Exception {
    OtherReplica.Running replica = holding("a-1.0.tar.gz");
    assertThat(replica.said()).isEqualTo("held");
    try {
      // room for 200 takes two files: not a, the least recently served (served there): b and c
      stored(store, "d-1.0.tar.gz", 200);
      assertThat(files()).containsExactly("a-1.0.tar.gz", "d-1.0.tar.gz");
      // d was stored after the other replica's serve of a: said outright, since a file's own
      // time is the kernel's coarse clock (a few ms), a serve's the precise one it sets
      Files.setLastModifiedTime(
          cache.resolve(".proxy/fetched/d-1.0.tar.gz"),
          FileTime.from(java.time.Instant.now().plusSeconds(60)));
    } finally {
      replica.process().getOutputStream().close();
      assertThat(replica.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
    stored(store, "e-1.0.tar.gz", 100); // the replica is gone: a, served least recently, goes
    assertThat(files()).containsExactly("d-1.0.tar.gz", "e-1.0.tar.gz");
    assertThat(cache.resolve(".proxy/locks/a-1.0.tar.gz")).doesNotExist();
  }

  @Test
  void aFileThisProcessServesIsSkippedAndTakenOnceLetGo() throws IOException {
    FileStore.Held held = store.hold("a-1.0.tar.gz").orElseThrow();
    FileStore.Held again = store.holdAgain("a-1.0.tar.gz").orElseThrow(); // a second serve
    assertThat(held.file().size()).isEqualTo(100);
    // another store in this JVM (its lock overlaps the one this JVM holds): skipped all the same
    FileStore other = new FileStore(cache, 1.0, Clock.systemUTC(), volume);
    stored(other, "d-1.0.tar.gz", 200);
    assertThat(files()).containsExactly("a-1.0.tar.gz", "d-1.0.tar.gz");

    held.release();
    held.release(); // once only: the second serve still holds it
    stored(store, "e-1.0.tar.gz", 100); // a is skipped again: d goes
    assertThat(files()).containsExactly("a-1.0.tar.gz", "e-1.0.tar.gz");
    again.release();
    stored(store, "f-1.0.tar.gz", 200); // let go: a, served least recently, goes
    assertThat(files()).containsExactly("e-1.0.tar.gz", "f-1.0.tar.gz");
    assertThat(store.hold("a-1.0.tar.gz")).isEmpty(); // evicted: nothing to hold
    assertThat(store.holdAgain("e-1.0.tar.gz")).isEmpty(); // nobody serves it: no hold to share
  }

  @Test
  void whileAnotherProcessEvictsAFileAServeFindsItAbsentAndLockFilesAreNoFiles() throws Exception {
    // the exclusive lock an eviction holds while it deletes
    var evicting = store.lockFile("a-1.0.tar.gz", false).orElseThrow();
    try {
      OtherReplica.Running replica = holding("a-1.0.tar.gz");
      assertThat(replica.said()).isEqualTo("not held");
      assertThat(replica.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      evicting.close();
    }
    assertThat(store.hold("a-1.0.tar.gz")).isPresent();
    assertThat(files()).containsExactly("a-1.0.tar.gz", "b-1.0.tar.gz", "c-1.0.tar.gz");
    store.count(); // the lock files are counted as nothing
    assertThat(store.fetchedBytes()).isEqualTo(300);
  }

  @Test
  void namesTheCacheDoesNotHoldLeaveNoLockFilesBehind() throws IOException {
    for (int i = 0; i < 100; i++) {
      assertThat(store.hold("asked-1." + i + ".tar.gz")).isEmpty();
    }
    store.hold("a-1.0.tar.gz").orElseThrow().release();
    Files.delete(cache.resolve("_files/a-1.0.tar.gz")); // gone by hand: its lock file goes too
    assertThat(store.hold("a-1.0.tar.gz")).isEmpty();
    assertThat(lockFiles()).containsExactly("b-1.0.tar.gz", "c-1.0.tar.gz"); // made when stored
  }

  @Test
  void aFileWhoseLockFailsForAnyOtherReasonThanNoLocksIsNeitherHeldNorEvicted() throws IOException {
    // a lock file that cannot be opened (as with too many open files, or no permission)
    Path lockFile = cache.resolve(".proxy/locks/a-1.0.tar.gz");
    Files.delete(lockFile);
    Files.createDirectories(lockFile.resolve("in-the-way"));
    assertThatThrownBy(() -> store.hold("a-1.0.tar.gz")).isInstanceOf(FileStore.CannotHold.class);
    assertThat(store.holdAgain("a-1.0.tar.gz")).isEmpty(); // no hold was left behind to share
    // room for 200 takes two files: not a, which cannot be locked: b and c
    stored(store, "d-1.0.tar.gz", 200);
    assertThat(files()).containsExactly("a-1.0.tar.gz", "d-1.0.tar.gz");
  }

  @Test
  void onlyNoLocksAvailableOrNoLockSupportMeansAVolumeWithoutLocks() {
    assertThat(VolumeHolds.withoutLocks(new IOException("No locks available"))).isTrue();
    assertThat(VolumeHolds.withoutLocks(new UnsupportedOperationException())).isTrue();
    assertThat(VolumeHolds.withoutLocks(new IOException("Too many open files"))).isFalse();
    assertThat(VolumeHolds.withoutLocks(new IOException((String) null))).isFalse();
    assertThat(
            VolumeHolds.withoutLocks(new FileSystemException("x", null, "No space left on device")))
        .isFalse();
    assertThat(VolumeHolds.withoutLocks(new FileSystemException("x", null, "Disk quota exceeded")))
        .isFalse();
    assertThat(VolumeHolds.withoutLocks(new AccessDeniedException("x"))).isFalse();
  }

  @Test
  void anEvictionWhoseDeleteFailsLeavesTheFileMarked() throws IOException {
    volume.deleteFails = new IOException("Input/output error");
    assertThat(store.begin("d-1.0.tar.gz", 100)).isEmpty(); // no file could be deleted for it
    volume.deleteFails = null;
    try (Stream<Path> markers = Files.list(cache.resolve(".proxy/fetched"))) {
      assertThat(markers).hasSize(3); // each still marked: still fetched, not a sync's
    }
    stored(store, "d-1.0.tar.gz", 100); // so a is still evicted later, least recently served
    assertThat(files()).containsExactly("b-1.0.tar.gz", "c-1.0.tar.gz", "d-1.0.tar.gz");
  }

  @Test
  void aMarkerWithoutItsFileVouchesForNothingAndIsEvictedAsNothing() throws IOException {
    Files.delete(cache.resolve("_files/a-1.0.tar.gz")); // an eviction cut short after the file
    assertThat(store.knownSha256("a-1.0.tar.gz", null, null)).isEmpty();
    store.count();
    assertThat(store.fetchedBytes()).isEqualTo(200);
    stored(store, "d-1.0.tar.gz", 200); // a's marker frees nothing: b goes
    assertThat(files()).containsExactly("c-1.0.tar.gz", "d-1.0.tar.gz");
    assertThat(cache.resolve(".proxy/fetched/a-1.0.tar.gz")).doesNotExist();
  }

  @Test
  void aPublishWhoseMarkerCannotBeMovedInLeavesNoUnmarkedFile() throws IOException {
    Files.createDirectories(cache.resolve(".proxy/fetched/x-1.0.tar.gz/in-the-way"));
    FileStore.Writer x = store.begin("x-1.0.tar.gz", 0).orElseThrow();
    assertThat(x.publish(FileStoreRoomTest.SHA, null)).isFalse();
    assertThat(files()).containsExactly("a-1.0.tar.gz", "b-1.0.tar.gz", "c-1.0.tar.gz");
    assertThat(lockFiles()).doesNotContain("x-1.0.tar.gz");
  }

  @Test
  void aServedFileStaysLockedAWhileAfterItsLastServe() throws Exception {
    store.hold("a-1.0.tar.gz").orElseThrow().release();
    // the shared lock is kept: no exclusive lock (an eviction's) can be had on it yet, and the
    // next serve in this process takes the file without I/O
    assertThat(store.lockFile("a-1.0.tar.gz", false)).isEmpty();
    var again = store.holdAgain("a-1.0.tar.gz");
    assertThat(again).isPresent();
    again.get().release();
    store.letGoIdle(); // what the linger's end does
    assertThat(store.holdAgain("a-1.0.tar.gz")).isEmpty();
    try (var exclusive = store.lockFile("a-1.0.tar.gz", false).orElseThrow()) {
      assertThat(exclusive.isOpen()).isTrue();
    }
  }

  /** With no serve after the last one, the kept lock goes by itself, one linger later. */
  @Test
  void aKeptLockGoesByItselfAfterTheLinger() throws Exception {
    store.hold("a-1.0.tar.gz").orElseThrow().release();
    assertThat(store.lockFile("a-1.0.tar.gz", false)).isEmpty();

    await()
        .atMost(VolumeHolds.LINGER.plusSeconds(10))
        .until(
            () -> { // what another replica's eviction takes
              var exclusive = store.lockFile("a-1.0.tar.gz", false);
              if (exclusive.isPresent()) {
                exclusive.get().close();
              }
              return exclusive.isPresent();
            });
    assertThat(store.holdAgain("a-1.0.tar.gz")).isEmpty(); // the next serve locks it again
  }

  @Test
  void namesAnotherReplicaEvictedAreForgotten() throws Exception {
    store.hold("a-1.0.tar.gz").orElseThrow().release();
    store.hold("b-1.0.tar.gz").orElseThrow().release();
    assertThat(store.remembers("a-1.0.tar.gz")).isTrue();
    store.letGoIdle(); // as once the locks' linger after the last serve passed
    OtherReplica.evict(cache); // takes every fetched file
    assertThat(store.hold("a-1.0.tar.gz")).isEmpty();
    assertThat(store.cached("b-1.0.tar.gz")).isEmpty();
    assertThat(store.remembers("a-1.0.tar.gz")).isFalse();
    assertThat(store.remembers("b-1.0.tar.gz")).isFalse();
  }

  List<String> lockFiles() throws IOException {
    try (Stream<Path> locks = Files.list(cache.resolve(".proxy/locks"))) {
      return locks.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  private OtherReplica.Running holding(String name) throws IOException {
    return OtherReplica.start("hold", cache.toString(), name);
  }
}
