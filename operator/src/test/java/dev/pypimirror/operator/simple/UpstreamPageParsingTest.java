package dev.pypimirror.operator.simple;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Upstream pages as an upstream may write them. Hostile shapes that made the earlier
 * regular-expression parser take time growing with the square of the page (200,000 unclosed
 * anchors: hours) come back at once with the right links, and pages generated from a list of links
 * in the many ways real indexes write PEP 503 parse back to exactly that list.
 */
class UpstreamPageParsingTest {
  static final URI BASE = URI.create("https://up.example/simple/foo/");
  static final int OPENERS = 200_000;
  static final String LINK =
      "<a href=\"foo-1.0.tar.gz#sha256=" + "a".repeat(64) + "\">foo-1.0.tar.gz</a>";

  static List<FileLink> parse(String html) {
    return SimpleHtml.parse("foo", html, BASE).files();
  }

  static List<String> names(String html) {
    return parse(html).stream().map(FileLink::filename).toList();
  }

  /** The anchors' texts (what a root page's project names are read from). */
  static List<String> texts(String html) {
    return HtmlAnchors.in(html).stream().map(HtmlAnchors.Anchor::text).toList();
  }

  @Test
  void unclosedAnchorsGiveNoLinks() {
    assertThat(parse("<a x>".repeat(OPENERS))).isEmpty();
    assertThat(parse("<a href=\"foo-1.0.tar.gz\">foo-1.0.tar.gz".repeat(OPENERS))).isEmpty();
    // the proxy's page limit, 32 MiB, of openers
    assertThat(parse("<A x>".repeat((32 << 20) / 5))).isEmpty();
    // the first opener's text runs to the one </a>, as it always did: it has no href
    assertThat(parse("<a x>".repeat(OPENERS) + LINK)).isEmpty();
    // links before the unclosed ones are kept
    assertThat(names(LINK + "<a x>".repeat(OPENERS))).containsExactly("foo-1.0.tar.gz");
  }

  @Test
  void tagsCutByTheEndOfThePageGiveNoLinks() {
    assertThat(parse("<a ".repeat(OPENERS))).isEmpty();
    assertThat(parse(LINK + "<a href=\"x".repeat(OPENERS))).hasSize(1);
    assertThat(parse(LINK + "<a href='".repeat(OPENERS))).hasSize(1);
    assertThat(parse(LINK + "<a href=".repeat(OPENERS))).hasSize(1);
    assertThat(parse("<a href=\"" + "x".repeat(10 << 20))).isEmpty();
    assertThat(parse(LINK + "<a href=x>foo-2.0.tar.gz" + "</a ".repeat(OPENERS))).hasSize(1);
  }

  @Test
  void nestedOpenersMakeOneLinkOfTheFirst() {
    assertThat(parse("<a href=\"foo-1.0.tar.gz\">".repeat(OPENERS) + "foo-1.0.tar.gz</a>"))
        .singleElement()
        .extracting(FileLink::url)
        .isEqualTo("https://up.example/simple/foo/foo-1.0.tar.gz");
  }

  @Test
  void hugeAttributesAndTextsAreReadOnce() {
    String longName = "x".repeat(1 << 20);
    List<FileLink> links =
        parse("<a data-x=\"" + longName + "\" href=\"foo-1.0.tar.gz\">foo-1.0.tar.gz</a>");
    assertThat(links).extracting(FileLink::filename).containsExactly("foo-1.0.tar.gz");
    // '<' with no '>' in a link's text stays, as does '&' with no entity
    assertThat(texts("<a href=\"f\">" + "<".repeat(OPENERS) + "f</a>"))
        .containsExactly("<".repeat(OPENERS) + "f");
    assertThat(texts("<a href=\"f\">&" + "a".repeat(1 << 20) + "</a>"))
        .containsExactly("&" + "a".repeat(1 << 20));
    assertThat(texts("<a href=\"f\">" + "<b>".repeat(OPENERS) + "f</a>")).containsExactly("f");
    assertThat(texts("<a href=\"f\" " + "data-x ".repeat(OPENERS) + ">f</a>")).containsExactly("f");
  }

