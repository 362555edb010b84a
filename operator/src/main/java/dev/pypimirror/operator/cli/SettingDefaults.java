package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.settings.Setting;
import java.util.ListResourceBundle;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The options whose defaults are settings take default and help from {@link Defaults}: picocli asks
 * this provider for each option's default ({@code --help} shows what it answers), and reads each
 * such option's description from the command's {@link Help} bundle.
 */
public final class SettingDefaults implements IDefaultValueProvider {
  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option) || arg.command() == null) {
      return null;
    }
    return Defaults.ofOption(arg.command().name(), option.longestName())
        .map(Setting::text)
        .orElse(null);
  }

  /**
   * A command's option descriptions (picocli's resource bundle, keyed by the option's name without
   * dashes): each setting's description with its default.
   */
  public abstract static class Help extends ListResourceBundle {
    private final String command;

    Help(String command) {
      this.command = command;
    }

    @Override
    protected Object[][] getContents() {
      return Defaults.all().stream()
          .filter(s -> s.command().equals(command))
          .map(s -> new Object[] {s.option().replaceFirst("^-+", ""), withDefault(s)})
          .toArray(Object[][]::new);
    }

    private static String withDefault(Setting<?> setting) {
      String description = setting.description().replaceFirst("\\.$", "");
      return description + " (default: ${DEFAULT-VALUE}).";
    }
  }

  /** {@code run}'s. */
  public static final class RunHelp extends Help {
    public RunHelp() {
      super("run");
    }
  }

  /** {@code uninstall}'s. */
  public static final class UninstallHelp extends Help {
    public UninstallHelp() {
      super("uninstall");
    }
  }

  /** {@code proxy}'s. */
  public static final class ProxyHelp extends Help {
    public ProxyHelp() {
      super("proxy");
    }
  }
}
