package dev.pypimirror.operator.simple;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pypimirror.operator.simple.Resolution.Answer;
import dev.pypimirror.operator.simple.Resolution.Outcome;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Golden tests of the Simple Repository API both ways: a page model renders to these exact bytes
 * (PEP 503 HTML and PEP 691 JSON), and upstream pages parse to this model; then negotiation,
 * resolution across upstreams and freshness as tables.
 */
class SimpleApiTest {
  static final String SHA = "a".repeat(64);
  static final String META = "b".repeat(64);

  static final ProjectPage PAGE =
      new ProjectPage(
          "foo-bar",
          List.of(
              new FileLink(
                  "foo_bar-1.0-py3-none-any.whl",
                  "../../files/foo-bar/foo_bar-1.0-py3-none-any.whl",
                  Map.of("sha256", SHA),
                  ">=3.8",
                  null,
                  Map.of("sha256", META)),
              new FileLink(
                  "foo_bar-0.9.tar.gz",
                  "../../files/foo-bar/foo_bar-0.9.tar.gz",
                  Map.of(),
                  "",
                  "broken <build>",
                  null)));

  @Test
  void aProjectPageRendersAsPep503Html() {
    assertThat(SimpleHtml.projectPage("foo-bar", PAGE.files(), null))
        .isEqualTo(
            """
            <!DOCTYPE html>
            <html>
            <head>
            <meta name="pypi:repository-version" content="1.0">
            <title>foo-bar</title>
            </head>
            <body>
            <h1>Links for foo-bar</h1>
            <a href="../../files/foo-bar/foo_bar-1.0-py3-none-any.whl#sha256=%s" \
            data-requires-python="&gt;=3.8" data-core-metadata="sha256=%s" \
            data-dist-info-metadata="sha256=%s">foo_bar-1.0-py3-none-any.whl</a><br/>
            <a href="../../files/foo-bar/foo_bar-0.9.tar.gz" data-yanked="broken &lt;build&gt;">\
            foo_bar-0.9.tar.gz</a><br/>
            </body>
            </html>
            """
                .formatted(SHA, META, META));
  }

  @Test
  void aProjectPageRendersAsPep691Json() {
    assertThat(new String(SimpleJson.projectPage(PAGE), StandardCharsets.UTF_8))
        .isEqualTo(
            ("{\"meta\":{\"api-version\":\"1.0\"},\"name\":\"foo-bar\",\"files\":["
                    + "{\"filename\":\"foo_bar-1.0-py3-none-any.whl\","
                    + "\"url\":\"../../files/foo-bar/foo_bar-1.0-py3-none-any.whl\","
                    + "\"hashes\":{\"sha256\":\"%s\"},\"requires-python\":\">=3.8\","
                    + "\"core-metadata\":{\"sha256\":\"%s\"},\"dist-info-metadata\":{\"sha256\":\"%s\"}},"
                    + "{\"filename\":\"foo_bar-0.9.tar.gz\",\"url\":\"../../files/foo-bar/foo_bar-0.9.tar.gz\","
                    + "\"hashes\":{},\"yanked\":\"broken <build>\"}]}")
                .formatted(SHA, META, META));
  }

  @Test
  void bothRenderingsParseBackToTheSamePageWithAbsoluteUrls() throws IOException {
    URI base = URI.create("https://up.example/simple/foo-bar/");
    ProjectPage absolute =
        new ProjectPage(
            "foo-bar",
            PAGE.files().stream().map(f -> f.at(base.resolve(f.url()).toString())).toList());
    assertThat(
            SimpleHtml.parse(
                "foo-bar", SimpleHtml.projectPage("foo-bar", PAGE.files(), null), base))
        .isEqualTo(absolute);
    assertThat(SimpleJson.parse("foo-bar", SimpleJson.projectPage(PAGE), base)).isEqualTo(absolute);
  }

  @Test
  void upstreamHtmlAsPypiAndOthersWriteItParses() {
    String html =
        """
        <html><body>
        <A HREF='https://files.example/packages/x/foo_bar-2.0.tar.gz#sha256=ABCDEF01' data-requires-python="&gt;=3.9,&lt;4">
          foo_bar-2.0.tar.gz </A>
        <a href="/packages/foo_bar-1.0-py3-none-any.whl#md5=0123" data-yanked data-dist-info-metadata="true">foo_bar-1.0-py3-none-any.whl</a>
        <a>no href</a>
        </body></html>
        """;
    ProjectPage page =
        SimpleHtml.parse("foo-bar", html, URI.create("http://up.example:8080/simple/foo-bar/"));
    assertThat(page.files())
        .containsExactly(
            new FileLink(
                "foo_bar-2.0.tar.gz",
                "https://files.example/packages/x/foo_bar-2.0.tar.gz",
                Map.of("sha256", "abcdef01"),
                ">=3.9,<4",
                null,
                null),
            new FileLink(
                "foo_bar-1.0-py3-none-any.whl",
                "http://up.example:8080/packages/foo_bar-1.0-py3-none-any.whl",
                Map.of("md5", "0123"),
                "",
                "",
                Map.of()));
  }

