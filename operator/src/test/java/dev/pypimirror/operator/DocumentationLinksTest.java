package dev.pypimirror.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.testing.ProjectPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every relative link of README.md and docs/*.md resolves: to a file or folder of the repository,
 * and a {@code #fragment} to a heading of the Markdown file it names (as GitHub makes anchors).
 */
class DocumentationLinksTest {
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
  private static final Pattern INLINE_CODE = Pattern.compile("`[^`]*`");

  static List<Path> documents() throws IOException {
    List<Path> documents = new ArrayList<>(List.of(ProjectPaths.ROOT.resolve("README.md")));
    try (Stream<Path> docs = Files.list(ProjectPaths.ROOT.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(documents::add);
    }
    return documents;
  }

  /** The lines of {@code markdown} outside fenced code blocks. */
  static List<String> prose(String markdown) {
    List<String> lines = new ArrayList<>();
    boolean fenced = false;
    for (String line : markdown.split("\n", -1)) {
      if (line.strip().startsWith("```")) {
        fenced = !fenced;
      } else if (!fenced) {
        lines.add(line);
      }
    }
    return lines;
  }

  /** GitHub's anchors of a document's headings: lower case, punctuation dropped, "-n" repeats. */
  static Set<String> anchors(String markdown) {
    Set<String> anchors = new LinkedHashSet<>();
    Map<String, Integer> seen = new HashMap<>();
    for (String line : prose(markdown)) {
      Matcher heading = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$").matcher(line);
      if (heading.matches()) {
        String slug =
            heading
                .group(1)
                .toLowerCase(Locale.ROOT)
                .replaceAll("[^\\p{L}\\p{N} _-]", "")
                .replace(' ', '-');
        int n = seen.merge(slug, 1, Integer::sum) - 1;
        anchors.add(n == 0 ? slug : slug + "-" + n);
      }
    }
    return anchors;
  }

  @Test
  void anchorsAreMadeAsGitHubMakesThem() {
    assertThat(
            anchors(
                "# A mirror served through its proxy (`serve: Proxy`)\n```\n# not a heading\n```\n"
                    + "## pip and several indexes (dependency confusion)\n## Status\n### Status\n"))
        .containsExactly(
            "a-mirror-served-through-its-proxy-serve-proxy",
            "pip-and-several-indexes-dependency-confusion",
            "status",
            "status-1");
  }

  @Test
  void everyRelativeLinkResolves() throws IOException {
    List<String> broken = new ArrayList<>();
    int checked = 0;
    for (Path document : documents()) {
      String text = Files.readString(document);
      for (String line : prose(text)) {
        Matcher link = LINK.matcher(INLINE_CODE.matcher(line).replaceAll(""));
        while (link.find()) {
          String target = link.group(1);
          if (target.matches("^[a-z]+:.*")) {
            continue; // https:, mailto:
          }
          checked++;
          int hash = target.indexOf('#');
          String file = hash < 0 ? target : target.substring(0, hash);
          Path resolved =
              file.isEmpty() ? document : document.getParent().resolve(file).normalize();
          String where = ProjectPaths.ROOT.relativize(document) + ": " + target;
          if (!resolved.startsWith(ProjectPaths.ROOT) || !Files.exists(resolved)) {
            broken.add(where + " (no such file)");
          } else if (hash >= 0
              && !anchors(Files.readString(resolved)).contains(target.substring(hash + 1))) {
            broken.add(where + " (no such heading)");
          }
        }
      }
    }
    assertThat(broken).as("broken links").isEmpty();
    assertThat(checked).as("relative links checked").isGreaterThan(20);
  }
}
