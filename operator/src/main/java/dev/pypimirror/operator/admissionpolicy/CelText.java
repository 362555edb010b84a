package dev.pypimirror.operator.admissionpolicy;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * CEL source text from values: every value a mirror's or a policy's author wrote reaches an
 * expression only as a quoted literal built here, never as expression text.
 */
final class CelText {
  private CelText() {}

  /**
   * A CEL string literal: single-quoted, with the quote, the backslash and everything outside
   * printable ASCII escaped ({@code \\uXXXX}, {@code \\UXXXXXXXX}), so no value can end the literal
   * or carry a character the parser reads otherwise.
   */
  static String string(String value) {
    StringBuilder out = new StringBuilder("'");
    value
        .codePoints()
        .forEach(
            cp -> {
              if (cp == '\'' || cp == '\\') {
                out.append('\\').appendCodePoint(cp);
              } else if (cp >= 0x20 && cp < 0x7f) {
                out.appendCodePoint(cp);
              } else if (cp <= 0xffff) {
                out.append(String.format("\\u%04x", cp));
              } else {
                out.append(String.format("\\U%08x", cp));
              }
            });
    return out.append('\'').toString();
  }

  /** A CEL list of string literals. */
  static String strings(List<String> values) {
    return values.stream().map(CelText::string).collect(Collectors.joining(", ", "[", "]"));
  }

  static String bool(boolean value) {
    return value ? "true" : "false";
  }

  /**
   * A label selector over {@code labels} (an expression of a map), as {@code
   * policy.LabelSelectors.matches} decides it: every matchLabels entry and every requirement; an
   * empty selector matches everything. The selector must be valid.
   */
  static String selector(LabelSelector selector, String labels) {
    List<String> terms = new ArrayList<>();
    if (selector.getMatchLabels() != null) {
      selector
          .getMatchLabels()
          .forEach(
              (key, value) ->
                  terms.add(
                      "(%s in %s && %s[%s] == %s)"
                          .formatted(string(key), labels, labels, string(key), string(value))));
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        String key = string(r.getKey());
        String values = strings(r.getValues() == null ? List.of() : r.getValues());
        terms.add(
            switch (r.getOperator()) {
              case "In" -> "(%s in %s && %s[%s] in %s)".formatted(key, labels, labels, key, values);
              case "NotIn" ->
                  "(!(%s in %s) || !(%s[%s] in %s))".formatted(key, labels, labels, key, values);
              case "Exists" -> "(%s in %s)".formatted(key, labels);
              default -> "!(%s in %s)".formatted(key, labels);
            });
      }
    }
    return terms.isEmpty() ? "true" : String.join(" && ", terms);
  }
}
