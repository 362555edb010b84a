package dev.pypimirror.operator.policy;

import dev.pypimirror.operator.api.LabelSelectorSchema;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Kubernetes label selector matching: matchLabels and matchExpressions, all ANDed. */
public final class LabelSelectors {
  private static final Pattern KEY = Pattern.compile(LabelSelectorSchema.QUALIFIED_NAME);
  private static final Pattern VALUE = Pattern.compile(LabelSelectorSchema.LABEL_VALUE);
  private static final Set<String> OPERATORS = Set.of("In", "NotIn", "Exists", "DoesNotExist");

  /** A selector the API server would refuse; the message lists every problem. */
  public static final class InvalidSelectorException extends IllegalArgumentException {
    public InvalidSelectorException(List<String> problems) {
      super("invalid label selector: " + String.join("; ", problems));
    }
  }

  private LabelSelectors() {}

  /**
   * A null selector matches nothing; an empty one matches everything.
   *
   * @throws InvalidSelectorException for a selector the API server would refuse ({@link #problems})
   */
  public static boolean matches(LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return false;
    }
    List<String> problems = problems(selector);
    if (!problems.isEmpty()) {
      throw new InvalidSelectorException(problems);
    }
    Map<String, String> have = labels == null ? Map.of() : labels;
    if (selector.getMatchLabels() != null) {
      for (var entry : selector.getMatchLabels().entrySet()) {
        if (!entry.getValue().equals(have.get(entry.getKey()))) {
          return false;
        }
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement requirement : selector.getMatchExpressions()) {
        if (!matches(requirement, have)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * What the API server's LabelSelector validation would refuse in {@code selector} (none for
   * null): keys that are not qualified names, values that are not label values, a missing or
   * unknown operator, In/NotIn without values, Exists/DoesNotExist with values.
   */
  public static List<String> problems(LabelSelector selector) {
    List<String> problems = new ArrayList<>();
    if (selector == null) {
      return problems;
    }
    if (selector.getMatchLabels() != null) {
      selector
          .getMatchLabels()
          .forEach(
              (key, value) -> {
                checkKey("matchLabels", key, problems);
                checkValue("matchLabels[" + key + "]", value, problems);
              });
    }
    List<LabelSelectorRequirement> expressions =
        selector.getMatchExpressions() == null ? List.of() : selector.getMatchExpressions();
    for (int i = 0; i < expressions.size(); i++) {
      String where = "matchExpressions[" + i + "]";
      LabelSelectorRequirement requirement = expressions.get(i);
      if (requirement == null) {
        problems.add(where + " is empty");
        continue;
      }
      checkKey(where + ".key", requirement.getKey(), problems);
      String operator = requirement.getOperator();
      List<String> values = requirement.getValues() == null ? List.of() : requirement.getValues();
      if (operator == null || operator.isEmpty()) {
        problems.add(where + ".operator is required");
      } else if (!OPERATORS.contains(operator)) {
        problems.add(
            where + ".operator " + operator + " is not one of In, NotIn, Exists, DoesNotExist");
      } else if ((operator.equals("In") || operator.equals("NotIn")) && values.isEmpty()) {
        problems.add(where + ".values must be non-empty for " + operator);
      } else if ((operator.equals("Exists") || operator.equals("DoesNotExist"))
          && !values.isEmpty()) {
        problems.add(where + ".values must be empty for " + operator);
      }
      for (int v = 0; v < values.size(); v++) {
        checkValue(where + ".values[" + v + "]", values.get(v), problems);
      }
    }
    return problems;
  }

  private static void checkKey(String where, String key, List<String> problems) {
    if (key == null || key.isEmpty()) {
      problems.add(where + " needs a key");
    } else if (key.length() > LabelSelectorSchema.MAX_KEY_LENGTH
        || key.indexOf('/') > 253
        || !KEY.matcher(key).matches()) {
      problems.add(where + " key " + quote(key) + " is not a valid label key");
    }
  }

  private static void checkValue(String where, String value, List<String> problems) {
    if (value == null || value.length() > 63 || !VALUE.matcher(value).matches()) {
      problems.add(where + " " + quote(value) + " is not a valid label value");
    }
  }

  /** Shown in messages: at most 80 characters of what was written. */
  private static String quote(String s) {
    if (s == null) {
      return "null";
    }
    return '"' + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + '"';
  }

  private static boolean matches(LabelSelectorRequirement requirement, Map<String, String> labels) {
    String value = labels.get(requirement.getKey());
    List<String> values = requirement.getValues() == null ? List.of() : requirement.getValues();
    return switch (requirement.getOperator()) {
      case "In" -> value != null && values.contains(value);
      case "NotIn" -> value == null || !values.contains(value);
      case "Exists" -> labels.containsKey(requirement.getKey());
      default -> !labels.containsKey(requirement.getKey()); // DoesNotExist: checked above
    };
  }
}
