package dev.pypimirror.operator.simple;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A digest a page gives for a file, as PEP 503 spells it in a link's fragment ({@code md5=...}):
 * hashlib's name of the algorithm and the lower-case hex digest.
 */
public record FileHash(String algorithm, String hex) {
  /**
   * The algorithms a file can be checked against, in the order one is picked from what a page
   * gives: sha256 first whenever it is there (every file's sha256 is computed anyway, and it is
   * what PyPI gives), then by collision resistance, SHA-2 before SHA-3 of the same length (what pip
   * also reads in a link), the broken sha1 and md5 last. hashlib's other guaranteed algorithms
   * (blake2b, blake2s, shake_*) have no {@link MessageDigest} and count as no hash.
   */
  static final List<String> CHECKABLE =
      List.of(
          "sha256",
          "sha512",
          "sha3_512",
          "sha384",
          "sha3_384",
          "sha3_256",
          "sha224",
          "sha3_224",
          "sha1",
          "md5");

  /** What pip (sha512, 384, 256, 224, sha1, md5) and uv (md5, sha256, 384, 512) both read. */
  private static final List<String> READ_BY_EVERY_CLIENT =
      List.of("sha256", "sha512", "sha384", "md5");

  public FileHash {
    algorithm = algorithm.toLowerCase(Locale.ROOT);
    hex = hex.toLowerCase(Locale.ROOT);
  }

  public static FileHash sha256(String hex) {
    return new FileHash("sha256", hex);
  }

  /**
   * The hash a file (or its core metadata) is checked against, from the hashes its page gives: the
   * first of {@link #CHECKABLE} given; empty when none is.
   */
  public static Optional<FileHash> expected(Map<String, String> hashes) {
    if (hashes == null) {
      return Optional.empty();
    }
    for (String algorithm : CHECKABLE) {
      String hex = hashes.get(algorithm);
      if (hex != null) {
        return Optional.of(new FileHash(algorithm, hex));
      }
    }
    return Optional.empty();
  }

  /** A hash as {@link #toString()} writes it ({@code md5=...}), when its algorithm is checkable. */
  public static Optional<FileHash> parse(String text) {
    int equals = text.indexOf('=');
    if (equals < 0) {
      return Optional.empty();
    }
    String algorithm = text.substring(0, equals).strip().toLowerCase(Locale.ROOT);
    String hex = text.substring(equals + 1).strip();
    if (!CHECKABLE.contains(algorithm) || !hex.matches("[0-9a-fA-F]{1,128}")) {
      return Optional.empty();
    }
    return Optional.of(new FileHash(algorithm, hex));
  }

  /**
   * Whether pip and uv both read it in an HTML link's fragment: uv refuses a whole page whose
   * fragment names an algorithm it does not know (sha1, sha224, sha3_*).
   */
  public boolean readByEveryClient() {
    return READ_BY_EVERY_CLIENT.contains(algorithm);
  }

  /** A new digest of this algorithm (one of {@link #CHECKABLE}, which the JDK always has). */
  public MessageDigest newDigest() {
    if (!CHECKABLE.contains(algorithm)) {
      throw new IllegalStateException("not a checkable algorithm: " + algorithm);
    }
    String name =
        algorithm.startsWith("sha3_")
            ? "SHA3-" + algorithm.substring(5)
            : algorithm.equals("md5") ? "MD5" : "SHA-" + algorithm.substring(3);
    try {
      return MessageDigest.getInstance(name);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has " + name, e);
    }
  }

  @Override
  public String toString() {
    return algorithm + "=" + hex;
  }
}
