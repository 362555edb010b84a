package dev.pypimirror.operator;

import static dev.pypimirror.operator.testing.ProjectPaths.ROOT;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package map stays true: every package of main code says its one-line role in a {@code
 * package-info.java}, and every package has a place in the layout rules ({@link ArchitectureTest}):
 * pure, I/O, the contract or the settings. A new package that is in neither list would escape the
 * rules unseen.
 */
class PackageMapTest {
  private static final Path MAIN = ROOT.resolve("operator/src/main/java");
  private static final Pattern ROLE = Pattern.compile("/\\*\\*(.*?)\\*/", Pattern.DOTALL);

  /** The packages that are neither pure nor I/O: the contract below everything, data beside it. */
  private static final List<String> OTHER =
      List.of("dev.pypimirror.operator.api..", "dev.pypimirror.operator.settings..");

  @Test
  void everyPackageSaysItsRole() throws IOException {
    List<String> missing = new ArrayList<>();
    for (Path dir : packageDirs()) {
      Path info = dir.resolve("package-info.java");
      if (!Files.exists(info)) {
        missing.add(packageName(dir) + ": no package-info.java");
        continue;
      }
      Matcher role = ROLE.matcher(Files.readString(info));
      if (!role.find() || role.group(1).replaceAll("(?m)^\\s*\\*", "").isBlank()) {
        missing.add(packageName(dir) + ": package-info.java has no one-line role");
      }
    }
    assertThat(missing).as("add a package-info.java with a /** one-line role */").isEmpty();
  }

  @Test
  void everyPackageHasAPlaceInTheLayoutRules() throws IOException {
    List<String> rules = new ArrayList<>(List.of(ArchitectureTest.PURE));
    rules.addAll(List.of(ArchitectureTest.IO_PACKAGES));
    rules.addAll(OTHER);
    List<String> unplaced =
        packageDirs().stream()
            .map(PackageMapTest::packageName)
            .filter(pkg -> rules.stream().noneMatch(rule -> covers(rule, pkg)))
            .toList();
    assertThat(unplaced)
        .as("list each package in ArchitectureTest.PURE or ArchitectureTest.IO_PACKAGES")
        .isEmpty();
  }

  @Test
  void aRuleCoversItsPackageAndWhatLiesBelowOnly() {
    assertThat(covers("a.b..", "a.b")).isTrue();
    assertThat(covers("a.b..", "a.b.c")).isTrue();
    assertThat(covers("a.b..", "a.bc")).isFalse();
    assertThat(covers("a.b", "a.b.c")).isFalse();
  }

  /**
   * ArchUnit's package syntax as the layout uses it: {@code a.b..} is a.b and below, {@code a.b} is
   * a.b.
   */
  static boolean covers(String rule, String pkg) {
    if (rule.endsWith("..")) {
      String base = rule.substring(0, rule.length() - 2);
      return pkg.equals(base) || pkg.startsWith(base + ".");
    }
    return pkg.equals(rule);
  }

  private static List<Path> packageDirs() throws IOException {
    try (Stream<Path> files = Files.walk(MAIN)) {
      return files
          .filter(f -> f.toString().endsWith(".java"))
          .map(Path::getParent)
          .distinct()
          .sorted()
          .toList();
    }
  }

  private static String packageName(Path dir) {
    return MAIN.relativize(dir).toString().replace(dir.getFileSystem().getSeparator(), ".");
  }
}
