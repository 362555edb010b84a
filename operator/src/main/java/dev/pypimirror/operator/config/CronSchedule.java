package dev.pypimirror.operator.config;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A CronJob schedule as Kubernetes accepts it (it parses with robfig/cron's standard parser):
 * five fields (minute, hour, day of month, month, day of week) of values, names ({@code JAN},
 * {@code MON}), ranges, steps, lists, {@code *} and {@code ?}; or a macro ({@code @hourly}, {@code
 * @daily}, ..., {@code @every 1h30m}). No {@code TZ=}/{@code CRON_TZ=} prefix.
 */
public final class CronSchedule {
  private static final List<String> MACROS =
      List.of("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly");
  private static final Pattern GO_DURATION =
      Pattern.compile(
          "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|ms|s|m|h)(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|ms|s|m|h))*$");
  private static final Pattern NUMBER = Pattern.compile("^[0-9]+$");
  private static final List<String> MONTHS =
      List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec");
  private static final List<String> DAYS = List.of("sun", "mon", "tue", "wed", "thu", "fri", "sat");

  private record Field(String name, int min, int max, List<String> names, int firstNamed) {}

  private static final List<Field> FIELDS =
      List.of(
          new Field("minute", 0, 59, List.of(), 0),
          new Field("hour", 0, 23, List.of(), 0),
          new Field("day of month", 1, 31, List.of(), 0),
          new Field("month", 1, 12, MONTHS, 1),
          new Field("day of week", 0, 6, DAYS, 0));

  private CronSchedule() {}

  /** Why {@code schedule} is no schedule a CronJob accepts; empty when it is one. */
  public static Optional<String> problem(String schedule) {
    if (schedule.contains("TZ")) {
      return Optional.of("TZ or CRON_TZ is not allowed in a schedule (a CronJob has timeZone)");
    }
    String trimmed = schedule.strip();
    if (trimmed.startsWith("@every ")) {
      String duration = trimmed.substring("@every ".length()).strip();
      return GO_DURATION.matcher(duration).matches()
          ? Optional.empty()
          : Optional.of("@every needs a duration such as 90m or 1h30m, got \"" + duration + "\"");
    }
    if (trimmed.startsWith("@")) {
      return MACROS.contains(trimmed)
          ? Optional.empty()
          : Optional.of("unknown macro " + trimmed + "; known: " + String.join(", ", MACROS));
    }
    String[] fields = trimmed.isEmpty() ? new String[0] : trimmed.split("\\s+");
    if (fields.length != FIELDS.size()) {
      return Optional.of(
          "expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as"
              + " @daily, found %d".formatted(fields.length));
    }
    for (int i = 0; i < fields.length; i++) {
      for (String item : fields[i].split(",", -1)) {
        Optional<String> problem = item(FIELDS.get(i), item);
        if (problem.isPresent()) {
          return problem;
        }
      }
    }
    return Optional.empty();
  }

  /** One item of a list: {@code *}, {@code ?}, a value or a range, each with an optional step. */
  private static Optional<String> item(Field field, String item) {
    String[] rangeAndStep = item.split("/", -1);
    if (rangeAndStep.length > 2) {
      return Optional.of(field.name() + ": too many slashes in \"" + item + "\"");
    }
    int start;
    int end;
    String range = rangeAndStep[0];
    if (range.equals("*") || range.equals("?")) {
      start = field.min();
      end = field.max();
    } else {
      String[] bounds = range.split("-", -1);
      if (bounds.length > 2) {
        return Optional.of(field.name() + ": too many hyphens in \"" + item + "\"");
      }
      Integer low = value(field, bounds[0]);
      Integer high = bounds.length == 2 ? value(field, bounds[1]) : low;
      if (low == null || high == null) {
        return Optional.of(field.name() + ": \"" + item + "\" is not a value" + names(field));
      }
      start = low;
      end = bounds.length == 1 && rangeAndStep.length == 2 ? field.max() : high;
    }
    if (start < field.min() || end > field.max()) {
      return Optional.of(
          "%s: \"%s\" is outside %d-%d".formatted(field.name(), item, field.min(), field.max()));
    }
    if (start > end) {
      return Optional.of(field.name() + ": \"" + item + "\" begins after it ends");
    }
    if (rangeAndStep.length == 2
        && (!NUMBER.matcher(rangeAndStep[1]).matches() || parse(rangeAndStep[1]) <= 0)) {
      return Optional.of(field.name() + ": the step of \"" + item + "\" must be a positive number");
    }
    return Optional.empty();
  }

  private static Integer value(Field field, String text) {
    int named = field.names().indexOf(text.toLowerCase(Locale.ROOT));
    if (named >= 0) {
      return named + field.firstNamed();
    }
    return NUMBER.matcher(text).matches() ? parse(text) : null;
  }

  private static int parse(String digits) {
    return digits.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(digits);
  }

  private static String names(Field field) {
    return field.names().isEmpty()
        ? ""
        : " (or a name: " + String.join(", ", field.names()).toUpperCase(Locale.ROOT) + ")";
  }
}
