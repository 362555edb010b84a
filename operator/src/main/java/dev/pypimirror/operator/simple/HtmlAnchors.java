package dev.pypimirror.operator.simple;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The anchors of an HTML page and its first {@code <base href>}, found in one left-to-right pass
 * that looks at each character a bounded number of times, whatever the page holds (an upstream
 * writes it).
 *
 * <p>An anchor is {@code <a} (any case), white space, attributes as HTML5 tokenizes them (a quoted
 * value may hold {@code >}; the first of a name counts), the tag's {@code >}, then text up to the
 * next {@code </a>} (any case, white space allowed before its {@code >}), with tags and entities
 * taken out. A tag that the page ends inside, or an anchor without its {@code </a>}, ends the
 * search: HTML5 ignores a tag cut by the end of input, and no later anchor could be closed.
 * Comments ({@code <!-- -->}) and the raw text of {@code <script>} and {@code <style>} hold no
 * tags, as for pip's parser (Python's {@code html.parser}) and browsers; one the page does not
 * close ends the search.
 */
final class HtmlAnchors {
  /** An anchor's attributes (names in lower case, values unescaped) and its text. */
  record Anchor(Map<String, String> attributes, String text) {}

  /** A page's anchors, and the {@code href} of its first {@code <base>} that has one (or null). */
  record Page(List<Anchor> anchors, String baseHref) {}

  /** Elements whose content is raw text, where {@code <a} starts no tag. */
  private static final List<String> RAW_TEXT = List.of("script", "style");

  private final String html;
  private final int length;

  private HtmlAnchors(String html) {
    this.html = html;
    this.length = html.length();
  }

  static List<Anchor> in(String html) {
    return read(html).anchors();
  }

  static Page read(String html) {
    return new HtmlAnchors(html).page();
  }

  private Page page() {
    List<Anchor> anchors = new ArrayList<>();
    String base = null;
    int at = 0;
    while (true) {
      int open = html.indexOf('<', at);
      if (open < 0) {
        return new Page(anchors, base);
      }
      if (html.startsWith("<!--", open)) {
        at = afterComment(open + 4);
      } else if (startTag(open, "a")) {
        Map<String, String> attributes = new LinkedHashMap<>();
        int textStart = attributes(open + 2, attributes);
        int[] close = textStart < 0 ? null : closer(textStart);
        if (close == null) {
          return new Page(anchors, base);
        }
        anchors.add(new Anchor(attributes, text(textStart, close[0])));
        at = close[1];
      } else if (startTag(open, "base")) {
        Map<String, String> attributes = new LinkedHashMap<>();
        at = attributes(open + 5, attributes);
        if (base == null) {
          base = attributes.get("href");
        }
      } else {
        at = afterRawText(open);
      }
      if (at < 0) {
        return new Page(anchors, base);
      }
    }
  }

  /** Whether a start tag {@code <name} followed by white space is at {@code i}. */
  private boolean startTag(int i, String name) {
    int end = i + 1 + name.length();
    return end < length
        && html.regionMatches(true, i + 1, name, 0, name.length())
        && space(html.charAt(end));
  }

  /**
   * Where to go on after the {@code <} at {@code i}: past a {@code <script>} or {@code <style>}
   * element's raw text and its end tag when one starts there, else just past the {@code <}; -1 when
   * the page ends first.
   */
  private int afterRawText(int i) {
    for (String element : RAW_TEXT) {
      int end = i + 1 + element.length();
      if (end < length
          && html.regionMatches(true, i + 1, element, 0, element.length())
          && (space(html.charAt(end)) || html.charAt(end) == '>' || html.charAt(end) == '/')) {
        int content = attributes(end, new LinkedHashMap<>());
        return content < 0 ? -1 : endTag(content, element);
      }
    }
    return i + 1;
  }

