package dev.pypimirror.operator.cache;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DistributionFileTest {
  @ParameterizedTest
  @CsvSource({
    "requests-2.31.0-py3-none-any.whl, requests, 2.31.0, requests",
    "zope.interface-6.1-cp311-cp311-manylinux_2_17_x86_64.whl, zope.interface, 6.1, zope-interface",
    "Foo_Bar-1.0-1-py3-none-any.whl, Foo_Bar, 1.0, foo-bar",
    "python-dateutil-2.8.2.tar.gz, python-dateutil, 2.8.2, python-dateutil",
    "foo-2fa-1.0.tar.gz, foo-2fa, 1.0, foo-2fa",
    "zope.interface-5.4.0.zip, zope.interface, 5.4.0, zope-interface",
    "My__Odd..Name-0.1.post1.tar.gz, My__Odd..Name, 0.1.post1, my-odd-name",
    "pkg-1.0+local.7-py2.py3-none-any.whl, pkg, 1.0+local.7, pkg",
  })
  void namesAndVersionsAreParsed(String file, String project, String version, String normalized) {
    DistributionFile parsed = DistributionFile.parse(file).orElseThrow();

    assertThat(parsed.project()).isEqualTo(project);
    assertThat(parsed.version()).isEqualTo(version);
    assertThat(parsed.normalizedProject()).isEqualTo(normalized);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "README.md",
        "index.html",
        "broken.whl",
        "noversion.tar.gz",
        "a-b-c.whl",
        "x-y-py3-none-any.whl"
      })
  void otherFilesAreNotDistributions(String file) {
    assertThat(DistributionFile.parse(file)).isEmpty();
  }
}