  @Test
  void linksWithManyDotSegmentsAreDropped() {
    String deep = "a/".repeat(100_000) + "../".repeat(100_000) + "foo-1.0.tar.gz";
    assertThat(parse("<a href=\"" + deep + "\">foo-1.0.tar.gz</a>\n" + LINK))
        .extracting(FileLink::url)
        .containsExactly("https://up.example/simple/foo/foo-1.0.tar.gz");
    assertThat(parse("<a href=\"../../packages/./foo-1.0.tar.gz\">foo-1.0.tar.gz</a>"))
        .extracting(FileLink::url)
        .containsExactly("https://up.example/packages/foo-1.0.tar.gz");
    // an absolute path is taken as it is (URI.resolve does not normalize it)
    assertThat(parse("<a href=\"/" + deep + "\">foo-1.0.tar.gz</a>")).hasSize(1);
    // a redirect's Location the same way (the proxy's upstream client resolves it so)
    LinkTargets targets = new LinkTargets(BASE);
    assertThat(targets.resolve("a/".repeat(64_000) + "../".repeat(64_000) + "x/")).isEmpty();
    assertThat(targets.resolve("../bar/")).contains(URI.create("https://up.example/simple/bar/"));
    // a page whose URL (where redirects led) has too many of its own: relative links dropped
    URI deepBase = URI.create("https://up.example/" + "./".repeat(20) + "simple/foo/");
    assertThat(SimpleHtml.parse("foo", LINK, deepBase).files()).isEmpty();
    assertThat(
            SimpleHtml.parse("foo", "<a href=\"https://f.example/foo-1.0.tar.gz\">f</a>", deepBase)
                .files())
        .hasSize(1);
  }

  @Test
  void hostileJsonPagesAreRefusedOrParsedWithoutDeepLinks() throws IOException {
    byte[] nested = "[".repeat(OPENERS).getBytes(StandardCharsets.US_ASCII);
    assertThatThrownBy(() -> SimpleJson.parse("foo", nested, BASE)).isInstanceOf(IOException.class);
    String deep = "a/".repeat(100_000) + "../".repeat(100_000) + "foo-1.0.tar.gz";
    String page =
        "{\"meta\":{\"api-version\":\"1.0\"},\"name\":\"foo\",\"files\":["
            + "{\"filename\":\"foo-1.0.tar.gz\",\"url\":\""
            + deep
            + "\",\"hashes\":{}},"
            + "{\"filename\":\"foo-1.0.tar.gz\",\"url\":\"../../p/foo-1.0.tar.gz\",\"hashes\":{}}]}";
    assertThat(SimpleJson.parse("foo", page.getBytes(StandardCharsets.UTF_8), BASE).files())
        .extracting(FileLink::url)
        .containsExactly("https://up.example/p/foo-1.0.tar.gz");
  }

  @Test
  void theRootPageIsReadTheSameWay() {
    assertThat(SimpleHtml.parseRoot("<a x>".repeat(OPENERS))).isEmpty();
    assertThat(SimpleHtml.parseRoot("<a href=\"foo/\">Foo</a>\n".repeat(3) + "<a "))
        .containsExactly("foo", "foo", "foo");
  }

  @Test
  void attributesAsHtmlTokenizesThem() {
    String html =
        """
        <a data-requires-python=">=3.8" href=foo-1.0.tar.gz#sha256=AB data-yanked >foo-1.0.tar.gz</a>
        <A\tHREF = 'foo-2.0.tar.gz' DATA-YANKED="it&#39;s &amp; &#x3C;broken&#62;"/>foo-2.0.tar.gz</A >
        <a href="foo-3.0.tar.gz" href="other" data-core-metadata=sha256=CD data-dist-info-metadata=true
        >  <span>foo-3.0.tar.gz</span>\n</a\n>
        """;
    assertThat(parse(html))
        .containsExactly(
            new FileLink(
                "foo-1.0.tar.gz",
                "https://up.example/simple/foo/foo-1.0.tar.gz",
                Map.of("sha256", "ab"),
                ">=3.8",
                "",
                null),
            new FileLink(
                "foo-2.0.tar.gz",
                "https://up.example/simple/foo/foo-2.0.tar.gz",
                Map.of(),
                "",
                "it's & <broken>",
                null),
            new FileLink(
                "foo-3.0.tar.gz",
                "https://up.example/simple/foo/foo-3.0.tar.gz",
                Map.of(),
                "",
                null,
                Map.of("sha256", "cd")));
  }

