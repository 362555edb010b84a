package dev.pypimirror.operator.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PromQL parser for what alert rules and dashboards write: numbers, strings, vector selectors
 * with matchers, range selectors and subqueries, {@code offset}, functions, aggregations with
 * {@code by}/{@code without}, binary operators by Prometheus's precedence with {@code bool}, {@code
 * on}/{@code ignoring} and {@code group_left}/{@code group_right}; types checked as Prometheus
 * checks them (a function's range-vector argument, no range vector elsewhere, scalars where a
 * scalar is due). Grafana's variables stand where Grafana substitutes them: {@code
 * $__rate_interval} as a duration, {@code $name} inside label values. It fails, naming the
 * position, on anything else; what it returns is every selector and every label the expression
 * groups or matches by.
 */
final class PromQl {
  enum Type {
    SCALAR,
    INSTANT,
    RANGE,
    STRING
  }

  /** A vector selector: its metric name (null when only matchers) and matchers. */
  record Selector(String metric, List<Matcher3> matchers) {}

  /** One label matcher: label, operator (=, !=, =~, !~) and value. */
  record Matcher3(String label, String op, String value) {}

  /** What an expression reads: its selectors and the labels it groups or joins by. */
  record Parsed(Type type, List<Selector> selectors, Set<String> groupingLabels) {}

  private static final Set<String> AGGREGATIONS =
      Set.of(
          "sum",
          "min",
          "max",
          "avg",
          "count",
          "stddev",
          "stdvar",
          "topk",
          "bottomk",
          "quantile",
          "group",
          "count_values");
  private static final Set<String> WITH_PARAMETER =
      Set.of("topk", "bottomk", "quantile", "count_values");

  /** Functions by argument types (a trailing '?' marks an optional one). */
  private static final Map<String, List<String>> FUNCTIONS =
      Map.ofEntries(
          Map.entry("rate", List.of("RANGE")),
          Map.entry("irate", List.of("RANGE")),
          Map.entry("increase", List.of("RANGE")),
          Map.entry("delta", List.of("RANGE")),
          Map.entry("changes", List.of("RANGE")),
          Map.entry("resets", List.of("RANGE")),
          Map.entry("max_over_time", List.of("RANGE")),
          Map.entry("min_over_time", List.of("RANGE")),
          Map.entry("avg_over_time", List.of("RANGE")),
          Map.entry("histogram_quantile", List.of("SCALAR", "INSTANT")),
          Map.entry("absent", List.of("INSTANT")),
          Map.entry("time", List.of()),
          Map.entry("vector", List.of("SCALAR")),
          Map.entry("scalar", List.of("INSTANT")),
          Map.entry("clamp_min", List.of("INSTANT", "SCALAR")),
          Map.entry("clamp_max", List.of("INSTANT", "SCALAR")),
          Map.entry("abs", List.of("INSTANT")),
          Map.entry("round", List.of("INSTANT", "SCALAR?")),
          Map.entry("timestamp", List.of("INSTANT")));

  private static final Pattern TOKEN =
      Pattern.compile(
          "\\s*(?:(?<dur>(?:\\d+(?:ms|[smhdwy]))+)"
              + "|(?<num>\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?|\\.\\d+)"
              + "|(?<var>\\$__[a-z_]+|\\$\\{[a-z_]+\\}|\\$[a-z_]+)"
              + "|(?<id>[a-zA-Z_][a-zA-Z0-9_:]*)"
              + "|(?<str>\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*')"
              + "|(?<op>==|!=|<=|>=|=~|!~|[-+*/%^<>=(){}\\[\\],:]))");

  private final List<String> tokens = new ArrayList<>();
  private final List<Character> kinds = new ArrayList<>();
  private int at;
  private final List<Selector> selectors = new ArrayList<>();
  private final Set<String> grouping = new java.util.TreeSet<>();
  private final String text;

  private PromQl(String text) {
    this.text = text;
    Matcher m = TOKEN.matcher(text);
    int end = 0;
    while (end < text.length() && !text.substring(end).isBlank()) {
      if (!m.find(end) || m.start() != end) {
        throw fail("unexpected character at " + end);
      }
      for (String group : List.of("dur", "num", "var", "id", "str", "op")) {
        if (m.group(group) != null) {
          tokens.add(m.group(group));
          kinds.add(group.charAt(0));
        }
      }
      end = m.end();
    }
  }