  @Test
  void jsonThatIsNotAProjectPageIsRefused() {
    assertThatThrownBy(
            () ->
                SimpleJson.parse(
                    "x", "{\"meta\":{}}".getBytes(), URI.create("https://u/simple/x/")))
        .isInstanceOf(IOException.class);
  }

  @Test
  void theRootPageListsProjects() {
    assertThat(SimpleHtml.rootPage(List.of("a-b"), null))
        .endsWith("<body>\n<a href=\"a-b/\">a-b</a><br/>\n</body>\n</html>\n");
    assertThat(new String(SimpleJson.rootPage(List.of("a-b")), StandardCharsets.UTF_8))
        .isEqualTo("{\"meta\":{\"api-version\":\"1.0\"},\"projects\":[{\"name\":\"a-b\"}]}");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      nullValues = "null",
      value = {
        // pip's and uv's own Accept headers
        "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01|null|JSON_V1",
        "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01|null|JSON_V1",
        "null|null|TEXT_HTML",
        "*/*|null|TEXT_HTML",
        "text/html|null|TEXT_HTML",
        "application/vnd.pypi.simple.v1+html|null|HTML_V1",
        "application/vnd.pypi.simple.latest+json|null|JSON_V1",
        "application/*;q=0.5, text/html;q=0.4|null|HTML_V1",
        "application/vnd.pypi.simple.v1+json;q=0, text/html;q=0.1|null|TEXT_HTML",
        "image/png|null|null",
        "text/html|application/vnd.pypi.simple.v1+json|JSON_V1",
        "null|text/html|TEXT_HTML",
        "null|json|null",
      })
  void contentNegotiation(String accept, String format, String expected) {
    assertThat(PageFormat.negotiate(accept, format))
        .isEqualTo(Optional.ofNullable(expected).map(PageFormat::valueOf));
  }

  @Test
  void projectNamesNormalizeAsPep503Says() {
    assertThat(ProjectName.parse("Foo.Bar__baz-QUX")).contains("foo-bar-baz-qux");
    assertThat(ProjectName.parse("-foo")).isEmpty();
    assertThat(ProjectName.parse("foo/bar")).isEmpty();
    assertThat(ProjectName.parse("..")).isEmpty();
  }

  static Answer found(String file) {
    return new Answer.Found(
        new ProjectPage(
            "p", List.of(new FileLink(file, "https://u/" + file, Map.of(), "", null, null))));
  }

  static List<String> files(Outcome outcome) {
    return ((Outcome.Page) outcome).page().files().stream().map(FileLink::filename).toList();
  }

  @Test
  void firstMatchTakesTheFirstUpstreamThatHasTheProjectAlone() {
    var missing = new Answer.Missing();
    assertThat(
            files(Resolution.FirstMatch.resolve("p", List.of(found("p-1.whl"), found("p-9.whl")))))
        .containsExactly("p-1.whl");
    assertThat(files(Resolution.FirstMatch.resolve("p", List.of(missing, found("p-9.whl")))))
        .containsExactly("p-9.whl");
    // a failed upstream before the one that has it: undecided, never the later one's page
    assertThat(Resolution.FirstMatch.resolve("p", List.of(new Answer.Failed(), found("p-9.whl"))))
        .isInstanceOf(Outcome.Unavailable.class);
    assertThat(Resolution.FirstMatch.resolve("p", List.of(missing, missing)))
        .isInstanceOf(Outcome.NotFound.class);
    assertThat(Resolution.FirstMatch.askNext(List.of(missing))).isTrue();
    assertThat(Resolution.FirstMatch.askNext(List.of(found("p-1.whl")))).isFalse();
  }

  @Test
  void mergeTakesEveryUpstreamsFilesEachNameOnceTheFirst() {
    assertThat(
            files(
                Resolution.Merge.resolve(
                    "p",
                    List.of(
                        found("p-1.whl"),
                        new Answer.Failed(),
                        found("p-9.whl"),
                        found("p-1.whl")))))
        .containsExactly("p-1.whl", "p-9.whl");
    assertThat(Resolution.Merge.resolve("p", List.of(new Answer.Failed(), new Answer.Missing())))
        .isInstanceOf(Outcome.Unavailable.class);
    assertThat(Resolution.Merge.askNext(List.of(found("p-1.whl")))).isTrue();
  }

  @Test
  void aPageIsFreshWithinItsTtlAndAnAbsenceForAMinuteAtMost() {
    Freshness freshness = Freshness.of(Duration.ofSeconds(600));
    Instant fetched = Instant.parse("2026-01-01T00:00:00Z");
    assertThat(freshness.decide(true, fetched, fetched.plusSeconds(599)))
        .isEqualTo(Freshness.Decision.FRESH);
    assertThat(freshness.decide(true, fetched, fetched.plusSeconds(600)))
        .isEqualTo(Freshness.Decision.REVALIDATE);
    assertThat(freshness.decide(false, fetched, fetched.plusSeconds(59)))
        .isEqualTo(Freshness.Decision.FRESH);
    assertThat(freshness.decide(false, fetched, fetched.plusSeconds(60)))
        .isEqualTo(Freshness.Decision.REVALIDATE);
    assertThat(Freshness.of(Duration.ZERO).decide(true, fetched, fetched))
        .isEqualTo(Freshness.Decision.REVALIDATE);
  }
}