  @Test
  void aFilesNameIsItsUrlsLastSegmentNotTheLinkText() {
    assertThat(parse("<a href=\"../../p/foo-2.0.tar.gz#sha256=AB\">foo-1.0.tar.gz</a>"))
        .containsExactly(
            new FileLink(
                "foo-2.0.tar.gz",
                "https://up.example/p/foo-2.0.tar.gz",
                Map.of("sha256", "ab"),
                "",
                null,
                null));
    assertThat(names("<a href=\"foo-1.0%2Bcpu.tar.gz\"></a><a href=\"dir/foo-1.0.zip/\">x</a>"))
        .containsExactly("foo-1.0+cpu.tar.gz", "foo-1.0.zip");
    assertThat(names("<a href=\"https://up.example/\">x</a><a href=\"\">y</a><a>z</a>")).isEmpty();
  }

  @Test
  void aHashIsReadBesideOtherPartsOfTheFragment() {
    String sha = "ab".repeat(32);
    assertThat(
            parse("<a href=\"foo-1.0.tar.gz#egg=foo&amp;sha256=" + sha.toUpperCase() + "\">f</a>"))
        .extracting(FileLink::sha256)
        .containsExactly(sha);
    assertThat(
            parse(
                "<a href=\"foo-1.0.tar.gz#md5=" + "cd".repeat(16) + "&sha256=" + sha + "\">f</a>"))
        .extracting(FileLink::hashes)
        .containsExactly(Map.of("md5", "cd".repeat(16), "sha256", sha));
    assertThat(
            parse("<a href=\"foo-1.0.tar.gz#sha256=" + sha + "&subdirectory=x&sha256=00\">f</a>"))
        .extracting(FileLink::sha256)
        .containsExactly(sha);
    assertThat(parse("<a href=\"foo-1.0.tar.gz#egg=foo&sha256=not-hex\">f</a>"))
        .extracting(FileLink::hashes)
        .containsExactly(Map.of());
  }

  @Test
  void commentsScriptsAndStylesHoldNoLinks() {
    String hidden = "<a href=\"foo-6.6.tar.gz\">foo-6.6.tar.gz</a>";
    assertThat(
            names(
                "<!-- "
                    + hidden
                    + " --><!--><!--->"
                    + LINK
                    + "<!-- -- --!>"
                    + "<script type=\"x>y\">'"
                    + hidden
                    + "'</script ><Style>"
                    + hidden
                    + "</STYLE>"
                    + LINK.replace("1.0", "2.0")))
        .containsExactly("foo-1.0.tar.gz", "foo-2.0.tar.gz");
    // what the page does not close hides everything after it, as the end of input ends it
    assertThat(names(LINK + "<!-- " + hidden)).containsExactly("foo-1.0.tar.gz");
    assertThat(names(LINK + "<script>" + hidden)).containsExactly("foo-1.0.tar.gz");
    // and stays linear: many comments, long runs of dashes, unclosed raw text
    assertThat(names("<!-- x -->".repeat(OPENERS) + LINK)).containsExactly("foo-1.0.tar.gz");
    assertThat(names("<!--" + "-".repeat(1 << 20) + "->" + LINK)).containsExactly("foo-1.0.tar.gz");
    assertThat(names("<script>" + "</scrip".repeat(OPENERS))).isEmpty();
  }

  @Test
  void theFirstBaseWithAnHrefIsWhereLinksAreFrom() {
    String page =
        "<base target=\"_top\"><a href=\"foo-1.0.tar.gz\">f</a>"
            + "<BASE HREF=\"../../packages/\"><base href=\"https://other.example/\">";
    assertThat(parse(page))
        .extracting(FileLink::url)
        .containsExactly("https://up.example/packages/foo-1.0.tar.gz");
    assertThat(parse("<base href=\"https://files.example/x/\">" + LINK))
        .extracting(FileLink::url)
        .containsExactly("https://files.example/x/foo-1.0.tar.gz");
    assertThat(parse("<base href=\"::not a url\">" + LINK))
        .extracting(FileLink::url)
        .containsExactly("https://up.example/simple/foo/foo-1.0.tar.gz");
  }

