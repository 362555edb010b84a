package dev.pypimirror.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.simple.FileHash;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The store behind the client: chunks are written and hashed in order off the caller's thread, a
 * file is published only whole and matching, anything else leaves nothing behind, and the lag cap
 * holds the relay back until the store has caught up.
 */
class StoreBehindTest {
  private static final String NAME = "demo_pkg-1.0-py3-none-any.whl";

  @TempDir Path cache;

  @Test
  void chunksAreStoredInOrderAndPublishedUnderTheHashOfAll() throws Exception {
    FileStore store = new FileStore(cache, 0.9, Clock.systemUTC());
    byte[] bytes = randomBytes(40 * 65_536 + 123);
    StoreBehind behind =
        new StoreBehind(store.begin(NAME, bytes.length), () -> {}, FileHash.sha256(sha256(bytes)));

    addInChunks(behind, bytes, 65_536);
    StoreBehind.Finished done = finish(behind);

    assertThat(done.checked())
        .isEqualTo(
            new TransferDigests.Checked(sha256(bytes), FileHash.sha256(sha256(bytes)), true));
    assertThat(done.stored()).isTrue();
    assertThat(Files.readAllBytes(store.cached(NAME).orElseThrow().path())).isEqualTo(bytes);
    assertThat(partFiles()).isEmpty();
  }

  @Test
  void bytesThatAreNotTheExpectedHashAreNotStoredAndLeaveNothing() throws Exception {
    FileStore store = new FileStore(cache, 0.9, Clock.systemUTC());
    byte[] bytes = randomBytes(300_000);
    StoreBehind behind =
        new StoreBehind(store.begin(NAME, bytes.length), () -> {}, FileHash.sha256("0".repeat(64)));

    addInChunks(behind, bytes, 65_536);
    StoreBehind.Finished done = finish(behind);

    assertThat(done.checked().sha256()).isEqualTo(sha256(bytes));
    assertThat(done.checked().matches()).isFalse();
    assertThat(done.stored()).isFalse();
    assertThat(store.cached(NAME)).isEmpty();
    assertThat(partFiles()).isEmpty();
  }

  @Test
  void anAbortedTransferLeavesNothingAndSaysWhenItIsDone() throws Exception {
    FileStore store = new FileStore(cache, 0.9, Clock.systemUTC());
    StoreBehind behind = new StoreBehind(store.begin(NAME, -1), () -> {}, null);
    addInChunks(behind, randomBytes(500_000), 65_536);

    CompletableFuture<Void> aborted = new CompletableFuture<>();
    behind.abort(() -> aborted.complete(null));
    aborted.get(30, TimeUnit.SECONDS);

    assertThat(store.cached(NAME)).isEmpty();
    assertThat(partFiles()).isEmpty();
  }

  @Test
  void aChunkOverTheLagCapHoldsTheRelayUntilTheStoreHasTakenIt() throws Exception {
    FileStore store = new FileStore(cache, 0.9, Clock.systemUTC());
    byte[] bytes = randomBytes((int) StoreBehind.CAP * 3);
    AtomicInteger caughtUp = new AtomicInteger();
    StoreBehind behind =
        new StoreBehind(
            store.begin(NAME, bytes.length),
            caughtUp::incrementAndGet,
            FileHash.sha256(sha256(bytes)));

    behind.add(ByteBuffer.wrap(bytes));
    StoreBehind.Finished done = finish(behind);

    // the store went over the cap with that one chunk and came back under it once: the relay,
    // which asked upstream for nothing more meanwhile, was told so
    assertThat(caughtUp).hasValue(1);
    assertThat(behind.behind()).isFalse();
    assertThat(done.stored()).isTrue();
  }