  static Parsed parse(String expression) {
    PromQl p = new PromQl(expression);
    Type type = p.expr(0);
    if (p.at != p.tokens.size()) {
      throw p.fail("unexpected " + p.peek());
    }
    if (type == Type.RANGE) {
      throw p.fail("a range vector cannot be a result");
    }
    return new Parsed(type, List.copyOf(p.selectors), Set.copyOf(p.grouping));
  }

  /** Binary operators by precedence, lowest first. */
  private static final List<Set<String>> LEVELS =
      List.of(
          Set.of("or"),
          Set.of("and", "unless"),
          Set.of("==", "!=", "<=", "<", ">=", ">"),
          Set.of("+", "-"),
          Set.of("*", "/", "%", "atan2"),
          Set.of("^"));

  private Type expr(int level) {
    if (level == LEVELS.size()) {
      return unary();
    }
    Type left = expr(level + 1);
    while (LEVELS.get(level).contains(peek())) {
      String op = next();
      boolean set = level <= 1;
      boolean comparison = level == 2;
      boolean bool = false;
      if ("bool".equals(peek())) {
        if (!comparison) {
          throw fail("bool only after a comparison");
        }
        next();
        bool = true;
      }
      if ("on".equals(peek()) || "ignoring".equals(peek())) {
        next();
        labels();
        if ("group_left".equals(peek()) || "group_right".equals(peek())) {
          next();
          if ("(".equals(peek())) {
            labels();
          }
        }
      }
      // '^' is right-associative: its right side is parsed at the same level
      Type right = op.equals("^") ? expr(level) : expr(level + 1);
      left = binary(op, left, right, set, comparison, bool);
    }
    return left;
  }

  private Type binary(
      String op, Type left, Type right, boolean set, boolean comparison, boolean bool) {
    for (Type t : List.of(left, right)) {
      if (t == Type.RANGE || t == Type.STRING) {
        throw fail("'" + op + "' cannot take a " + t);
      }
    }
    if (set && (left != Type.INSTANT || right != Type.INSTANT)) {
      throw fail("'" + op + "' needs two instant vectors");
    }
    if (comparison && left == Type.SCALAR && right == Type.SCALAR && !bool) {
      throw fail("a comparison of two scalars needs bool");
    }
    return left == Type.SCALAR && right == Type.SCALAR ? Type.SCALAR : Type.INSTANT;
  }

  private Type unary() {
    if ("-".equals(peek()) || "+".equals(peek())) {
      next();
      Type t = unary();
      if (t != Type.SCALAR && t != Type.INSTANT) {
        throw fail("unary minus of a " + t);
      }
      return t;
    }
    return postfix(primary());
  }

  private Type postfix(Type t) {
    if ("[".equals(peek())) {
      next();
      duration();
      if (":".equals(peek())) {
        next();
        if (!"]".equals(peek())) {
          duration();
        }
        expect("]");
        if (t != Type.INSTANT) {
          throw fail("a subquery of a " + t);
        }
        t = Type.RANGE;
      } else {
        expect("]");
        if (t != Type.INSTANT || lastWasNotSelector) {
          throw fail("a range of something other than a vector selector");
        }
        t = Type.RANGE;
      }
    }
    if ("offset".equals(peek())) {
      next();
      duration();
    }
    return t;
  }

  private boolean lastWasNotSelector;

  private Type primary() {
    lastWasNotSelector = true;
    String token = peek();
    if (token.isEmpty()) {
      throw fail("unexpected end");
    }
    char kind = kinds.get(at);
    if (kind == 'n') {
      next();
      return Type.SCALAR;
    }
    if (kind == 's') {
      next();
      return Type.STRING;
    }
    if (token.equals("(")) {
      next();
      Type t = expr(0);
      expect(")");
      return t;
    }
    if (token.equals("{")) {
      selectors.add(new Selector(null, matchers()));
      lastWasNotSelector = false;
      return Type.INSTANT;
    }
    if (kind != 'i') {
      throw fail("unexpected " + token);
    }
    next();
    if (AGGREGATIONS.contains(token)) {
      return aggregation(token);
    }
    if ("(".equals(peek())) {
      return call(token);
    }
    if (Set.of("by", "without", "on", "ignoring", "bool", "offset", "and", "or", "unless")
        .contains(token)) {
      throw fail("keyword " + token + " where an expression is due");
    }
    selectors.add(new Selector(token, "{".equals(peek()) ? matchers() : List.of()));
    lastWasNotSelector = false;
    return Type.INSTANT;
  }