  @Test
  void jsonFilesWhoseNameIsNotTheirUrlsAreDropped() throws IOException {
    String page =
        """
        {"meta": {"api-version": "1.0"}, "name": "foo", "files": [
          {"filename": "foo-1.0.tar.gz", "url": "../../p/foo-2.0.tar.gz", "hashes": {}},
          {"filename": "foo-1.0+cpu.tar.gz", "url": "foo-1.0%2Bcpu.tar.gz", "hashes": {}}]}
        """;
    assertThat(SimpleJson.parse("foo", page.getBytes(StandardCharsets.UTF_8), BASE).files())
        .extracting(FileLink::filename)
        .containsExactly("foo-1.0+cpu.tar.gz");
  }

  /**
   * Property: for pages generated from a list of links, in the ways indexes write them (PyPI,
   * devpi, Artifactory, Nexus, pypiserver, this project), the parse gives back exactly the list.
   */
  @Test
  void pagesWrittenFromLinksParseBackToThoseLinks() {
    Random random = new Random(20261205);
    for (int round = 0; round < 500; round++) {
      List<FileLink> links = new ArrayList<>();
      int count = random.nextInt(12);
      for (int i = 0; i < count; i++) {
        links.add(link(random));
      }
      String html;
      if (round % 5 == 0) { // as this project writes it: sha256, or a hash every client reads
        links.replaceAll(
            l ->
                FileHash.expected(l.hashes()).filter(FileHash::readByEveryClient).isPresent()
                    ? l
                    : new FileLink(
                        l.filename(),
                        l.url(),
                        Map.of(),
                        l.requiresPython(),
                        l.yanked(),
                        l.coreMetadata()));
        html = SimpleHtml.projectPage("foo", links, "<!-- a comment -->");
      } else {
        html = page(random, links);
      }
      List<FileLink> expected =
          links.stream().map(l -> l.at(BASE.resolve(l.url()).toString())).toList();
      assertThat(parse(html)).as(html).isEqualTo(expected);
    }
  }

  static FileLink link(Random random) {
    String project = "foo" + (random.nextBoolean() ? "" : "_bar");
    String version =
        random.nextInt(30) + "." + random.nextInt(10) + pick(random, "", "rc1", "+cpu", ".post1");
    String filename =
        project
            + "-"
            + version
            + pick(
                random,
                "-py3-none-any.whl",
                ".tar.gz",
                ".zip",
                "-cp312-cp312-manylinux_2_17_x86_64.whl");
    String url =
        pick(
                random,
                "https://files.example/packages/" + hex(random, 2) + "/" + hex(random, 28) + "/",
                "../../packages/",
                "/root/pypi/+f/" + hex(random, 3) + "/",
                "",
                "http://up.example:8080/repository/pypi/packages/")
            + filename.replace("+", "%2B");
    Map<String, String> hashes =
        switch (random.nextInt(4)) {
          case 0 -> Map.of();
          case 1 -> Map.of("sha256", hex(random, 64));
          case 2 -> Map.of("sha3_256", hex(random, 64));
          default -> Map.of("md5", hex(random, 32));
        };
    String requiresPython =
        pick(random, "", ">=3.8", ">=3.6, <4", "!=3.0.*,!=3.1.*,>=2.7", "~=3.10");
    String yanked = pick(random, null, "", "broken <build> & 'quotes' \"too\"", "use 2.0 instead");
    Map<String, String> metadata =
        switch (random.nextInt(3)) {
          case 0 -> null;
          case 1 -> Map.of();
          default -> Map.of("sha256", hex(random, 64));
        };
    return new FileLink(filename, url, hashes, requiresPython, yanked, metadata);
  }