  /**
   * A page that gives md5 (or sha512) only: that digest is computed beside the sha256 in the same
   * pass; the right one stores the file under its sha256 with the checked hash in its marker, a
   * wrong one stores nothing.
   */
  @ParameterizedTest
  @ValueSource(strings = {"md5", "sha512", "sha3_256", "sha1"})
  void aPageHashOfAnotherAlgorithmIsCheckedBesideTheSha256(String algorithm) throws Exception {
    FileStore store = new FileStore(cache, 0.9, Clock.systemUTC());
    byte[] bytes = randomBytes(300_000);
    FileHash right = new FileHash(algorithm, HexFormat.of().formatHex(right(algorithm, bytes)));
    StoreBehind behind =
        new StoreBehind(
            store.begin(NAME, bytes.length).map(w -> w.from("https://up/")), () -> {}, right);

    addInChunks(behind, bytes, 65_536);
    StoreBehind.Finished done = finish(behind);

    assertThat(done.checked()).isEqualTo(new TransferDigests.Checked(sha256(bytes), right, true));
    assertThat(done.stored()).isTrue();
    FileStore.CachedFile cached = store.cached(NAME).orElseThrow();
    assertThat(cached.sha256()).isEqualTo(sha256(bytes));
    assertThat(cached.checked()).isEqualTo(right);
    assertThat(cache.resolve(".proxy/fetched/" + NAME))
        .hasContent(sha256(bytes) + "\nhttps://up/\n" + right + "\n");

    FileHash wrong = new FileHash(algorithm, "0".repeat(right.hex().length()));
    String other = "other-1.0.tar.gz";
    StoreBehind lied = new StoreBehind(store.begin(other, bytes.length), () -> {}, wrong);
    addInChunks(lied, bytes, 65_536);
    StoreBehind.Finished refused = finish(lied);

    assertThat(refused.checked().matches()).isFalse();
    assertThat(refused.checked().actual()).isEqualTo(right);
    assertThat(refused.stored()).isFalse();
    assertThat(store.cached(other)).isEmpty();
    assertThat(partFiles()).isEmpty();
  }

  /**
   * A chunk whose store throws an unchecked exception (an eviction's directory listing that failed,
   * say) fails the whole transfer: before, that chunk was neither written nor hashed, the later
   * ones went on, and a page without a hash had the file published, a chunk short, under the digest
   * of what was left.
   */
  @Test
  void aChunkWhoseStoringThrowsFailsTheTransferAndStoresNothing() throws Exception {
    AtomicInteger writes = new AtomicInteger();
    FileStore.Disk disk =
        new FileStore.Disk() {
          @Override
          public long totalSpace() {
            return 1L << 40;
          }

          @Override
          public long usableSpace() {
            return 1L << 39;
          }

          @Override
          public WritableByteChannel open(Path temporary) throws IOException {
            FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE);
            return new WritableByteChannel() {
              @Override
              public int write(ByteBuffer src) throws IOException {
                if (writes.incrementAndGet() == 3) {
                  throw new UncheckedIOException(new IOException("listing the folder failed"));
                }
                return channel.write(src);
              }

              @Override
              public boolean isOpen() {
                return channel.isOpen();
              }

              @Override
              public void close() throws IOException {
                channel.close();
              }
            };
          }
        };
    FileStore store = new FileStore(cache, 0.9, Clock.systemUTC(), folder -> disk);
    byte[] bytes = randomBytes(10 * 65_536);
    Optional<FileStore.Writer> writer = store.begin(NAME, bytes.length);
    GrowingFile growing = GrowingFile.open(writer.orElseThrow().temporary(), bytes.length);
    AtomicInteger failed = new AtomicInteger();
    StoreBehind behind = new StoreBehind(writer, () -> {}, growing, null, failed::incrementAndGet);

    addInChunks(behind, bytes, 65_536);
    StoreBehind.Finished done = finish(behind);

