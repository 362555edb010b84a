package dev.pypimirror.operator.proxy;

import dev.pypimirror.operator.simple.FileHash;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A transfer's digests, in one pass over its chunks: the sha256 always (it names the stored file in
 * its marker, its ETag and the proxy's page), and the page's expected hash's when that is another
 * algorithm. Called by one thread at a time.
 */
final class TransferDigests {
  private final FileHash expected; // null: the page gave no hash the proxy can check
  private final MessageDigest sha256 = FileStore.sha256();
  private final MessageDigest other; // null: the expectation is sha256, or none

  TransferDigests(FileHash expected) {
    this.expected = expected;
    this.other =
        expected == null || expected.algorithm().equals("sha256") ? null : expected.newDigest();
  }

  void update(ByteBuffer chunk) {
    if (other != null) {
      other.update(chunk.duplicate());
    }
    sha256.update(chunk);
  }

  /** After the last chunk: what the bytes hashed to, and whether that is what was expected. */
  Checked done() {
    String sha = HexFormat.of().formatHex(sha256.digest());
    FileHash actual =
        other == null
            ? FileHash.sha256(sha)
            : new FileHash(expected.algorithm(), HexFormat.of().formatHex(other.digest()));
    return new Checked(sha, actual, expected == null || expected.equals(actual));
  }

  /**
   * @param sha256 the bytes' sha256
   * @param actual the bytes' digest in the expected hash's algorithm (sha256 when none was)
   * @param matches whether that is the expected one (true when none was expected)
   */
  record Checked(String sha256, FileHash actual, boolean matches) {
    /** The verified digest of another algorithm than sha256 (for the marker), or null. */
    FileHash otherVerified() {
      return matches && !actual.algorithm().equals("sha256") ? actual : null;
    }
  }
}
