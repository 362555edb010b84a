package dev.pypimirror.operator.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Requirement lines: PEP 508 specifiers and --hash only; every pip option refused. */
class RequirementsTest {
  private static final String HASH =
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  @ParameterizedTest
  @ValueSource(
      strings = {
        "requests",
        "requests==2.32.3",
        "Django>=4.2,<5",
        "uvicorn[standard]>=0.30",
        "numpy (>=2, <3)",
        "pywin32==306; sys_platform == 'win32'",
        "tomli>=1.1; python_version < \"3.11\" and platform_machine != 'arm64'",
        "zope.interface~=6.0",
      })
  void specifiersAreTaken(String line) {
    var parsed = Requirements.ofPackages("spec.cache.packages", List.of(line));
    assertThat(parsed.problems()).isEmpty();
    assertThat(parsed.text()).isEqualTo(line + "\n");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--extra-index-url=https://evil.example/simple",
        "-i https://evil.example/simple",
        "--index-url https://evil.example/simple",
        "-f https://evil.example/links",
        "--find-links=/tmp",
        "--trusted-host evil.example",
        "-r other.txt",
        "-c constraints.txt",
        "-e git+https://evil.example/x.git",
        "requests -i https://evil.example/simple",
        "requests --extra-index-url=https://evil.example/simple",
        "requests==1.0 --hash=sha256:" + HASH + " --index-url=https://evil.example/",
        "evil @ https://evil.example/evil-1.0-py3-none-any.whl",
        "https://evil.example/evil-1.0.tar.gz",
        "./local/dir",
        "requests; python_version == 'x -i http://evil.example/'",
        "requests==${VERSION}",
        "requests --hash=md5:0123",
      })
  void optionsAndUrlsAreRefused(String line) {
    var parsed = Requirements.ofPackages("spec.cache.packages", List.of(line));
    assertThat(parsed.problems()).singleElement().asString().startsWith("spec.cache.packages[0]: ");
    assertThat(parsed.lines()).isEmpty();
  }

  @Test
  void aRequirementsFileReadsAsPipDoesAndHashesPin() {
    String file =
        """
        # generated
        requests==2.32.3 \\
            --hash=sha256:%s \\
            --hash=sha256:%s
            # via app
        idna==3.7 --hash=sha256:%s  # comment

        """
            .formatted(HASH, HASH.toUpperCase().replace('0', 'f'), "ab".repeat(32));

    var parsed = Requirements.ofFile("ConfigMap deps", file);

    assertThat(parsed.problems()).isEmpty();
    assertThat(parsed.lines())
        .extracting(Requirements.Line::requirement)
        .containsExactly("requests==2.32.3", "idna==3.7");
    assertThat(parsed.hashed()).isTrue();
    assertThat(parsed.allowedSha256())
        .containsExactly(HASH, HASH.replace('0', 'f'), "ab".repeat(32));
  }

  @Test
  void hashCheckingModeNeedsEveryLineHashedAndPinned() {
    var parsed =
        Requirements.concat(
            Requirements.ofPackages("p", List.of("six>=1 --hash=sha256:" + HASH)),
            Requirements.ofFile("f", "idna==3.7\n"));

    assertThat(parsed.problems())
        .containsExactly(
            "hash-checking mode: every requirement must be pinned with ==; 'six>=1' is not",
            "hash-checking mode (some lines carry --hash): every requirement needs one;"
                + " 'idna==3.7' has none");
  }

  @Test
  void aFileLineNamesWhereItIs() {
    var parsed =
        Requirements.ofFile("ConfigMap deps key requirements.txt", "six\n\n-i http://x/\n");
    assertThat(parsed.problems())
        .singleElement()
        .asString()
        .startsWith("ConfigMap deps key requirements.txt line 3: only requirement specifiers");
  }
}
