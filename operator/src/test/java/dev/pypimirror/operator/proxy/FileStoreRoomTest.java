package dev.pypimirror.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store's room on a small volume whose used bytes are what its files hold, as a real volume's
 * are: transfers under way reserve what they will write, so together they stay below the high-water
 * mark; one without a length stops storing where it would pass it; and a temporary file that cannot
 * be opened or written leaves nothing behind and says "full" only when space ran out.
 */
class FileStoreRoomTest {
  static final String SHA = "0".repeat(64);

  /**
   * A volume of {@code total} bytes holding the store's files folder; opens, writes and deletes can
   * fail.
   */
  static final class SmallVolume implements FileStore.Disk, FileStore.Disk.Factory {
    final long total;
    Path folder;
    IOException openFails;
    IOException writeFails;
    IOException deleteFails;

    SmallVolume(long total) {
      this.total = total;
    }

    @Override
    public FileStore.Disk of(Path folder) {
      this.folder = folder;
      return this;
    }

    @Override
    public long totalSpace() {
      return total;
    }

    @Override
    public long usableSpace() throws IOException {
      return total - used();
    }

    long used() throws IOException {
      try (Stream<Path> files = Files.list(folder)) {
        long used = 0;
        for (Path file : files.toList()) {
          used += Files.size(file);
        }
        return used;
      }
    }

    @Override
    public void delete(Path file) throws IOException {
      if (deleteFails != null) {
        throw deleteFails;
      }
      Files.deleteIfExists(file);
    }

