package dev.pypimirror.operator.testing;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.CelKind;
import dev.cel.common.types.CelType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The static worst-case cost of a checked CEL expression, computed as kube-apiserver computes it
 * before it accepts a CRD: cel-go's {@code checker/cost.go} estimator (the upper bound only), with
 * sizes from the schema as apiextensions-apiserver's size estimator gives them (strings by
 * maxLength x 4 bytes, lists by maxItems, unbounded ones from the 3 MiB request limit).
 *
 * <p>Costs, from cel-go: an identifier or a field of a map/object 1, a presence test 1, a literal
 * 0, a call 1 plus its arguments except for the size-dependent ones (string comparison,
 * startsWith/endsWith, concatenation: 0.1 per character; contains: product of both; matches: string
 * x regex/4; {@code in} a list: its size), a list literal 10, a map 30, a comprehension its range's
 * size times the cost of one step.
 */
public final class CelCost {
  private static final double STRING_TRAVERSAL = 0.1;
  private static final double REGEX_LENGTH = 0.25;
  private static final long UNKNOWN = Long.MAX_VALUE;

  private final CelAbstractSyntaxTree ast;
  private final Function<List<String>, Optional<Long>> sizeOfPath;
  private final Map<Long, List<String>> paths = new HashMap<>();
  private final Map<Long, Long> sizes = new HashMap<>();
  private final Map<String, Deque<Local>> locals = new HashMap<>();

  private record Local(List<String> path, Long size) {}

  private CelCost(CelAbstractSyntaxTree ast, Function<List<String>, Optional<Long>> sizeOfPath) {
    this.ast = ast;
    this.sizeOfPath = sizeOfPath;
  }

  /**
   * The estimated maximum cost of one evaluation.
   *
   * @param sizeOfPath the most elements a value can hold, by its path from a variable (variable
   *     name, then field names, {@code @items}, {@code @values}); empty when unknown
   */
  public static long maxCost(
      CelAbstractSyntaxTree ast, Function<List<String>, Optional<Long>> sizeOfPath) {
    return new CelCost(ast, sizeOfPath).cost(ast.getExpr());
  }

  private long cost(CelExpr e) {
    return switch (e.getKind()) {
      case CONSTANT -> 0;
      case IDENT -> {
        Local local = peek(e.ident().name());
        paths.put(e.id(), local != null ? local.path : List.of(e.ident().name()));
        yield 1;
      }
      case SELECT -> costSelect(e);
      case CALL -> costCall(e);
      case LIST -> {
        long sum = 10;
        for (CelExpr item : e.list().elements()) {
          sum = add(sum, cost(item));
        }
        yield sum;
      }
      case MAP -> {
        long sum = 30;
        for (var entry : e.map().entries()) {
          sum = add(sum, add(cost(entry.key()), cost(entry.value())));
        }
        yield sum;
      }
      case STRUCT -> {
        long sum = 40;
        for (var entry : e.struct().entries()) {
          sum = add(sum, cost(entry.value()));
        }
        yield sum;
      }
      case COMPREHENSION -> costComprehension(e);
      default -> 0;
    };
  }

  private long costSelect(CelExpr e) {
    var select = e.select();
    if (select.testOnly()) {
      return add(1, cost(select.operand()));
    }
    long sum = cost(select.operand());
    CelKind operand = type(select.operand()).kind();
    if (operand == CelKind.MAP || operand == CelKind.STRUCT || operand == CelKind.TYPE_PARAM) {
      sum = add(sum, 1);
    }
    List<String> path = new ArrayList<>(path(select.operand()));
    path.add(select.field());
    paths.put(e.id(), path);
    return sum;
  }

  private long costCall(CelExpr e) {
    var call = e.call();
    if (call.function().equals("dyn") && call.args().size() == 1) {
      long argCost = cost(call.args().get(0));
      Long size = size(call.args().get(0));
      if (size != null) {
        sizes.put(e.id(), size);
      }
      return add(1, argCost);
    }
    List<CelExpr> args = call.args();
    long argSum = 0;
    for (CelExpr arg : args) {
      argSum = add(argSum, cost(arg));
    }
    long sum = 0;
    CelExpr target = call.target().orElse(null);
    if (target != null) {
      sum = add(sum, cost(target));
    }
    List<String> overloads =
        ast.getReference(e.id()).map(r -> (List<String>) r.overloadIds()).orElse(List.of());
    if (overloads.isEmpty()) {
      return 0;
    }
    long fnCost = 0;
    Long resultSize = null;
    for (String overload : overloads) {
      long[] estimate = functionCost(overload, target, args, argSum);
      fnCost = Math.max(fnCost, estimate[0]);
      if (estimate[1] >= 0) {
        resultSize = resultSize == null ? estimate[1] : Math.max(resultSize, estimate[1]);
      }
      if (overload.equals("index_list") || overload.equals("index_map")) {
        List<String> path = new ArrayList<>(path(args.get(0)));
        path.add(overload.equals("index_list") ? "@items" : "@values");
        paths.put(e.id(), path);
      }
    }
    long[] library = libraryCost(call.function(), target, argSum);
    if (library != null) {
      fnCost = library[0];
      resultSize = library[1];
    }
    if (resultSize != null) {
      sizes.put(e.id(), resultSize);
    }
    return add(sum, fnCost);
  }