  /** Where the first {@code </element} from {@code from} ends (past its {@code >}), or -1. */
  private int endTag(int from, String element) {
    for (int i = html.indexOf("</", from); i >= 0; i = html.indexOf("</", i + 2)) {
      int end = i + 2 + element.length();
      if (end <= length && html.regionMatches(true, i + 2, element, 0, element.length())) {
        int close = html.indexOf('>', end);
        return close < 0 ? -1 : close + 1;
      }
    }
    return -1;
  }

  /**
   * Where a comment whose {@code <!--} ends before {@code from} ends, as HTML5 reads it: at the
   * first {@code -->} or {@code --!>}, or at once for {@code <!-->} and {@code <!--->}; -1 when the
   * page ends first.
   */
  private int afterComment(int from) {
    if (html.startsWith(">", from)) {
      return from + 1;
    }
    if (html.startsWith("->", from)) {
      return from + 2;
    }
    for (int i = html.indexOf("--", from); i >= 0; i = html.indexOf("--", i + 1)) {
      if (html.startsWith(">", i + 2)) {
        return i + 3;
      }
      if (html.startsWith("!>", i + 2)) {
        return i + 4;
      }
    }
    return -1;
  }

  /**
   * Reads the attributes from {@code i} (inside the tag) into {@code attributes}; where the text
   * after the tag's {@code >} starts, or -1 when the page ends first.
   */
  private int attributes(int i, Map<String, String> attributes) {
    while (true) {
      while (i < length && (space(html.charAt(i)) || html.charAt(i) == '/')) {
        i++;
      }
      if (i >= length) {
        return -1;
      }
      if (html.charAt(i) == '>') {
        return i + 1;
      }
      int nameStart = i++; // a first '=' belongs to the name, as in HTML5
      while (i < length && !space(html.charAt(i)) && "/>=".indexOf(html.charAt(i)) < 0) {
        i++;
      }
      String name = html.substring(nameStart, i).toLowerCase(Locale.ROOT);
      while (i < length && space(html.charAt(i))) {
        i++;
      }
      String value = "";
      if (i < length && html.charAt(i) == '=') {
        i++;
        while (i < length && space(html.charAt(i))) {
          i++;
        }
        if (i >= length) {
          return -1;
        }
        char quote = html.charAt(i);
        if (quote == '"' || quote == '\'') {
          int end = html.indexOf(quote, i + 1);
          if (end < 0) {
            return -1;
          }
          value = html.substring(i + 1, end);
          i = end + 1;
        } else {
          int start = i;
          while (i < length && !space(html.charAt(i)) && html.charAt(i) != '>') {
            i++;
          }
          value = html.substring(start, i);
        }
      }
      if (!attributes.containsKey(name)) {
        attributes.put(name, SimpleHtml.unescape(value));
      }
    }
  }

  /** The start and end of the next {@code </a>} from {@code from}, or null. */
  private int[] closer(int from) {
    for (int i = html.indexOf("</", from); i >= 0; i = html.indexOf("</", i + 2)) {
      if (i + 2 < length && (html.charAt(i + 2) | 0x20) == 'a') {
        int j = i + 3;
        while (j < length && space(html.charAt(j))) {
          j++;
        }
        if (j < length && html.charAt(j) == '>') {
          return new int[] {i, j + 1};
        }
      }
    }
    return null;
  }

  /** The text between two positions without its tags (a '<' with no '>' after it stays). */
  private String text(int start, int end) {
    StringBuilder text = new StringBuilder(end - start);
    int i = start;
    while (i < end) {
      int tag = html.indexOf('<', i);
      if (tag < 0 || tag >= end) {
        text.append(html, i, end);
        break;
      }
      int tagEnd = html.indexOf('>', tag);
      if (tagEnd < 0 || tagEnd >= end) {
        text.append(html, i, end);
        break;
      }
      text.append(html, i, tag);
      i = tagEnd + 1;
    }
    return SimpleHtml.unescape(text.toString()).strip();
  }

  /** White space as the regular expression {@code \s} has it. */
  private static boolean space(char c) {
    return c == ' ' || c >= '\t' && c <= '\r';
  }
}
