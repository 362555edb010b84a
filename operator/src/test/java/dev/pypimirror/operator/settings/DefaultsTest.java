package dev.pypimirror.operator.settings;

import static dev.pypimirror.operator.testing.ProjectPaths.ROOT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every setting is listed once, and docs/settings.md, the reference a user reads, lists every one
 * with its default and description as {@link Defaults} has them: a changed default shows there.
 */
class DefaultsTest {
  private static final Path REFERENCE = ROOT.resolve("docs/settings.md");

  @Test
  void theReferenceListsEverySettingWithItsDefault() throws IOException {
    String rendered = reference();
    Path current = Path.of("target/settings.md");
    Files.writeString(current, rendered);

    assertThat(REFERENCE)
        .as(
            "docs/settings.md is missing or stale: it must list Defaults as they are"
                + " (cp operator/%s docs/settings.md)",
            current)
        .exists()
        .hasContent(rendered);
  }

  @Test
  void everySettingIsListedOnceAndHasItsOwnKey() throws IllegalAccessException {
    List<Setting<?>> declared = new ArrayList<>();
    for (Field field : Defaults.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == Setting.class) {
        declared.add((Setting<?>) field.get(null));
      }
    }

    assertThat(Defaults.all()).containsExactlyInAnyOrderElementsOf(declared);
    assertThat(Defaults.all().stream().map(Setting::key)).doesNotHaveDuplicates();
    assertThat(Defaults.all())
        .allSatisfy(s -> assertThat(s.description()).as(s.key()).endsWith("."));
  }

  @Test
  void theDefaultSettingsAreMadeOfTheDefaults() {
    OperatorSettings defaults = OperatorSettings.defaults();

    assertThat(defaults.webhook().port()).isEqualTo(Defaults.WEBHOOK_PORT.defaultValue());
    assertThat(defaults.webhook().drainDelay()).isEqualTo(Defaults.DRAIN_DELAY.defaultValue());
    assertThat(defaults.routing().timeoutSeconds())
        .isEqualTo(Defaults.WEBHOOK_TIMEOUT.defaultValue());
    assertThat(defaults.reconcile().indexImage()).isEqualTo(Defaults.INDEX_IMAGE.defaultValue());
    assertThat(defaults.injection()).isEqualTo(Defaults.INJECTION.defaultValue());
  }

  /** A setting refused is refused once, where the settings are made, naming its option. */
  @Test
  void aBadValueIsRefusedNamingItsOption() {
    var webhook = OperatorSettings.Webhook.DEFAULTS;

    assertThatIllegalArgumentException()
        .isThrownBy(() -> webhook.withDrainDelay(Duration.ofSeconds(-1)))
        .withMessage("--drain-delay must be 0 or more seconds, got -1");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new OperatorSettings.Routing("n", "s", "Ignore", 31, null))
        .withMessageStartingWith("--webhook-timeout is 1 to 30 seconds");
  }

  /** docs/settings.md as {@link Defaults} says it. */
  static String reference() {
    StringBuilder out = new StringBuilder();
    out.append("# Settings\n\n")
        .append("Every setting and timing of the operator with its default. The command line's")
        .append(" options come first,\nby command (`--help` shows the same); then the timings")
        .append(" and limits no option changes.\nGenerated from the code (`Defaults`); a test")
        .append(" keeps this page equal to it.\n");
    List<String> commands =
        Defaults.all().stream().map(Setting::command).filter(c -> !c.isEmpty()).distinct().toList();
    for (String command : commands) {
      out.append("\n## `").append(command).append("`\n\n");
      table(out, "Option", Defaults.all().stream().filter(s -> s.command().equals(command)));
    }
    out.append("\n## Timings and limits\n\n");
    table(out, "Name", Defaults.all().stream().filter(s -> s.command().isEmpty()));
    return out.toString();
  }

  private static void table(StringBuilder out, String keyHeading, Stream<Setting<?>> settings) {
    out.append("| ").append(keyHeading).append(" | Default | What it does |\n");
    out.append("|---|---|---|\n");
    settings.forEach(
        s ->
            out.append("| `")
                .append(s.option())
                .append("` | `")
                .append(s.text())
                .append("` | ")
                .append(s.description().replace("|", "\\|"))
                .append(" |\n"));
  }
}