  /**
   * The strings extension as Kubernetes' cost estimator ({@code library/cost.go}) charges it: a
   * traversal of the receiver per call, the result as long as the receiver (split: as many items);
   * {@code string()} of a number at most 20 characters. Null for other functions.
   */
  private long[] libraryCost(String function, CelExpr target, long argSum) {
    return switch (function) {
      case "split", "trim", "lowerAscii", "upperAscii", "replace", "substring" ->
          target == null
              ? null
              : new long[] {
                add(factor(sizeOrUnknown(target), STRING_TRAVERSAL), add(1, argSum)),
                sizeOrUnknown(target)
              };
      case "join" -> {
        if (target == null) {
          yield null;
        }
        List<String> items = new ArrayList<>(path(target));
        items.add("@items");
        long item = sizeOfPath.apply(items).orElse(UNKNOWN);
        long size = multiply(sizeOrUnknown(target), add(item, 1));
        yield new long[] {add(factor(size, STRING_TRAVERSAL), add(1, argSum)), size};
      }
      case "string" -> new long[] {add(1, argSum), 20};
      default -> null;
    };
  }

  /** {cost, result size or -1}; argument costs included, the target's not. */
  private long[] functionCost(String overload, CelExpr target, List<CelExpr> args, long argSum) {
    switch (overload) {
      case "starts_with_string", "ends_with_string" -> {
        return of(add(factor(sizeOrUnknown(args.get(0)), STRING_TRAVERSAL), argSum));
      }
      case "in_list" -> {
        return of(add(sizeOrUnknown(args.get(1)), argSum));
      }
      case "matches_string" -> {
        if (target != null) {
          long str = factor(add(sizeOrUnknown(target), 1), STRING_TRAVERSAL);
          long regex = factor(sizeOrUnknown(args.get(0)), REGEX_LENGTH);
          return of(add(multiply(str, regex), argSum));
        }
      }
      case "contains_string" -> {
        if (target != null) {
          long str = factor(sizeOrUnknown(target), STRING_TRAVERSAL);
          long sub = factor(sizeOrUnknown(args.get(0)), STRING_TRAVERSAL);
          return of(add(multiply(str, sub), argSum));
        }
      }
      case "logical_or", "logical_and" -> {
        return of(argSum);
      }
      case "conditional" -> {
        long condition = cost(args.get(0));
        long branches = Math.max(cost(args.get(1)), cost(args.get(2)));
        long size = Math.max(sizeOrUnknown(args.get(1)), sizeOrUnknown(args.get(2)));
        return new long[] {add(condition, branches), size};
      }
      case "add_string", "add_bytes" -> {
        long size = add(sizeOrUnknown(args.get(0)), sizeOrUnknown(args.get(1)));
        return new long[] {add(factor(size, STRING_TRAVERSAL), argSum), size};
      }
      case "add_list" -> {
        long size = add(sizeOrUnknown(args.get(0)), sizeOrUnknown(args.get(1)));
        return new long[] {add(1, argSum), size};
      }
      case "string_to_bytes", "bytes_to_string" -> {
        long size = sizeOrUnknown(args.get(0));
        return new long[] {
          add(factor(size, STRING_TRAVERSAL), argSum),
          overload.equals("string_to_bytes") ? multiply(size, 4) : size
        };
      }
      case "less_string",
          "greater_string",
          "less_equals_string",
          "greater_equals_string",
          "less_bytes",
          "greater_bytes",
          "less_equals_bytes",
          "greater_equals_bytes",
          "equals",
          "not_equals" -> {
        long smallest = Math.min(sizeOrUnknown(args.get(0)), sizeOrUnknown(args.get(1)));
        return of(add(factor(smallest, STRING_TRAVERSAL), argSum));
      }
      default -> {}
    }
    return of(add(1, argSum));
  }

