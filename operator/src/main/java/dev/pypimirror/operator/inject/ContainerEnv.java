package dev.pypimirror.operator.inject;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A container's declared environment read as the kubelet gives it to the process (the last entry of
 * a name wins; {@code $(VAR)} in a value is expanded), and what Enforce refuses in it. Pure.
 */
public final class ContainerEnv {
  /** The variable the webhook reads to place {@code .pydistutils.cfg}. */
  public static final String HOME = "HOME";

  /** Why a container's environment cannot be admitted under Enforce. */
  public record Refusal(Reason reason, String message) {}

  private ContainerEnv() {}

  /**
   * HOME as the container's process gets it when it is a literal absolute path: the last entry
   * named HOME (the kubelet's choice), or null when that entry is not such a literal (or there is
   * none).
   */
  public static String literalHome(JsonNode container) {
    JsonNode last = last(container.path("env"), HOME);
    if (last == null || last.has("valueFrom")) {
      return null;
    }
    String value = last.path("value").asText("");
    return value.startsWith("/") && !value.contains("$(") ? value : null;
  }

  /** Whether the container sets HOME at all (an entry of that name, literal or not). */
  public static boolean setsHome(JsonNode container) {
    return last(container.path("env"), HOME) != null;
  }

  /**
   * What Enforce refuses in the container's environment: an env that is not a list of named
   * entries; a name the webhook reads or writes given twice; HOME that is not a literal absolute
   * path; a variable the allow-list refuses (literal or valueFrom); envFrom that could bring one.
   *
   * @param written the variables the webhook writes (the mirror's and the pins)
   */
  public static List<Refusal> refusals(
      JsonNode container, String name, Set<String> written, PolicyMode mode) {
    JsonNode env = container.path("env");
    if (!isListOrAbsent(env)) {
      return List.of(environment("container %s's env is not a list".formatted(name)));
    }
    List<Refusal> refusals = new ArrayList<>(entries(env, name, written, mode));
    refusals.addAll(repeated(env, name, written));
    if (setsHome(container) && literalHome(container) == null) {
      refusals.add(
          environment(
              ("container %s sets HOME other than as a literal absolute path (valueFrom, a"
                      + " relative path or $(...)); the mirror's .pydistutils.cfg must go to the"
                      + " HOME the process gets")
                  .formatted(name)));
    }
    refusals.addAll(envFrom(container.path("envFrom"), name));
    return refusals;
  }

  private static boolean isListOrAbsent(JsonNode node) {
    return node.isMissingNode() || node.isNull() || node.isArray();
  }

  /** Entries without a name, and variables the allow-list refuses, in the env's order. */
  private static List<Refusal> entries(
      JsonNode env, String name, Set<String> written, PolicyMode mode) {
    List<Refusal> refusals = new ArrayList<>();
    for (JsonNode variable : env) {
      if (!variable.isObject() || !variable.path("name").isTextual()) {
        refusals.add(environment("container %s has an env entry without a name".formatted(name)));
        continue;
      }
      String variableName = variable.path("name").asText();
      if (!written.contains(variableName)
          && !variableName.equals(HOME)
          && mode.verdict(variableName) == EnvAllowList.Verdict.REFUSE) {
        refusals.add(
            environment(
                ("container %s sets %s, which changes which code Python runs or where its requests"
                        + " go; remove it, or ask for it in the policy's allowedEnv")
                    .formatted(name, variableName)));
      }
    }
    return refusals;
  }

  /** A name the webhook reads or writes given more than once: which entry wins is the kubelet's. */
  private static List<Refusal> repeated(JsonNode env, String name, Set<String> written) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (JsonNode variable : env) {
      if (variable.isObject() && variable.path("name").isTextual()) {
        counts.merge(variable.path("name").asText(), 1, Integer::sum);
      }
    }
    List<Refusal> refusals = new ArrayList<>();
    counts.forEach(
        (variableName, count) -> {
          if (count > 1 && (written.contains(variableName) || variableName.equals(HOME))) {
            refusals.add(
                environment(
                    "container %s sets %s %d times; set it once"
                        .formatted(name, variableName, count)));
          }
        });
    return refusals;
  }

  /** envFrom that is not a list, or a source whose prefix could bring a variable unseen. */
  private static List<Refusal> envFrom(JsonNode envFrom, String name) {
    if (!isListOrAbsent(envFrom)) {
      return List.of(environment("container %s's envFrom is not a list".formatted(name)));
    }
    List<Refusal> refusals = new ArrayList<>();
    for (JsonNode source : envFrom) {
      if (EnvAllowList.envFromPrefixIsSafe(source.path("prefix").asText(null))) {
        continue;
      }
      String from =
          source.has("secretRef")
              ? "Secret " + source.path("secretRef").path("name").asText()
              : "ConfigMap " + source.path("configMapRef").path("name").asText();
      refusals.add(
          new Refusal(
              Reason.UNKNOWN_ENVIRONMENT,
              ("container %s takes its environment from %s (envFrom), which may set variables the"
                      + " policy removes or refuses, unseen by the webhook; give envFrom a prefix"
                      + " that begins no such name (e.g. APP_) or list the variables under env")
                  .formatted(name, from)));
    }
    return refusals;
  }

  private static Refusal environment(String message) {
    return new Refusal(Reason.REFUSED_ENVIRONMENT, message);
  }

  private static JsonNode last(JsonNode env, String name) {
    JsonNode found = null;
    for (JsonNode variable : env) {
      if (name.equals(variable.path("name").asText(null))) {
        found = variable;
      }
    }
    return found;
  }
}
