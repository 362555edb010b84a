package dev.pypimirror.bench;

import dev.pypimirror.operator.tls.CertificateAuthority;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** A serving certificate for localhost/127.0.0.1, as cert-manager or the operator provides it. */
final class BenchTls {
  private BenchTls() {}

  /** A new directory holding tls.crt and tls.key, valid for a day. */
  static Path servingFiles() throws IOException {
    Path dir = Files.createTempDirectory("bench-tls");
    var ca = CertificateAuthority.create("bench CA", Instant.now(), Duration.ofDays(1));
    var serving =
        ca.issue(List.of("localhost"), List.of("127.0.0.1"), Instant.now(), Duration.ofDays(1));
    Files.writeString(dir.resolve("tls.crt"), serving.certificatePem());
    Files.writeString(dir.resolve("tls.key"), serving.keyPem());
    return dir;
  }
}
