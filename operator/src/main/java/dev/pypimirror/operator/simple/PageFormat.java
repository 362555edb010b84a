package dev.pypimirror.operator.simple;

import java.util.Locale;
import java.util.Optional;

/** The page formats of the Simple Repository API a client can ask for (PEP 691). */
public enum PageFormat {
  /** Plain PEP 503 HTML, what a client that asks for nothing in particular gets. */
  TEXT_HTML("text/html"),
  HTML_V1("application/vnd.pypi.simple.v1+html"),
  JSON_V1(SimpleJson.CONTENT_TYPE);

  private final String contentType;

  PageFormat(String contentType) {
    this.contentType = contentType;
  }

  public String contentType() {
    return contentType;
  }

  public boolean json() {
    return this == JSON_V1;
  }

  /**
   * The format for a request: {@code ?format=} when given, else the {@code Accept} header's best
   * match by q-value (then by how specific the matching range is, then HTML before JSON); no header
   * means HTML. Empty when nothing acceptable is served (406).
   */
  public static Optional<PageFormat> negotiate(String accept, String formatParameter) {
    if (formatParameter != null) {
      return named(formatParameter.strip().toLowerCase(Locale.ROOT));
    }
    if (accept == null || accept.isBlank()) {
      return Optional.of(TEXT_HTML);
    }
    PageFormat best = null;
    double bestQ = 0;
    int bestSpecificity = -1;
    for (PageFormat format : values()) {
      double q = 0;
      int specificity = -1;
      for (String range : accept.split(",")) {
        String[] parts = range.split(";");
        String type = parts[0].strip().toLowerCase(Locale.ROOT);
        int matches = matches(type, format);
        if (matches > specificity) {
          specificity = matches;
          q = quality(parts);
        }
      }
      if (specificity >= 0 && (q > bestQ || q == bestQ && q > 0 && specificity > bestSpecificity)) {
        best = format;
        bestQ = q;
        bestSpecificity = specificity;
      }
    }
    return Optional.ofNullable(best);
  }

  private static Optional<PageFormat> named(String type) {
    for (PageFormat format : values()) {
      if (matches(type, format) == 2) {
        return Optional.of(format);
      }
    }
    return Optional.empty();
  }

  /** 2: the exact type (or its "latest" alias), 1: type/*, 0: *&#47;*, -1: no match. */
  private static int matches(String range, PageFormat format) {
    String type = range.replace(".latest+", ".v1+");
    if (type.equals(format.contentType)) {
      return 2;
    }
    if (type.equals("*/*")) {
      return 0;
    }
    if (type.endsWith("/*")
        && format.contentType.startsWith(type.substring(0, type.length() - 1))) {
      return 1;
    }
    return -1;
  }

  private static double quality(String[] parts) {
    for (int i = 1; i < parts.length; i++) {
      String parameter = parts[i].strip();
      if (parameter.startsWith("q=") || parameter.startsWith("Q=")) {
        try {
          double q = Double.parseDouble(parameter.substring(2).strip());
          return q >= 0 && q <= 1 ? q : 0;
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 1;
  }
}
