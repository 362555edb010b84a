package dev.pypimirror.operator.simple;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Which of a page's hashes the proxy checks a file against, and how the proxy's HTML page gives it
 * on.
 */
class FileHashTest {
  /** given: the algorithms a page gives (each digest is its own name's letters); picked: which. */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "sha256                              | sha256",
        "md5 sha256                          | sha256",
        "sha512 sha256                       | sha256",
        "md5                                 | md5",
        "sha1 md5                            | sha1",
        "md5 sha1 sha224                     | sha224",
        "sha224 sha3_224                     | sha224",
        "sha3_224 sha1                       | sha3_224",
        "sha3_256 sha224                     | sha3_256",
        "sha384 sha3_512                     | sha3_512",
        "sha3_384 sha384                     | sha384",
        "sha512 sha384 md5                   | sha512",
        "sha3_512 sha512                     | sha512",
        "blake2b                             | none",
        "blake2s shake_128 shake_256         | none",
        "blake2b md5                         | md5",
        "sha512_256                          | none",
        "''                                  | none",
      })
  void thePageHashCheckedIsSha256ElseTheStrongestTheJdkHas(String given, String picked) {
    Optional<FileHash> expected = FileHash.expected(hashes(given));

    if (picked.equals("none")) {
      assertThat(expected).isEmpty();
    } else {
      assertThat(expected).contains(new FileHash(picked, hex(picked)));
    }
  }

  @Test
  void everyCheckableAlgorithmHasADigestOfItsLength() {
    Map<String, Integer> bytes =
        Map.of(
            "sha256",
            32,
            "sha512",
            64,
            "sha384",
            48,
            "sha3_512",
            64,
            "sha3_384",
            48,
            "sha3_256",
            32,
            "sha224",
            28,
            "sha3_224",
            28,
            "sha1",
            20,
            "md5",
            16);
    assertThat(bytes.keySet()).containsExactlyInAnyOrderElementsOf(FileHash.CHECKABLE);
    bytes.forEach(
        (algorithm, length) ->
            assertThat(new FileHash(algorithm, "").newDigest().digest(new byte[0]))
                .as(algorithm)
                .hasSize(length));
    // the known empty-input digests, so a name mapped to another algorithm fails
    assertThat(HexFormat.of().formatHex(new FileHash("md5", "").newDigest().digest()))
        .isEqualTo("d41d8cd98f00b204e9800998ecf8427e");
    assertThat(HexFormat.of().formatHex(new FileHash("sha3_256", "").newDigest().digest()))
        .isEqualTo("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    assertThat(HexFormat.of().formatHex(new FileHash("sha224", "").newDigest().digest()))
        .isEqualTo("d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f");
  }

  @Test
  void aHashReadsBackAsWritten() {
    assertThat(FileHash.parse("md5=ABCDEF0123")).contains(new FileHash("md5", "abcdef0123"));
    assertThat(FileHash.parse(new FileHash("sha3_512", "00ff").toString()))
        .contains(new FileHash("sha3_512", "00ff"));
    assertThat(FileHash.parse("blake2b=00ff")).isEmpty();
    assertThat(FileHash.parse("md5=not-hex")).isEmpty();
    assertThat(FileHash.parse("md5")).isEmpty();
    assertThat(FileHash.parse("")).isEmpty();
  }

  /**
   * The proxy's HTML page gives the checked hash on in the link's fragment (and core metadata's
   * attribute) when pip and uv both read it; uv refuses a page whose fragment names sha1, sha224 or
   * sha3_*, so those are left out (the proxy still checks them).
   */
  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "sha256 md5 | #sha256=",
        "md5        | #md5=",
        "sha512     | #sha512=",
        "sha384     | #sha384=",
        "sha1       | ''",
        "sha3_256   | ''",
        "sha224 md5 | ''",
        "blake2b    | ''",
      })
  void theHtmlPageGivesTheCheckedHashWhenEveryClientReadsIt(String given, String fragment) {
    Map<String, String> hashes = hashes(given);
    FileLink link = new FileLink("demo-1.0.tar.gz", "demo-1.0.tar.gz", hashes, "", null, hashes);

    String html = SimpleHtml.projectPage("demo", List.of(link), null);

    String picked = fragment.isEmpty() ? null : fragment.substring(1, fragment.length() - 1);
    if (picked == null) {
      assertThat(html)
          .contains("<a href=\"demo-1.0.tar.gz\" data-core-metadata=\"true\"")
          .doesNotContain("#");
    } else {
      assertThat(html)
          .contains(
              "<a href=\"demo-1.0.tar.gz"
                  + fragment
                  + hex(picked)
                  + "\" data-core-metadata=\""
                  + picked
                  + "="
                  + hex(picked)
                  + "\"");
    }
  }

  /** A page's hashes of the algorithms named, space-separated, each digest saying its own. */
  private static Map<String, String> hashes(String algorithms) {
    Map<String, String> hashes = new LinkedHashMap<>();
    Arrays.stream(algorithms.split(" "))
        .filter(a -> !a.isEmpty())
        .forEach(a -> hashes.put(a, hex(a)));
    return hashes;
  }

  /** A digest that says which algorithm it was given for. */
  private static String hex(String algorithm) {
    return HexFormat.of().formatHex(algorithm.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }
}
