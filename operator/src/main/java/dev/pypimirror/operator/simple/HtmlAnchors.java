package dev.pypimirror.operator.simple;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The anchors of an HTML page, found in one left-to-right pass that looks at each character a
 * bounded number of times, whatever the page holds (an upstream writes it).
 *
 * <p>An anchor is {@code <a} (any case), white space, attributes as HTML5 tokenizes them (a quoted
 * value may hold {@code >}; the first of a name counts), the tag's {@code >}, then text up to the
 * next {@code </a>} (any case, white space allowed before its {@code >}), with tags and entities
 * taken out. A tag that the page ends inside, or an anchor without its {@code </a>}, ends the
 * search: HTML5 ignores a tag cut by the end of input, and no later anchor could be closed.
 */
final class HtmlAnchors {
  /** An anchor's attributes (names in lower case, values unescaped) and its text. */
  record Anchor(Map<String, String> attributes, String text) {}

  private final String html;
  private final int length;

  private HtmlAnchors(String html) {
    this.html = html;
    this.length = html.length();
  }

  static List<Anchor> in(String html) {
    return new HtmlAnchors(html).all();
  }

  private List<Anchor> all() {
    List<Anchor> anchors = new ArrayList<>();
    int at = 0;
    while (true) {
      int open = opener(at);
      if (open < 0) {
        return anchors;
      }
      Map<String, String> attributes = new LinkedHashMap<>();
      int textStart = attributes(open + 2, attributes);
      if (textStart < 0) {
        return anchors;
      }
      int[] close = closer(textStart);
      if (close == null) {
        return anchors;
      }
      anchors.add(new Anchor(attributes, text(textStart, close[0])));
      at = close[1];
    }
  }

  /** Where the next {@code <a} followed by white space starts, or -1. */
  private int opener(int from) {
    for (int i = html.indexOf('<', from); i >= 0; i = html.indexOf('<', i + 1)) {
      if (i + 2 < length && (html.charAt(i + 1) | 0x20) == 'a' && space(html.charAt(i + 2))) {
        return i;
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
