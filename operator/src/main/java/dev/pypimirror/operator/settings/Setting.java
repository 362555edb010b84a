package dev.pypimirror.operator.settings;

import java.time.Duration;
import java.util.Objects;

/**
 * One setting or timing of the operator: its key, its default and what it does.
 *
 * @param key what changes it: a command and its option ({@code run --webhook-port}), or, for a
 *     timing no option changes, a dotted name ({@code leader.lease-duration})
 * @param defaultValue what the operator uses when nobody says otherwise
 * @param text the default as the command line takes it and the reference shows it
 * @param description what it does, one sentence (the command line's help shows it too)
 */
public record Setting<T>(String key, T defaultValue, String text, String description) {
  public Setting {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(defaultValue, "defaultValue");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(description, "description");
  }

  /** A setting whose default is written as {@link String#valueOf}. */
  static <T> Setting<T> of(String key, T defaultValue, String description) {
    return new Setting<>(key, defaultValue, String.valueOf(defaultValue), description);
  }

  /** An option that takes whole seconds. */
  static Setting<Duration> seconds(String key, Duration defaultValue, String description) {
    return new Setting<>(key, defaultValue, String.valueOf(defaultValue.toSeconds()), description);
  }

  /** A timing no option changes, written 500ms, 30s or 10m. */
  static Setting<Duration> timing(String key, Duration defaultValue, String description) {
    long millis = defaultValue.toMillis();
    String text =
        millis % 1000 != 0
            ? millis + "ms"
            : millis % 60_000 == 0 ? millis / 60_000 + "m" : millis / 1000 + "s";
    return new Setting<>(key, defaultValue, text, description);
  }

  /** The command whose option this is ({@code run}), or empty for a timing no option changes. */
  public String command() {
    int space = key.indexOf(' ');
    return space < 0 ? "" : key.substring(0, space);
  }

  /** The option ({@code --webhook-port}), or the timing's name. */
  public String option() {
    return key.substring(key.indexOf(' ') + 1);
  }
}