    @Override
    public WritableByteChannel open(Path temporary) throws IOException {
      if (openFails != null) {
        throw openFails;
      }
      FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE);
      if (writeFails == null) {
        return channel;
      }
      IOException fails = writeFails;
      return new WritableByteChannel() {
        @Override
        public int write(ByteBuffer src) throws IOException {
          throw fails;
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
  }

  @TempDir Path cache;
  final SmallVolume volume = new SmallVolume(1000);
  FileStore store;

  @BeforeEach
  void store() throws IOException {
    store = new FileStore(cache, 1.0, Clock.systemUTC(), volume);
  }

  static ByteBuffer bytes(int n) {
    return ByteBuffer.wrap(new byte[n]);
  }

  List<String> files() throws IOException {
    try (Stream<Path> files = Files.list(cache.resolve("_files"))) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  static FileStore.Writer stored(FileStore store, String name, int size) {
    FileStore.Writer writer = store.begin(name, size).orElseThrow();
    writer.write(bytes(size));
    assertThat(writer.publish(SHA, null)).isTrue();
    return writer;
  }

  @Test
  void concurrentTransfersReserveTheirLengthsSoTogetherTheyStayBelowTheMark() throws IOException {

    FileStore.Writer a = store.begin("a-1.0.tar.gz", 600).orElseThrow();
    // nothing written yet, but a's 600 are promised: another 600 would pass the mark
    assertThat(store.begin("b-1.0.tar.gz", 600)).isEmpty();
    assertThat(store.full()).isTrue();
    a.write(bytes(600));
    assertThat(a.publish(SHA, null)).isTrue();
    assertThat(store.full()).isFalse();

    store.hold("a-1.0.tar.gz"); // being served: not evicted
    FileStore.Writer c = store.begin("c-1.0.tar.gz", 300).orElseThrow();
    c.write(bytes(100));
    assertThat(store.begin("d-1.0.tar.gz", 200)).isEmpty(); // 600 + 300 + 200 > 1000
    c.abort(); // gives its reservation back
    FileStore.Writer d = store.begin("d-1.0.tar.gz", 200).orElseThrow();
    d.write(bytes(200));
    assertThat(d.publish(SHA, null)).isTrue();
    assertThat(files()).containsExactly("a-1.0.tar.gz", "d-1.0.tar.gz");
    assertThat(volume.used()).isEqualTo(800);
  }

  @Test
  void aTransferWithoutALengthEvictsAsItGoesAndStopsStoringWhereItWouldPassTheMark()
      throws IOException {
    stored(store, "f-1.0.tar.gz", 300); // fetched: may be evicted
    Files.write(cache.resolve("_files/synced-1.0.tar.gz"), new byte[400]); // a sync's: never

    FileStore.Writer e = store.begin("e-1.0.tar.gz", -1).orElseThrow();
    for (int i = 0; i < 6; i++) { // the 4th chunk needs f's room
      e.write(bytes(100));
    }
    assertThat(files()).doesNotContain("f-1.0.tar.gz").contains("synced-1.0.tar.gz");
    assertThat(volume.used()).isEqualTo(1000);
    assertThat(store.full()).isFalse();

    e.write(bytes(100)); // would pass the mark, and nothing is left to evict
    assertThat(store.full()).isTrue();
    assertThat(files()).containsExactly("synced-1.0.tar.gz"); // its temporary file is gone
    e.write(bytes(100));
    assertThat(e.publish(SHA, null)).isFalse();
    assertThat(files()).containsExactly("synced-1.0.tar.gz");
    // its reservation is given back: a file that fits is stored
    stored(store, "g-1.0.tar.gz", 600);
  }

  @Test
  void aTemporaryFileThatCannotBeOpenedIsDeletedAndFullOnlyWhenSpaceRanOut() throws IOException {

    volume.openFails = new FileSystemException("x.part", null, "Too many open files");
    assertThat(store.begin("a-1.0.tar.gz", 600)).isEmpty();
    assertThat(store.full()).isFalse();
    assertThat(files()).isEmpty();

    volume.openFails = new FileSystemException("x.part", null, "No space left on device");
    assertThat(store.begin("a-1.0.tar.gz", 600)).isEmpty();
    assertThat(store.full()).isTrue();
    assertThat(files()).isEmpty();

    volume.openFails = null; // both reservations were given back
    stored(store, "a-1.0.tar.gz", 1000);
  }

  @Test
  void aWriteThatFailsStoresNothingAndFullOnlyWhenSpaceRanOut() throws IOException {

    volume.writeFails = new IOException("Input/output error");
    FileStore.Writer a = store.begin("a-1.0.tar.gz", 600).orElseThrow();
    a.write(bytes(100));
    assertThat(files()).isEmpty(); // gone at once, not at the end of the transfer
    assertThat(store.full()).isFalse();
    assertThat(a.publish(SHA, null)).isFalse();

    volume.writeFails = new IOException("No space left on device");
    FileStore.Writer b = store.begin("b-1.0.tar.gz", 600).orElseThrow();
    b.write(bytes(100));
    assertThat(store.full()).isTrue();
    assertThat(b.publish(SHA, null)).isFalse();
    assertThat(files()).isEmpty();

    volume.writeFails = null;
    stored(store, "c-1.0.tar.gz", 1000);
  }

  @Test
  void outOfSpaceIsTheErrorsWordsOrTooFewFreeBytes() {
    long plenty = 1 << 30;
    assertThat(FileStore.outOfSpace(new IOException("No space left on device"), plenty, 10))
        .isTrue();
    assertThat(
            FileStore.outOfSpace(
                new FileSystemException("f", null, "Disk quota exceeded"), plenty, 10))
        .isTrue();
    assertThat(FileStore.outOfSpace(new IOException("Too many open files"), plenty, 10)).isFalse();
    // another language's words: the free bytes tell
    assertThat(
            FileStore.outOfSpace(
                new IOException("Auf dem Gerät ist kein Speicherplatz mehr verfügbar"), 5, 10))
        .isTrue();
    assertThat(FileStore.outOfSpace(new IOException("Permission denied"), plenty, 0)).isFalse();
    assertThat(FileStore.outOfSpace(new IOException("Permission denied"), 0, 0)).isTrue();
  }
}