  private long costComprehension(CelExpr e) {
    var c = e.comprehension();
    long sum = add(cost(c.iterRange()), cost(c.accuInit()));
    push(c.accuVar(), new Local(path(c.accuInit()), size(c.accuInit())));
    List<String> itemPath = new ArrayList<>(path(c.iterRange()));
    boolean list = type(c.iterRange()).kind() != CelKind.MAP;
    itemPath.add(list ? "@items" : "@keys");
    boolean twoVariables = !c.iterVar2().isEmpty();
    // with two variables (cel-go's two-variable comprehensions) the first is the index or key
    push(c.iterVar(), twoVariables ? new Local(List.of(), 1L) : new Local(itemPath, null));
    if (twoVariables) {
      push(c.iterVar2(), new Local(itemPath, null));
    }
    long loop = cost(c.loopCondition());
    long step = cost(c.loopStep());
    pop(c.iterVar());
    if (twoVariables) {
      pop(c.iterVar2());
    }
    sum = add(sum, cost(c.result()));
    pop(c.accuVar());
    long range = sizeOrUnknown(c.iterRange());
    sum = add(sum, multiply(range, add(step, loop)));
    if (c.accuInit().getKind() == CelExpr.ExprKind.Kind.CONSTANT) {
      Long size = size(c.accuInit());
      if (size != null) {
        sizes.put(e.id(), size);
      }
    } else if (c.accuInit().getKind() == CelExpr.ExprKind.Kind.LIST
        || c.accuInit().getKind() == CelExpr.ExprKind.Kind.MAP) {
      sizes.put(e.id(), range);
    }
    return sum;
  }

  private Long size(CelExpr e) {
    Long computed = sizes.get(e.id());
    if (computed != null) {
      return computed;
    }
    switch (e.getKind()) {
      case CONSTANT -> {
        var constant = e.constant();
        switch (constant.getKind()) {
          case STRING_VALUE -> {
            return (long) constant.stringValue().codePointCount(0, constant.stringValue().length());
          }
          case BYTES_VALUE -> {
            return (long) constant.bytesValue().size();
          }
          default -> {}
        }
      }
      case LIST -> {
        return (long) e.list().elements().size();
      }
      case MAP -> {
        return (long) e.map().entries().size();
      }
      default -> {}
    }
    List<String> path = path(e);
    if (!path.isEmpty()) {
      Optional<Long> bySchema = sizeOfPath.apply(path);
      if (bySchema.isPresent()) {
        return bySchema.get();
      }
    }
    switch (type(e).kind()) {
      case BOOL, DOUBLE, DURATION, INT, TIMESTAMP, UINT -> {
        return 1L;
      }
      default -> {}
    }
    if (e.getKind() == CelExpr.ExprKind.Kind.IDENT) {
      Local local = peek(e.ident().name());
      if (local != null && local.size != null) {
        return local.size;
      }
    }
    return null;
  }

  private long sizeOrUnknown(CelExpr e) {
    Long size = size(e);
    return size == null ? UNKNOWN : size;
  }

  private List<String> path(CelExpr e) {
    if (e.getKind() == CelExpr.ExprKind.Kind.IDENT) {
      Local local = peek(e.ident().name());
      if (local != null) {
        return local.path == null ? List.of() : local.path;
      }
    }
    return paths.getOrDefault(e.id(), List.of());
  }

  private CelType type(CelExpr e) {
    return ast.getType(e.id()).orElse(dev.cel.common.types.SimpleType.DYN);
  }

  private Local peek(String name) {
    Deque<Local> stack = locals.get(name);
    return stack == null || stack.isEmpty() ? null : stack.peek();
  }

  private void push(String name, Local local) {
    locals.computeIfAbsent(name, n -> new ArrayDeque<>()).push(local);
  }

  private void pop(String name) {
    locals.get(name).pop();
  }

  private static long[] of(long cost) {
    return new long[] {cost, -1};
  }

  public static long add(long a, long b) {
    long sum = a + b;
    return sum < 0 ? UNKNOWN : sum;
  }

  static long multiply(long a, long b) {
    if (a == 0 || b == 0) {
      return 0;
    }
    return a > UNKNOWN / b ? UNKNOWN : a * b;
  }

  private static long factor(long size, double factor) {
    double cost = Math.ceil(size * factor);
    return cost >= UNKNOWN ? UNKNOWN : (long) cost;
  }
}
