package dev.pypimirror.operator.simple;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pypimirror.operator.testing.Python;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy reads an upstream's page as pip itself does: pages generated in the ways indexes write
 * them, with what pip skips (comments, scripts, styles), a {@code <base href>} and link texts that
 * are not the file's name, are parsed by the machine's real pip ({@code parse_links} of its link
 * collector) and by {@link SimpleHtml#parse}; both must give the same files: name, URL and hash.
 */
class PipParserAgreementTest {
  static final String PAGE_URL = "https://up.example/simple/foo/";

  /**
   * Runs pip's own parser over each page (its cache of parsed pages, keyed by URL, off); prints one
   * JSON list of [filename, url, hash name, hash] per page.
   */
  static final String PIP_PARSER =
      """
      import json, sys
      from pip._internal.index.collector import parse_links, IndexContent
      out = []
      for html in json.load(open(sys.argv[1])):
          page = IndexContent(html.encode(), "text/html", "utf-8", sys.argv[2], False)
          out.append([[l.filename, l.url_without_fragment, l.hash_name or "", l.hash or ""]
                      for l in parse_links(page)])
      json.dump(out, sys.stdout)
      """;

  @Test
  void pipAndTheProxyReadTheSameFiles(@TempDir Path scratch) throws Exception {
    Random random = new Random(20261206);
    List<String> pages = new ArrayList<>();
    for (int round = 0; round < 400; round++) {
      pages.add(page(random));
    }
    ObjectMapper json = new ObjectMapper();
    Path input = scratch.resolve("pages.json");
    json.writeValue(input.toFile(), pages);
    Path script = Files.writeString(scratch.resolve("parse.py"), PIP_PARSER);
    Python.Result result =
        new Python(scratch)
            .run(scratch, Map.of(), script.toString(), input.toString(), PAGE_URL)
            .assertOk();
    JsonNode fromPip = json.readTree(result.output());
    for (int i = 0; i < pages.size(); i++) {
      List<List<String>> expected = new ArrayList<>();
      fromPip
          .get(i)
          .forEach(
              l ->
                  expected.add(
                      link(
                          l.get(0).asText(),
                          l.get(1).asText(),
                          l.get(2).asText(),
                          l.get(3).asText())));
      List<List<String>> ours = new ArrayList<>();
      for (FileLink link : SimpleHtml.parse("foo", pages.get(i), URI.create(PAGE_URL)).files()) {
        // pip checks the first hash of an algorithm it knows; the proxy reads them all
        var hash =
            link.hashes().entrySet().stream()
                .filter(h -> PIP_HASHES.contains(h.getKey()))
                .findFirst();
        ours.add(
            link(
                link.filename(),
                link.url(),
                hash.map(Map.Entry::getKey).orElse(""),
                hash.map(Map.Entry::getValue).orElse("")));
      }
      assertThat(ours).as(pages.get(i)).isEqualTo(expected);
    }
  }

  /** The hash algorithms pip reads in a link's fragment. */
  static final List<String> PIP_HASHES =
      List.of("sha512", "sha384", "sha256", "sha224", "sha1", "md5");

  /**
   * A link compared by what it names: pip percent-encodes some characters the page left as they
   * were ({@code +} in a path: the proxy keeps the upstream's spelling, which names the same file),
   * and keeps a digest's case where the proxy writes lower case.
   */
  static List<String> link(String filename, String url, String hashName, String hash) {
    URI parsed = URI.create(url);
    return List.of(
        filename,
        parsed.getScheme() + "://" + parsed.getRawAuthority() + parsed.getPath(),
        hashName,
        hash.toLowerCase(Locale.ROOT));
  }

  /** A generated page, with what pip skips and a base and lying texts mixed in. */
  static String page(Random random) {
    List<FileLink> links = new ArrayList<>();
    int count = random.nextInt(8);
    for (int i = 0; i < count; i++) {
      links.add(UpstreamPageParsingTest.link(random));
    }
    String html = UpstreamPageParsingTest.page(random, links);
    StringBuilder extra = new StringBuilder();
    if (random.nextInt(3) == 0) {
      extra.append("<base href=\"https://files.example/base/dir/\">\n");
    }
    if (random.nextBoolean()) {
      extra.append("<!-- <a href=\"foo-6.6.6.tar.gz\">foo-6.6.6.tar.gz</a> -->\n");
    }
    if (random.nextBoolean()) {
      extra.append(
          "<script>var s = '<a href=\"foo-7.7.7.tar.gz\">x</a>';</script>\n"
              + "<STYLE type=\"text/css\">a[href='<a href=foo-8.tar.gz>'] {}</STYLE>\n");
    }
    if (random.nextBoolean()) {
      extra.append("<a href=\"../../packages/foo-9.0.tar.gz\">foo-1.0.tar.gz</a>\n");
    }
    if (random.nextBoolean()) {
      // a hash after other parts of the fragment (pip 23.0 takes everything after a hash's
      // '=' as its value, so a part after the hash is tabled in UpstreamPageParsingTest instead)
      extra.append(
          "<a href=\"foo-9.1.tar.gz#egg=foo&amp;sha256="
              + UpstreamPageParsingTest.hex(random, 64)
              + "\">f</a>\n");
    }
    int body = html.indexOf("<h1>");
    return html.substring(0, body) + extra + html.substring(body);
  }
}
