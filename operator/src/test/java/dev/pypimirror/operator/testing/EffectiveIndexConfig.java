package dev.pypimirror.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.inject.IndexSettings;
import dev.pypimirror.operator.inject.InjectedLayout;
import dev.pypimirror.operator.policy.PolicyRules;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model of where pip and uv take their indexes from in one container of an admitted pod, resolved
 * the way they resolve it, written independently of the webhook: what it cannot know (a config file
 * the mirror does not control, a variable from envFrom or valueFrom) counts as hostile.
 *
 * <p>pip ({@code configuration.py}, {@code cli/parser.py}): variables {@code PIP_<name>}, the name
 * lower-cased, {@code _} and {@code -} alike, a leading {@code --} dropped, empty values skipped;
 * they beat the file {@code PIP_CONFIG_FILE} names, which beats the site (virtualenv), user and
 * global files ({@code XDG_CONFIG_DIRS}, {@code /etc}): of those only the mirror's own files are
 * known, so a key neither the environment nor the mirror's file sets could come from anywhere.
 * Requirement and constraint files can name their own index, so only {@code /dev/null} is safe. uv:
 * variables by exact name; {@code UV_CONFIG_FILE} replaces every discovered file, otherwise the
 * project's, user's and system files take part (unknown here).
 */
public final class EffectiveIndexConfig {
  private static final List<String> PIP_INDEX_KEYS =
      List.of(
          "index-url",
          "extra-index-url",
          "find-links",
          "requirement",
          "constraint",
          "build-constraint");
  private static final List<String> UV_INDEX_VARIABLES =
      List.of(
          "UV_INDEX", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS");

  private EffectiveIndexConfig() {}

  /**
   * Everything in the container's effective pip and uv configuration that names an index the policy
   * does not allow, or that cannot be known.
   *
   * @param configMapData the mirror's ConfigMap data (what its volume holds)
   * @param configMapName the mirror's ConfigMap
   * @param allowed the policy's allowedIndexPrefixes
   * @param cacheUrl the cache's own file:// index, or null
   */
  public static List<String> violations(
      JsonNode pod,
      JsonNode container,
      String configMapName,
      Map<String, String> configMapData,
      List<String> allowed,
      String cacheUrl) {
    List<String> problems = new ArrayList<>();
    String name = container.path("name").asText();
    for (JsonNode source : container.path("envFrom")) {
      if (!dev.pypimirror.operator.inject.EnvAllowList.envFromPrefixIsSafe(
          source.path("prefix").asText(null))) {
        problems.add(name + ": envFrom may set any PIP_/UV_ variable");
      }
    }
    Map<String, Optional<String>> env = new LinkedHashMap<>(); // empty: not literal
    for (JsonNode e : container.path("env")) {
      env.remove(e.path("name").asText()); // the last entry of a name wins, in its place
      env.put(
          e.path("name").asText(),
          e.has("valueFrom") ? Optional.empty() : Optional.of(e.path("value").asText("")));
    }

    // pip
    String pipConf = ourFile(pod, container, configMapName, env.get("PIP_CONFIG_FILE"), "pip.conf");
    for (String key : PIP_INDEX_KEYS) {
      List<String> values = new ArrayList<>();
      boolean fromEnv = false;
      for (var e : env.entrySet()) {
        if (IndexSettings.pipOption(e.getKey()).filter(key::equals).isEmpty()) {
          continue;
        }
        if (e.getValue().isEmpty()) {
          problems.add(name + ": " + e.getKey() + " comes from valueFrom");
          continue;
        }
        if (!e.getValue().get().isBlank()) { // pip skips empty values
          fromEnv = true;
          values.addAll(List.of(e.getValue().get().trim().split("\\s+")));
        }
      }
      if (!fromEnv) {
        List<String> fromFile = pipConf == null ? null : iniValues(configMapData.get(pipConf), key);
        if (fromFile == null) {
          problems.add(
              name + ": pip's " + key + " may come from a config file the mirror does not control");
          continue;
        }
        values.addAll(fromFile);
      }
      for (String value : values) {
        boolean ok =
            switch (key) {
              case "requirement", "constraint", "build-constraint" -> value.equals("/dev/null");
              case "find-links" ->
                  value.equals(InjectedLayout.CONFIG_DIR)
                          && holdsOurDirectory(pod, container, configMapName)
                      || allowedIndex(value, allowed, cacheUrl);
              default -> allowedIndex(value, allowed, cacheUrl);
            };
        if (!ok) {
          problems.add(name + ": pip's " + key + " names " + value);
        }
      }
    }

    // uv
    String uvToml = ourFile(pod, container, configMapName, env.get("UV_CONFIG_FILE"), "uv.toml");
    if (uvToml == null) {
      problems.add(name + ": uv reads config files the mirror does not control");
    } else {
      Matcher urls = Pattern.compile("(?m)^url = \"([^\"]*)\"").matcher(configMapData.get(uvToml));
      while (urls.find()) {
        if (!allowedIndex(urls.group(1), allowed, cacheUrl)) {
          problems.add(name + ": uv.toml names " + urls.group(1));
        }
      }
    }
    for (String variable : UV_INDEX_VARIABLES) {
      Optional<String> value = env.getOrDefault(variable, Optional.of(""));
      if (value.isEmpty()) {
        problems.add(name + ": " + variable + " comes from valueFrom");
      } else if (!value.get().isBlank()) {
        for (String url : value.get().trim().split("\\s+")) {
          if (!allowedIndex(url, allowed, cacheUrl)) {
            problems.add(name + ": " + variable + " names " + url);
          }
        }
      }
    }
    if (env.containsKey("UV_TORCH_BACKEND")) {
      problems.add(name + ": UV_TORCH_BACKEND makes uv use the PyTorch indexes");
    }
    return problems;
  }

  private static boolean allowedIndex(String url, List<String> allowed, String cacheUrl) {
    return url.equals(cacheUrl) || PolicyRules.isUnderAllowedPrefix(url, allowed);
  }

  /**
   * The ConfigMap key the file at {@code path} shows, when the deepest mount covering it is the
   * mirror's ConfigMap (whole at {@code /etc/pypi-mirror}, or one key by subPath); else null.
   */
  private static String ourFile(
      JsonNode pod,
      JsonNode container,
      String configMapName,
      Optional<String> path,
      String expectedKey) {
    if (path == null || path.isEmpty()) {
      return null;
    }
    JsonNode deepest = null;
    String file = normal(path.get());
    for (JsonNode m : container.path("volumeMounts")) {
      String at = normal(m.path("mountPath").asText());
      if ((file.equals(at) || file.startsWith(at + "/"))
          && (deepest == null
              || at.length() > normal(deepest.path("mountPath").asText()).length())) {
        deepest = m;
      }
    }
    if (deepest == null || !isOurVolume(pod, deepest.path("name").asText(), configMapName)) {
      return null;
    }
    String at = normal(deepest.path("mountPath").asText());
    String key =
        deepest.has("subPath")
            ? (file.equals(at) ? deepest.path("subPath").asText() : null)
            : file.substring(Math.min(file.length(), at.length() + 1));
    return expectedKey.equals(key) ? key : null;
  }

  private static boolean holdsOurDirectory(JsonNode pod, JsonNode container, String configMap) {
    return ourFile(
            pod,
            container,
            configMap,
            Optional.of(InjectedLayout.CONFIG_DIR + "/pip.conf"),
            "pip.conf")
        != null;
  }

  private static boolean isOurVolume(JsonNode pod, String volume, String configMapName) {
    for (JsonNode v : pod.at("/spec/volumes")) {
      if (volume.equals(v.path("name").asText())) {
        return configMapName.equals(v.at("/configMap/name").asText(null));
      }
    }
    return false;
  }

  private static String normal(String path) {
    String p;
    try {
      p = java.nio.file.Path.of("/", path).normalize().toString();
    } catch (java.nio.file.InvalidPathException e) {
      return path; // no such path can be mounted (a NUL in it): it matches nothing
    }
    return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }

  /** A key's values in an INI text ({@code key = a} and continuation lines); null when unset. */
  static List<String> iniValues(String ini, String key) {
    if (ini == null) {
      return null;
    }
    List<String> values = null;
    for (String line : ini.split("\n")) {
      if (values != null && (line.startsWith(" ") || line.startsWith("\t")) && !line.isBlank()) {
        values.addAll(List.of(line.trim().split("\\s+")));
        continue;
      }
      if (values != null) {
        break;
      }
      Matcher m = Pattern.compile("^([A-Za-z_-]+)\\s*=\\s*(.*)$").matcher(line);
      if (m.matches() && m.group(1).toLowerCase().replace('_', '-').equals(key)) {
        values = new ArrayList<>();
        if (!m.group(2).isBlank()) {
          values.addAll(List.of(m.group(2).trim().split("\\s+")));
        }
      }
    }
    return values;
  }
}
