package dev.pypimirror.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file being fetched, as its readers and its relay's watchdog see it: deciding that nobody is
 * attached and failing the transfer is one step with attaching, so a reader is either attached to a
 * transfer that goes on or refused (and fetches the file itself), never attached to one being cut.
 */
class GrowingFileTest {
  static final long STALL = 1_000_000_000L;

  @TempDir Path scratch;

  GrowingFile file() throws Exception {
    return GrowingFile.open(Files.write(scratch.resolve("part"), new byte[10]), 10);
  }

  @Test
  void aTransferFailedForWantOfReadersRefusesTheReaderThatComesNext() throws Exception {
    GrowingFile file = file();

    assertThat(file.failIfUnattended(System.nanoTime() + STALL, STALL)).isTrue();

    assertThat(file.end()).isEqualTo(GrowingFile.End.FAILED);
    assertThat(file.attach(() -> {})).isFalse();
  }

  @Test
  void aReaderAttachedFirstKeepsTheTransfer() throws Exception {
    GrowingFile file = file();
    Runnable reader = () -> {};
    assertThat(file.attach(reader)).isTrue();

    assertThat(file.failIfUnattended(System.nanoTime() + STALL, STALL)).isFalse();
    assertThat(file.end()).isNull();

    file.detach(reader); // unattended from now: not yet for a whole stall
    assertThat(file.failIfUnattended(System.nanoTime(), STALL)).isFalse();
    assertThat(file.failIfUnattended(System.nanoTime() + STALL, STALL)).isTrue();
  }

  @Test
  void anEndedTransferIsNotFailedAgain() throws Exception {
    GrowingFile file = file();
    file.ended(GrowingFile.End.VERIFIED);

    assertThat(file.failIfUnattended(System.nanoTime() + STALL, STALL)).isFalse();
    assertThat(file.end()).isEqualTo(GrowingFile.End.VERIFIED);
  }
}