    assertThat(done.failed()).isTrue();
    assertThat(done.verified()).isFalse();
    assertThat(done.stored()).isFalse();
    assertThat(failed).hasValue(1);
    assertThat(growing.end()).isEqualTo(GrowingFile.End.FAILED);
    assertThat(growing.written()).isEqualTo(2 * 65_536); // nothing after the failed chunk
    assertThat(store.cached(NAME)).isEmpty();
    assertThat(partFiles()).isEmpty();
  }

  /** The digest computed apart from the proxy's code, by the JDK's name of the algorithm. */
  private static byte[] right(String algorithm, byte[] bytes) throws Exception {
    String jdkName =
        Map.of("md5", "MD5", "sha512", "SHA-512", "sha3_256", "SHA3-256", "sha1", "SHA-1")
            .get(algorithm);
    return MessageDigest.getInstance(jdkName).digest(bytes);
  }

  @Test
  void withoutAWriterTheBytesAreHashedAndNothingIsStored() throws Exception {
    byte[] bytes = randomBytes(200_000);
    AtomicInteger caughtUp = new AtomicInteger();
    StoreBehind behind = new StoreBehind(Optional.empty(), caughtUp::incrementAndGet, null);

    byte[] large = randomBytes((int) StoreBehind.CAP + 1);
    addInChunks(behind, bytes, 65_536);
    behind.add(ByteBuffer.wrap(large));
    StoreBehind.Finished done = finish(behind);

    MessageDigest both = MessageDigest.getInstance("SHA-256");
    both.update(bytes);
    both.update(large);
    assertThat(done.checked().sha256()).isEqualTo(HexFormat.of().formatHex(both.digest()));
    assertThat(done.stored()).isFalse();
    assertThat(caughtUp).hasValue(1);
  }

  /**
   * Two transfers of one name (two replicas on a shared volume): the first to publish keeps the
   * name and its record of where the file came from; the second stores nothing and leaves both.
   */
  @Test
  void aTransferThatLosesTheRaceForANameLeavesTheWinnersFileAndRecord() throws Exception {
    FileStore one = new FileStore(cache, 0.9, Clock.systemUTC());
    FileStore other = new FileStore(cache, 0.9, Clock.systemUTC());
    byte[] first = randomBytes(70_000);
    byte[] second = randomBytes(80_000);
    FileStore.Writer winner = one.begin(NAME, first.length).orElseThrow().from("https://a/simple/");
    FileStore.Writer loser =
        other.begin(NAME, second.length).orElseThrow().from("https://b/simple/");
    winner.write(ByteBuffer.wrap(first));
    loser.write(ByteBuffer.wrap(second));

    assertThat(winner.publish(sha256(first), null)).isTrue();
    assertThat(loser.publish(sha256(second), null)).isFalse();

    FileStore.CachedFile cached = new FileStore(cache, 0.9, Clock.systemUTC()).cached(NAME).get();
    assertThat(Files.readAllBytes(cached.path())).isEqualTo(first);
    assertThat(cached.sha256()).isEqualTo(sha256(first));
    assertThat(cached.origin()).isEqualTo("https://a/simple/");
    assertThat(partFiles()).isEmpty();
  }

  /** A starting proxy removes a crashed run's temporary files, not another replica's live ones. */
  @Test
  void startingRemovesOnlyTemporaryFilesLeftUnwrittenForAnHour() throws Exception {
    new FileStore(cache, 0.9, Clock.systemUTC()); // makes the layout
    Path files = cache.resolve("_files");
    Path crashed = Files.writeString(files.resolve(".proxy-1.part"), "half");
    Files.setLastModifiedTime(
        crashed,
        java.nio.file.attribute.FileTime.from(
            java.time.Instant.now().minus(FileStore.STALE_TEMPORARY).minusSeconds(60)));
    Path live = Files.writeString(files.resolve(".proxy-2.part"), "being written");

    new FileStore(cache, 0.9, Clock.systemUTC());

    assertThat(crashed).doesNotExist();
    assertThat(live).exists();
  }

  private static void addInChunks(StoreBehind behind, byte[] bytes, int size) {
    for (int at = 0; at < bytes.length; at += size) {
      behind.add(ByteBuffer.wrap(bytes, at, Math.min(size, bytes.length - at)).slice());
    }
  }

  private static StoreBehind.Finished finish(StoreBehind behind) throws Exception {
    CompletableFuture<StoreBehind.Finished> done = new CompletableFuture<>();
    behind.finish(done::complete);
    return done.get(30, TimeUnit.SECONDS);
  }

  private Stream<Path> partFiles() throws IOException {
    try (Stream<Path> all = Files.walk(cache)) {
      return all.filter(p -> p.getFileName().toString().endsWith(".part")).toList().stream();
    }
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
