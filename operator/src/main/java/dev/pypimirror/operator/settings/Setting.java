package dev.pypimirror.operator.settings;

import java.util.Objects;

/**
 * One setting or timing of the operator: its key (the command-line option that changes it, or the
 * name of a timing no option changes), its default and what it does.
 *
 * @param key {@code run --webhook-port}-like for what an option changes, else a plain name
 * @param defaultValue what the operator uses when nobody says otherwise
 * @param description what it does, one sentence (the command line's help shows it too)
 */
public record Setting<T>(String key, T defaultValue, String description) {
  public Setting {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(defaultValue, "defaultValue");
    Objects.requireNonNull(description, "description");
  }
}