  private Type aggregation(String op) {
    if ("by".equals(peek()) || "without".equals(peek())) {
      next();
      labels();
    }
    expect("(");
    if (WITH_PARAMETER.contains(op)) {
      Type parameter = expr(0);
      Type wanted = op.equals("count_values") ? Type.STRING : Type.SCALAR;
      if (parameter != wanted) {
        throw fail(op + " needs a " + wanted + " parameter");
      }
      expect(",");
    }
    Type argument = expr(0);
    expect(")");
    if (argument != Type.INSTANT) {
      throw fail(op + " of a " + argument);
    }
    if ("by".equals(peek()) || "without".equals(peek())) {
      next();
      labels();
    }
    return Type.INSTANT;
  }

  private Type call(String function) {
    List<String> signature = FUNCTIONS.get(function);
    if (signature == null) {
      throw fail("unknown function " + function);
    }
    expect("(");
    List<Type> arguments = new ArrayList<>();
    if (!")".equals(peek())) {
      arguments.add(expr(0));
      while (",".equals(peek())) {
        next();
        arguments.add(expr(0));
      }
    }
    expect(")");
    long required = signature.stream().filter(s -> !s.endsWith("?")).count();
    if (arguments.size() < required || arguments.size() > signature.size()) {
      throw fail(function + " takes " + signature.size() + " arguments");
    }
    for (int i = 0; i < arguments.size(); i++) {
      Type wanted = Type.valueOf(signature.get(i).replace("?", ""));
      if (arguments.get(i) != wanted) {
        throw fail(function + " argument " + (i + 1) + " must be " + wanted);
      }
    }
    return function.equals("time") ? Type.SCALAR : Type.INSTANT;
  }

  private List<Matcher3> matchers() {
    expect("{");
    List<Matcher3> matchers = new ArrayList<>();
    while (!"}".equals(peek()) && !peek().isEmpty()) {
      if (kind() != 'i') {
        throw fail("a label name is due, not " + peek());
      }
      String label = next();
      String op = next();
      if (!Set.of("=", "!=", "=~", "!~").contains(op)) {
        throw fail("a matcher operator is due, not " + op);
      }
      if (kind() != 's') {
        throw fail("a quoted label value is due");
      }
      String quoted = next();
      matchers.add(new Matcher3(label, op, quoted.substring(1, quoted.length() - 1)));
      if (",".equals(peek())) {
        next();
      } else if (!"}".equals(peek())) {
        throw fail("',' or '}' is due");
      }
    }
    expect("}");
    return matchers;
  }

  private void labels() {
    expect("(");
    while (!")".equals(peek()) && !peek().isEmpty()) {
      if (kind() != 'i') {
        throw fail("a label name is due");
      }
      grouping.add(next());
      if (",".equals(peek())) {
        next();
      }
    }
    expect(")");
  }

  private void duration() {
    String token = peek();
    if ((kind() != 'd'
        && !token.equals("$__rate_interval")
        && !token.equals("$__interval")
        && !token.equals("$__range"))) {
      throw fail("a duration is due, not " + token);
    }
    next();
  }

  private String peek() {
    return at < tokens.size() ? tokens.get(at) : "";
  }

  /** The kind of the next token: d(uration), n(umber), v(ariable), i(dentifier), s(tring), o(p). */
  private char kind() {
    return at < kinds.size() ? kinds.get(at) : ' ';
  }

  private String next() {
    if (at >= tokens.size()) {
      throw fail("unexpected end");
    }
    return tokens.get(at++);
  }

  private void expect(String token) {
    if (!token.equals(peek())) {
      throw fail("'" + token + "' is due, not " + peek());
    }
    at++;
  }

  private IllegalArgumentException fail(String why) {
    return new IllegalArgumentException(why + " (token " + at + ") in: " + text);
  }
}
