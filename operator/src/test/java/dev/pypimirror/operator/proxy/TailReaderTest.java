package dev.pypimirror.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.channel.FileRegion;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader of a file being fetched, against a client that takes what it is sent when the test says
 * so: it holds one chunk of at most {@link TailReader#CHUNK} bytes at a time whatever the file's
 * size, never sends the last byte before the transfer is verified, and resets its client when the
 * transfer fails or the store stops writing.
 */
class TailReaderTest {
  private static final String NAME = "demo_pkg-1.0-py3-none-any.whl";

  @TempDir Path cache;
  private final ExecutorService context = Executors.newSingleThreadExecutor();

  @AfterEach
  void stop() {
    context.shutdownNow();
    worker.shutdownNow();
  }

  /** A client whose write queue is full after every write until the test drains it. */
  static final class Client implements TailReader.Client {
    final List<Integer> writes = new CopyOnWriteArrayList<>();
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    volatile boolean fillsUp = true;
    volatile boolean full;
    volatile Runnable drain;
    volatile boolean ended;
    volatile boolean reset;

    /** A write runs the drain handler before it returns, as Netty's flush can. */
    volatile boolean drainsWithinWrite;

    private boolean draining;

    @Override
    public boolean full() {
      return full;
    }

    @Override
    public void onDrain(Runnable then) {
      drain = then;
    }

    @Override
    public synchronized void write(ByteBuf chunk) {
      full = fillsUp; // before the write is seen
      int n = chunk.readableBytes();
      byte[] bytes = new byte[n];
      chunk.readBytes(bytes);
      chunk.release();
      received.write(bytes, 0, n);
      writes.add(n);
      Runnable handler = drain; // Vert.x keeps a drain handler until another replaces it
      if (drainsWithinWrite && handler != null && !draining) {
        draining = true;
        try {
          handler.run();
        } finally {
          draining = false;
        }
      }
    }

    /** Takes the rest of a verified file as one region, once a chunk was written (the head). */
    volatile boolean takesRegions;

    final List<Long> regions = new CopyOnWriteArrayList<>();

    @Override
    public synchronized boolean send(FileRegion region, Consumer<Boolean> sent) {
      if (!takesRegions || writes.isEmpty()) {
        return false;
      }
      try (var into = java.nio.channels.Channels.newChannel(received)) {
        for (long at = 0; at < region.count(); ) {
          at += region.transferTo(into, at);
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      } finally {
        region.release();
      }
      regions.add(region.count());
      sent.accept(true);
      return true;
    }

    @Override
    public void end() {
      ended = true;
    }

    @Override
    public void reset() {
      reset = true;
    }

    synchronized byte[] bytes() {
      return received.toByteArray();
    }
  }

  private final ExecutorService worker = Executors.newSingleThreadExecutor();
  private final AtomicInteger readsAside = new AtomicInteger();

  private TailReader reader(GrowingFile file, Client client, AtomicReference<TailReader.Ended> how)
      throws Exception {
    TailReader reader =
        new TailReader(
            file,
            client,
            context::execute,
            task -> {
              readsAside.incrementAndGet();
              worker.execute(task);
            },
            0,
            n -> {},
            how::set,
            System::nanoTime);
    assertThat(context.submit(() -> reader.start(() -> {})).get(30, TimeUnit.SECONDS)).isTrue();
    return reader;
  }

  /** A reader started on {@code bytes}, in a file none of which is counted as written yet. */
  private record Reading(GrowingFile file, Client client, AtomicReference<TailReader.Ended> how) {}

  private Reading reading(byte[] bytes, boolean fillsUp) throws Exception {
    Path temporary = Files.write(cache.resolve("part"), bytes);
    GrowingFile file = GrowingFile.open(temporary, bytes.length);
    Client client = new Client();
    client.fillsUp = fillsUp;
    AtomicReference<TailReader.Ended> how = new AtomicReference<>();
    reader(file, client, how);
    return new Reading(file, client, how);
  }

  /**
   * The file is written whole before the reader starts; the client then drains it chunk by chunk.
   */
  @Test
  void aReaderHoldsOneChunkAtATimeAndTheLastByteUntilVerified() throws Exception {
    byte[] bytes = randomBytes(1 << 20);
    Reading reading = reading(bytes, true);
    GrowingFile file = reading.file();
    Client client = reading.client();
    AtomicReference<TailReader.Ended> how = reading.how();

    file.wrote(bytes.length);
    int drains = 0;
    while (client.bytes().length < bytes.length - 1) {
      int expected = drains + 1; // one write per drain, after the first
      await().atMost(Duration.ofSeconds(30)).until(() -> client.writes.size() >= expected);
      assertThat(client.writes).hasSize(expected);
      assertThat(client.full).isTrue(); // and nothing more is read until the client takes it
      client.full = false;
      context.execute(client.drain);
      drains++;
    }
    assertThat(client.bytes()).hasSize(bytes.length - 1);
    assertThat(client.writes).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(TailReader.CHUNK));
    assertThat(client.writes).hasSize(bytes.length / TailReader.CHUNK);
    assertThat(client.ended).isFalse(); // the last byte waits for the sha256

    client.fillsUp = false;
    client.full = false;
    file.ended(GrowingFile.End.VERIFIED);

    await().atMost(Duration.ofSeconds(30)).until(() -> client.ended);
    assertThat(client.bytes()).isEqualTo(bytes);
    assertThat(how).hasValue(TailReader.Ended.COMPLETE);
    assertThat(client.reset).isFalse();
  }

  /**
   * A write can run the drain handler before it returns (Netty's flush tells of a writable channel
   * at once): the reader still sends each byte once and in order. Before, the drain's pump sent the
   * chunk being written again, and the client got a whole-looking file with a chunk twice.
   */
  @Test
  void aDrainRunWithinAWriteSendsNoByteTwice() throws Exception {
    byte[] bytes = randomBytes(1 << 20);
    Reading reading = reading(bytes, true);
    GrowingFile file = reading.file();
    Client client = reading.client();

    file.wrote(bytes.length);
    await().atMost(Duration.ofSeconds(30)).until(() -> client.drain != null); // after one chunk
    client.fillsUp = false;
    client.full = false;
    client.drainsWithinWrite = true;
    context.execute(client.drain);
    file.ended(GrowingFile.End.VERIFIED);

    await().atMost(Duration.ofSeconds(30)).until(() -> client.ended);
    assertThat(client.bytes()).isEqualTo(bytes);
    assertThat(reading.how()).hasValue(TailReader.Ended.COMPLETE);
  }

  /**
   * Once the file is whole and checked, a reader still behind is sent the rest by the kernel, in
   * regions of at most {@link TailReader#REGION} bytes (each finished write counts against the
   * server's idle time-out), not read through user space a chunk at a time.
   */
  @Test
  void theRestOfAVerifiedFileGoesByTheKernel() throws Exception {
    byte[] bytes = randomBytes((int) TailReader.REGION + (1 << 19));
    Reading reading = reading(bytes, true);
    GrowingFile file = reading.file();
    Client client = reading.client();
    client.takesRegions = true;

    file.wrote(bytes.length);
    await().atMost(Duration.ofSeconds(30)).until(() -> client.drain != null); // one chunk sent
    file.ended(GrowingFile.End.VERIFIED);
    client.full = false;
    context.execute(client.drain);

    await().atMost(Duration.ofSeconds(30)).until(() -> client.ended);
    assertThat(client.bytes()).isEqualTo(bytes);
    assertThat(client.writes).hasSize(1);
    assertThat(client.regions) // whole regions, then the rest
        .containsExactly(
            TailReader.REGION, (long) bytes.length - TailReader.CHUNK - TailReader.REGION);
    assertThat(reading.how()).hasValue(TailReader.Ended.COMPLETE);
  }

  /**
   * A reader far behind what is written (a slow client of a large file) reads on a worker, where
   * the disk may be waited for; near it, on its context, where the page cache has the bytes.
   */
  @Test
  void bytesWrittenLongAgoAreReadOffTheEventLoop() throws Exception {
    byte[] bytes = randomBytes((int) TailReader.NEAR + (4 << 20));
    Reading reading = reading(bytes, false);
    GrowingFile file = reading.file();
    Client client = reading.client();
    AtomicReference<TailReader.Ended> how = reading.how();

    file.wrote(bytes.length);
    file.ended(GrowingFile.End.VERIFIED);

    await().atMost(Duration.ofSeconds(30)).until(() -> client.ended);
    assertThat(client.bytes()).isEqualTo(bytes);
    // the first 4 MiB were more than NEAR behind the end: read aside, the rest on the context
    assertThat(readsAside).hasValue((4 << 20) / TailReader.CHUNK);
    assertThat(client.writes).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(TailReader.CHUNK));
  }

  @Test
  void aFailedTransferResetsItsReadersShortOfTheWholeFile() throws Exception {
    byte[] bytes = randomBytes(300_000);
    Reading reading = reading(bytes, false);
    GrowingFile file = reading.file();
    Client client = reading.client();
    AtomicReference<TailReader.Ended> how = reading.how();

    file.wrote(bytes.length);
    await().atMost(Duration.ofSeconds(30)).until(() -> client.bytes().length == bytes.length - 1);
    file.ended(GrowingFile.End.FAILED); // the sha256 did not match

    await().atMost(Duration.ofSeconds(30)).until(() -> client.reset);
    assertThat(client.ended).isFalse();
    assertThat(client.bytes()).hasSize(bytes.length - 1);
    assertThat(how).hasValue(TailReader.Ended.RESET);
    assertThat(file.attach(() -> {})).isFalse(); // a later client does not read it
  }

  /**
   * The volume passes its mark in the middle of a file without a length: the store stops, its
   * temporary file goes, and a reader of it is reset with what it had, a prefix of the file.
   */
  @Test
  void whenTheStoreStopsMidWayItsReadersAreResetAndNothingIsStored() throws Exception {
    var volume = new FileStoreRoomTest.SmallVolume(1 << 20);
    FileStore store = new FileStore(cache, 0.5, Clock.systemUTC(), volume);
    byte[] bytes = randomBytes(2 << 20);
    FileStore.Writer writer = store.begin(NAME, -1).orElseThrow();
    GrowingFile file = GrowingFile.open(writer.temporary(), -1);
    StoreBehind behind = new StoreBehind(Optional.of(writer), () -> {}, file, null, () -> {});
    Client client = new Client();
    client.fillsUp = false;
    AtomicReference<TailReader.Ended> how = new AtomicReference<>();
    reader(file, client, how);

    for (int at = 0; at < bytes.length; at += 65_536) {
      behind.add(ByteBuffer.wrap(bytes, at, 65_536).slice());
    }
    behind.finish(done -> {});

    await().atMost(Duration.ofSeconds(30)).until(() -> client.reset);
    assertThat(file.end()).isEqualTo(GrowingFile.End.STOPPED);
    assertThat(client.ended).isFalse();
    byte[] got = client.bytes();
    assertThat(got.length).isPositive().isLessThan(bytes.length);
    assertThat(got).isEqualTo(Arrays.copyOf(bytes, got.length));
    assertThat(store.cached(NAME)).isEmpty();
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }
}