  /** A page as another index might write it: tag case, quoting, order, spacing, entities vary. */
  static String page(Random random, List<FileLink> links) {
    StringBuilder html = new StringBuilder();
    html.append(pick(random, "", "<!DOCTYPE html>\n"))
        .append(
            "<html><head><title>Links for foo</title></head>\n<BODY>\n<h1>Links for foo</h1>\n");
    for (FileLink link : links) {
      Map<String, String> attributes = new LinkedHashMap<>();
      String fragment =
          link.hashes().isEmpty()
              ? ""
              : "#"
                  + link.hashes().keySet().iterator().next()
                  + "="
                  + caseOf(random, link.hashes().values().iterator().next());
      attributes.put("href", link.url() + fragment);
      if (!link.requiresPython().isEmpty()) {
        attributes.put("data-requires-python", link.requiresPython());
      }
      if (link.yanked() != null) {
        attributes.put("data-yanked", link.yanked());
      }
      if (link.coreMetadata() != null) {
        String value =
            link.coreMetadata().isEmpty()
                ? "true"
                : "sha256=" + caseOf(random, link.coreMetadata().get("sha256"));
        switch (random.nextInt(3)) {
          case 0 -> attributes.put("data-core-metadata", value);
          case 1 -> attributes.put("data-dist-info-metadata", value);
          default -> {
            attributes.put("data-core-metadata", value);
            attributes.put("data-dist-info-metadata", value);
          }
        }
      }
      List<Map.Entry<String, String>> order = new ArrayList<>(attributes.entrySet());
      Collections.shuffle(order, random);
      boolean upper = random.nextInt(4) == 0;
      html.append('<').append(upper ? "A" : "a");
      for (Map.Entry<String, String> attribute : order) {
        html.append(pick(random, " ", "  ", "\n  ", "\t"));
        html.append(upper ? attribute.getKey().toUpperCase(Locale.ROOT) : attribute.getKey());
        if (attribute.getKey().equals("data-yanked")
            && attribute.getValue().isEmpty()
            && random.nextBoolean()) {
          continue; // a bare attribute
        }
        html.append(pick(random, "=", " = ", "="));
        html.append(value(random, attribute.getValue()));
      }
      html.append(pick(random, "", " ", "\n", " /")).append('>');
      String text = escapeSome(random, link.filename());
      html.append(pick(random, text, " " + text + "\n", "<span>" + text + "</span>"));
      html.append("</").append(upper ? "A" : "a").append(pick(random, "", " ", "\n")).append('>');
      html.append(pick(random, "<br/>\n", "<br>", "\n", ""));
    }
    html.append(pick(random, "<a>no href</a>\n", "<a href=\"\">empty href</a>\n", ""));
    return html.append("</BODY></html>\n").toString();
  }

  /** An attribute value in double, single or no quotes, its characters escaped as needed. */
  static String value(Random random, String value) {
    int style = random.nextInt(3);
    if (style == 2
        && !value.isEmpty()
        && value.chars().noneMatch(c -> " \t\n\"'>&`<".indexOf(c) >= 0)) {
      return value; // unquoted, as HTML allows
    }
    char quote = style == 1 ? '\'' : '"';
    StringBuilder out = new StringBuilder().append(quote);
    for (char c : value.toCharArray()) {
      if (c == quote) {
        out.append(
            pick(
                random,
                "&#" + (int) c + ";",
                "&#x" + Integer.toHexString(c) + ";",
                c == '"' ? "&quot;" : "&apos;"));
      } else if (c == '&') {
        out.append(pick(random, "&amp;", "&#38;"));
      } else if (c == '<' || c == '>') {
        // a raw '>' or '<' inside quotes is what pip reads too
        out.append(
            pick(
                random,
                c == '<' ? "&lt;" : "&gt;",
                "&#" + (int) c + ";",
                "&#X" + Integer.toHexString(c).toUpperCase(Locale.ROOT) + ";",
                String.valueOf(c)));
      } else {
        out.append(c);
      }
    }
    return out.append(quote).toString();
  }

  static String escapeSome(Random random, String text) {
    return random.nextBoolean() ? text : SimpleHtml.escape(text);
  }

  static String caseOf(Random random, String hex) {
    return random.nextBoolean() ? hex : hex.toUpperCase(Locale.ROOT);
  }

  static String hex(Random random, int digits) {
    byte[] bytes = new byte[(digits + 1) / 2];
    random.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes).substring(0, digits);
  }

  @SafeVarargs
  static <T> T pick(Random random, T... choices) {
    return choices[random.nextInt(choices.length)];
  }
}
