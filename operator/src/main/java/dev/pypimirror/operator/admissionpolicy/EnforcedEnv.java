package dev.pypimirror.operator.admissionpolicy;

import static dev.pypimirror.operator.admissionpolicy.CelText.string;
import static dev.pypimirror.operator.admissionpolicy.CelText.strings;

import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.ContainerEnv;
import dev.pypimirror.operator.inject.EnvAllowList;
import dev.pypimirror.operator.inject.IndexSettings;
import dev.pypimirror.operator.inject.InjectedLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A container's environment under Enforce as CEL over the container {@code c}, as {@code
 * inject.PodPatchPlanner} and {@link EnvAllowList} decide it: the mirror's variables and pins
 * written as literals (a container's own value of one is replaced in place), every other {@code
 * PIP_*}, {@code _PIP_*} and {@code UV_*} the allow-list does not keep removed, the rest kept; and
 * the verdicts the validating policy refuses by. Names are upper-cased with {@code upperAscii}:
 * kube-apiserver accepts only ASCII variable names, where it agrees with the webhook's {@code
 * toUpperCase}.
 */
final class EnforcedEnv {
  private static final String ENV = "(has(c.env) ? c.env : [])";

  /** The variables the webhook writes under Enforce, in its order, with their values. */
  private final Map<String, String> written;

  private final List<String> allowed;

  EnforcedEnv(RenderedConfig rendered, Set<String> allowedEnv) {
    this.written = written(rendered);
    this.allowed = allowedEnv.stream().sorted().toList();
  }

  /**
   * PIP_CONFIG_FILE, the rendered variables, then the pins (as {@code mirrorEnv} under Enforce).
   */
  static Map<String, String> written(RenderedConfig rendered) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(InjectedLayout.PIP_CONFIG_FILE_ENV, InjectedLayout.PIP_CONFIG_FILE);
    RenderedConfig.ENV_KEYS.stream()
        .filter(rendered.data()::containsKey)
        .forEach(key -> env.put(key, rendered.data().get(key)));
    IndexSettings.enforcedPins(env).forEach(env::putIfAbsent);
    return env;
  }

  /** CEL: the names the webhook writes. */
  String writtenNames() {
    return strings(List.copyOf(written.keySet()));
  }

  private String values() {
    return written.entrySet().stream()
        .map(e -> string(e.getKey()) + ": " + string(e.getValue()))
        .collect(Collectors.joining(", ", "{", "}"));
  }

  private static String sorted(java.util.Collection<String> values) {
    return strings(values.stream().sorted().toList());
  }

  /** CEL: whether the variable {@code name} changes which index pip or uv uses (upper-cased). */
  private static String affectsIndex(String upper) {
    List<String> options = new ArrayList<>();
    IndexSettings.PIP_OPTIONS.stream()
        .sorted()
        .forEach(
            o -> {
              options.add(o);
              options.add("--" + o);
            });
    return "(%s == 'PIP_CONFIG_FILE' || %s.startsWith('PIP_') && %s.substring(4).lowerAscii().replace('_', '-') in %s || %s in %s)"
        .formatted(
            upper, upper, upper, strings(options), upper, sorted(IndexSettings.UV_VARIABLES));
  }

  private static String tool(String upper) {
    return "%s.exists(p, %s.startsWith(p))".formatted(strings(EnvAllowList.TOOL_PREFIXES), upper);
  }

  /** CEL: Enforce removes the variable {@code name} (one the webhook does not write). */
  String removes(String name) {
    String upper = "%s.upperAscii()".formatted(name);
    return "(%s && !(%s in %s && !%s))"
        .formatted(tool(upper), name, strings(allowed), affectsIndex(upper));
  }

  /** CEL: Enforce refuses the variable {@code name} (one the webhook does not write). */
  String refuses(String name) {
    String upper = "%s.upperAscii()".formatted(name);
    return "(!%s && (%s in %s || %s.exists(p, %s.startsWith(p)) && !(%s in %s)) && !(%s in %s))"
        .formatted(
            tool(upper),
            upper,
            sorted(EnvAllowList.REFUSED_NAMES),
            strings(EnvAllowList.REFUSED_PREFIXES),
            upper,
            upper,
            sorted(EnvAllowList.HARMLESS_PYTHON),
            name,
            strings(allowed));
  }

  /** CEL: an envFrom prefix can bring no removed or refused name ({@code envFromPrefixIsSafe}). */
  static String safePrefix(String prefix) {
    String upper = "%s.upperAscii()".formatted(prefix);
    List<String> prefixes =
        Stream.concat(EnvAllowList.TOOL_PREFIXES.stream(), EnvAllowList.REFUSED_PREFIXES.stream())
            .toList();
    // HOME is held to one literal entry: a key "ME" under prefix "HO" would set it
    return "(%s != '' && %s.all(p, !p.startsWith(%s) && !%s.startsWith(p)) && %s.all(n, !n.startsWith(%s)) && !%s.startsWith(%s))"
        .formatted(
            prefix,
            strings(prefixes),
            upper,
            upper,
            sorted(EnvAllowList.REFUSED_NAMES),
            upper,
            string(ContainerEnv.HOME),
            upper);
  }

  private String ours(String e) {
    return "has(%s.name) && %s.name in %s".formatted(e, e, writtenNames());
  }

  /** CEL: the entry already sets the mirror's value as a literal. */
  private String literal(String e) {
    String value = "%s[%s.name]".formatted(values(), e);
    return "!has(%s.valueFrom) && (has(%s.value) ? %s.value == %s : %s == '')"
        .formatted(e, e, e, value, value);
  }

  private String kept(String e) {
    return "(!has(%s.name) || %s.name in %s || !%s)"
        .formatted(e, e, writtenNames(), removes(e + ".name"));
  }

  /** CEL: the variables of {@code c} the webhook does not write, added after its own. */
  private String appended(String type) {
    String names = "%s.map(e, has(e.name) ? e.name : '')".formatted(ENV);
    return written.entrySet().stream()
        .map(
            e ->
                "(!(%s in %s) ? [%s.env{name: %s, value: %s}] : [])"
                    .formatted(
                        string(e.getKey()), names, type, string(e.getKey()), string(e.getValue())))
        .collect(Collectors.joining(" + ", "(", ")"));
  }

  /** CEL: the container's environment as the webhook leaves it. */
  String rewritten(String type) {
    return "%s.filter(e, %s).map(e, %s && !(%s) ? %s.env{name: e.name, value: %s[e.name]} : e) + %s"
        .formatted(ENV, kept("e"), ours("e"), literal("e"), type, values(), appended(type));
  }

  /** CEL: whether {@link #rewritten} differs from the container's environment. */
  String changed() {
    return "(%s.exists(e, !%s || %s && !(%s)) || size(%s) > 0)"
        .formatted(ENV, kept("e"), ours("e"), literal("e"), appended("Object.spec.containers"));
  }

  /**
   * CEL: whether {@code c} holds the mirror's environment: each written variable set to its value
   * as a literal, and nothing the allow-list removes.
   */
  String holds() {
    return "(%s.all(n, %s.exists(e, has(e.name) && e.name == n && %s)) && %s.all(e, %s))"
        .formatted(writtenNames(), ENV, literal("e"), ENV, kept("e"));
  }
}
