package dev.pypimirror.operator.admissionpolicy;

import static dev.pypimirror.operator.admissionpolicy.CelText.string;

import dev.pypimirror.operator.api.Annotations;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.InjectedLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CEL of the JSONPatch mutation that adds a mirror to a pod as {@code inject.PodPatchPlanner}
 * does (not under Enforce): the same volumes (renamed {@code -2}, {@code -3}... past a foreign
 * volume of the name), mounts (a path the container already uses, compared normalised, is left
 * alone and named in {@code pypimirror.dev/skipped}), variables (a container's own are kept) and
 * annotations, into every init container and container or those {@code pypimirror.dev/containers}
 * names.
 *
 * <p>CEL has no flattening of a list of lists in Kubernetes' environment, so a container's mounts
 * and variables are written as one {@code add} of the whole array (its items followed by the new
 * ones), which stores the same pod as the webhook's appends. A pod that holds everything gets only
 * the annotations again (unchanged), so reinvocation changes nothing.
 */
final class InjectionExpression {
  private static final List<String> LISTS = List.of("initContainers", "containers");

  /**
   * Stands for the container list in a mount's path (NUL: never in a literal, which escapes it).
   */
  private static final String LIST = "\u0000";

  private InjectionExpression() {}

  /** The policy's variables: what the pod holds, and what the mirror's injection finds in it. */
  static Map<String, String> variables(PypiMirror mirror, RenderedConfig rendered) {
    Map<String, String> variables = new LinkedHashMap<>();
    variables.put(
        "annotations", "has(object.metadata.annotations) ? object.metadata.annotations : {}");
    variables.put("volumes", "has(object.spec.volumes) ? object.spec.volumes : []");
    variables.put(
        "filtered", "%s in variables.annotations".formatted(string(Annotations.CONTAINERS)));
    variables.put(
        "selected",
        "variables.filtered ? variables.annotations[%s].split(',').map(s, s.trim()).filter(s, s != '') : []"
            .formatted(string(Annotations.CONTAINERS)));
    for (String list : LISTS) {
      variables.put(list, "has(object.spec.%s) ? object.spec.%s : []".formatted(list, list));
    }
    String configMap = MirrorObjects.configMapName(mirror.getMetadata().getName());
    variables.put(
        "configVolume", volumeName(InjectedLayout.CONFIG_VOLUME, "configMap", "name", configMap));
    String claim = MirrorObjects.mountedClaimName(mirror);
    if (claim != null) {
      variables.put(
          "cacheVolume",
          volumeName(InjectedLayout.CACHE_VOLUME, "persistentVolumeClaim", "claimName", claim));
    }
    List<Mount> mounts = mounts(mirror, rendered);
    for (String list : LISTS) {
      variables.put(
          list + "Paths",
          "variables.%s.map(c, (has(c.volumeMounts) ? c.volumeMounts : []).map(m, has(m.mountPath) ? %s : ''))"
              .formatted(list, normalisedCel("m.mountPath")));
      variables.put(
          list + "Devices",
          "variables.%s.map(c, (has(c.volumeDevices) ? c.volumeDevices : []).map(d, has(d.devicePath) ? %s : ''))"
              .formatted(list, normalisedCel("d.devicePath")));
      if (rendered.data().containsKey(RenderedConfig.PYDISTUTILS_CFG)) {
        String home = home(InjectionPolicies.homeDir(mirror));
        variables.put(
            list + "Pydistutils",
            "variables.%s.map(c, (%s).endsWith('/') ? (%s) + %s : (%s) + %s)"
                .formatted(
                    list,
                    home,
                    home,
                    string(InjectedLayout.PYDISTUTILS_FILE),
                    home,
                    string("/" + InjectedLayout.PYDISTUTILS_FILE)));
        variables.put(
            list + "PydistutilsPath",
            "variables.%sPydistutils.map(p, %s)".formatted(list, normalisedCel("p")));
      }
      variables.put(
          list + "States",
          "variables.%s.transformList(i, c, %s ? [%s] : [])"
              .formatted(
                  list,
                  TARGET,
                  String.join(
                      ", ",
                      java.util.stream.IntStream.range(0, mounts.size())
                          .mapToObj(k -> state(mounts, k).replace(LIST, list))
                          .toList())));
    }
    variables.put("usesConfig", uses(mounts, true));
    variables.put("usesCache", claim == null ? "false" : uses(mounts, false));
    String newVolumes =
        "(variables.usesConfig && !variables.volumes.exists(v, v.name == variables.configVolume) ? [Object.spec.volumes{name: variables.configVolume, configMap: Object.spec.volumes.configMap{name: %s}}] : [])"
            .formatted(string(configMap));
    if (claim != null) {
      newVolumes +=
          " + (variables.usesCache && !variables.volumes.exists(v, v.name == variables.cacheVolume) ? [Object.spec.volumes{name: variables.cacheVolume, persistentVolumeClaim: Object.spec.volumes.persistentVolumeClaim{claimName: %s, readOnly: true}}] : [])"
              .formatted(string(claim));
    }
    variables.put("newVolumes", newVolumes);
    Map<String, String> env = env(rendered);
    List<String> skipped = new ArrayList<>();
    for (String list : LISTS) {
      String type = "Object.spec." + list;
      String states = "variables.%sStates[i]".formatted(list);
      variables.put(
          list + "Mounts",
          "variables.%s.transformList(i, c, size(%s) > 0 ? %s : [])"
              .formatted(list, states, newMounts(mounts, type, states, list)));
      variables.put(
          list + "Env",
          "variables.%s.transformList(i, c, size(%s) > 0 ? %s : [])"
              .formatted(list, states, newEnv(env, states, type)));
      skipped.add(
          "variables.%s.transformList(i, c, size(%s) > 0 ? %s.join(',') : '')"
              .formatted(list, states, skippedOf(mounts, states, list)));
    }
    variables.put(
        "skipped", "(%s).filter(s, s != '').join(',')".formatted(String.join(" + ", skipped)));
    return variables;
  }

  /**
   * A mount the webhook adds: its volume and path as CEL ({@link #LIST} in the path stands for the
   * container list, for a path that depends on the container), and whether it is a config mount.
   */
  private record Mount(
      String volume, String path, String normalisedPath, String subPath, boolean config) {}

  private static List<Mount> mounts(PypiMirror mirror, RenderedConfig rendered) {
    String config = "variables.configVolume";
    List<Mount> mounts = new ArrayList<>();
    mounts.add(constant(config, InjectedLayout.CONFIG_DIR, null, true));
    mounts.add(constant(config, InjectedLayout.PIP_CONF, RenderedConfig.PIP_CONF, true));
    mounts.add(constant(config, InjectedLayout.UV_TOML, RenderedConfig.UV_TOML, true));
    if (rendered.data().containsKey(RenderedConfig.PYDISTUTILS_CFG)) {
      mounts.add(
          new Mount(
              config,
              "variables." + LIST + "Pydistutils[i]",
              "variables." + LIST + "PydistutilsPath[i]",
              RenderedConfig.PYDISTUTILS_CFG,
              true));
    }
    if (MirrorObjects.mountedClaimName(mirror) != null) {
      mounts.add(
          constant(
              "variables.cacheVolume", mirror.getSpec().getCache().getMountPath(), null, false));
    }
    return mounts;
  }

  /** The mirror's variables, in the order the webhook appends them. */
  private static Map<String, String> env(RenderedConfig rendered) {
    Map<String, String> env = new LinkedHashMap<>();
    RenderedConfig.ENV_KEYS.stream()
        .filter(rendered.data()::containsKey)
        .forEach(key -> env.put(key, rendered.data().get(key)));
    return env;
  }

  private static Mount constant(String volume, String path, String subPath, boolean config) {
    return new Mount(volume, string(path), string(normalisedNow(path)), subPath, config);
  }

  /** A path as {@link #normalisedCel} makes it, for a path known now. */
  static String normalisedNow(String path) {
    return "/"
        + String.join(
            "/",
            java.util.Arrays.stream(path.split("/"))
                .filter(s -> !s.isEmpty() && !s.equals("."))
                .toList());
  }

  /** The whole patch for {@code mirror}. */
  static String patch(PypiMirror mirror, RenderedConfig rendered) {
    List<String> parts = new ArrayList<>();
    parts.add(
        "(has(object.spec.volumes) ? variables.newVolumes.map(v, JSONPatch{op: 'add', path: '/spec/volumes/-', value: v}) : (size(variables.newVolumes) == 0 ? [] : [JSONPatch{op: 'add', path: '/spec/volumes', value: variables.newVolumes}]))");
    for (String list : LISTS) {
      parts.add(
          "variables.%s.transformList(i, c, size(variables.%sMounts[i]) > 0 ? JSONPatch{op: 'add', path: '/spec/%s/' + string(i) + '/volumeMounts', value: (has(c.volumeMounts) ? c.volumeMounts : []) + variables.%sMounts[i]} : null).filter(p, p != null)"
              .formatted(list, list, list, list));
      parts.add(
          "variables.%s.transformList(i, c, size(variables.%sEnv[i]) > 0 ? JSONPatch{op: 'add', path: '/spec/%s/' + string(i) + '/env', value: (has(c.env) ? c.env : []) + variables.%sEnv[i]} : null).filter(p, p != null)"
              .formatted(list, list, list, list));
    }
    String skippedValue = "variables.skipped";
    String injected = string(mirror.getMetadata().getName() + "@" + rendered.hashPrefix());
    parts.add(annotateBoth(injected, skippedValue));
    String hasTargets =
        LISTS.stream()
            .map(list -> "variables.%sStates.exists(s, size(s) > 0)".formatted(list))
            .reduce((a, b) -> a + " || " + b)
            .orElseThrow();
    return "!(%s) ? [] : %s".formatted(hasTargets, String.join(" + ", parts));
  }

  /** A container the mirror goes into: the annotation's names when it has one. */
  private static final String TARGET =
      "(!variables.filtered || has(c.name) && c.name in variables.selected)";

  /**
   * The container's HOME (literal, absolute), else the pod's pypimirror.dev/home, else the
   * mirror's.
   */
  private static String home(String homeDir) {
    String last =
        "c.env.filter(e, has(e.name) && e.name == 'HOME')[size(c.env.filter(e, has(e.name) && e.name == 'HOME')) - 1]";
    String literal =
        "has(c.env) && c.env.exists(e, has(e.name) && e.name == 'HOME') && !has(%s.valueFrom) && has(%s.value) && %s.value.startsWith('/') && !%s.value.contains('$(')"
            .formatted(last, last, last, last);
    return "(%s ? %s.value : (%s in variables.annotations && variables.annotations[%s].startsWith('/') ? variables.annotations[%s] : %s))"
        .formatted(
            literal,
            last,
            string(Annotations.HOME),
            string(Annotations.HOME),
            string(Annotations.HOME),
            string(homeDir));
  }

  /** A path as the kubelet compares it: empty and {@code .} segments dropped. */
  private static String normalisedCel(String path) {
    return "('/' + (%s).split('/').filter(s, s != '' && s != '.').join('/'))".formatted(path);
  }

  /**
   * Of the {@code k}th mount in container {@code c} (index {@code i}), as the webhook plans it:
   * 'skip' when an earlier mount of the mirror already goes to its path, else of the first of the
   * container's mounts at the path (compared normalised) 'same' when it is already the mirror's and
   * 'skip' when it is someone else's, else 'skip' for a block device at the path; 'add' when the
   * path is free.
   */
  private static String state(List<Mount> mounts, int k) {
    Mount mount = mounts.get(k);
    String same =
        "m.name == %s && (has(m.subPath) ? m.subPath : '') == %s && has(m.readOnly) && m.readOnly == true && !has(m.subPathExpr)"
            .formatted(mount.volume(), string(mount.subPath() == null ? "" : mount.subPath()));
    String planned =
        mounts.subList(0, k).stream()
            .map(m -> "%s == %s".formatted(mount.normalisedPath(), m.normalisedPath()))
            .reduce((a, b) -> a + " || " + b)
            .orElse("false");
    return ("(%s) ? 'skip' : ((has(c.volumeMounts) ? c.volumeMounts : []).transformList(j, m, variables.%sPaths[i][j] == %s ? (%s ? 'same' : 'skip') : '').filter(s, s != '')"
            + " + (%s in variables.%sDevices[i] ? ['skip'] : ['add']))[0]")
        .formatted(planned, LIST, mount.normalisedPath(), same, mount.normalisedPath(), LIST);
  }

  /** Whether some target container uses a config (or the cache) mount: added or already there. */
  private static String uses(List<Mount> mounts, boolean config) {
    List<String> any = new ArrayList<>();
    for (int k = 0; k < mounts.size(); k++) {
      if (mounts.get(k).config() == config) {
        any.add("s[%d] != 'skip'".formatted(k));
      }
    }
    return LISTS.stream()
        .map(
            list ->
                "variables.%sStates.exists(s, size(s) > 0 && (%s))"
                    .formatted(list, String.join(" || ", any)))
        .reduce((a, b) -> a + " || " + b)
        .orElseThrow();
  }

  private static String newMounts(List<Mount> mounts, String type, String states, String list) {
    List<String> items = new ArrayList<>();
    for (int k = 0; k < mounts.size(); k++) {
      Mount mount = mounts.get(k);
      String value =
          "%s.volumeMounts{name: %s, mountPath: %s, readOnly: true%s}"
              .formatted(
                  type,
                  mount.volume(),
                  mount.path().replace(LIST, list),
                  mount.subPath() == null ? "" : ", subPath: " + string(mount.subPath()));
      items.add("(%s[%d] == 'add' ? [%s] : [])".formatted(states, k, value));
    }
    return "(" + String.join(" + ", items) + ")";
  }

  private static String skippedOf(List<Mount> mounts, String states, String list) {
    List<String> items = new ArrayList<>();
    for (int k = 0; k < mounts.size(); k++) {
      items.add(
          "(%s[%d] == 'skip' ? [c.name + ':' + %s] : [])"
              .formatted(states, k, mounts.get(k).path().replace(LIST, list)));
    }
    return "(" + String.join(" + ", items) + ")";
  }

  /** The mirror's variables the container does not set itself, PIP_CONFIG_FILE first. */
  private static String newEnv(Map<String, String> env, String states, String type) {
    String names = "(has(c.env) ? c.env.map(e, has(e.name) ? e.name : '') : [])";
    List<String> items = new ArrayList<>();
    items.add(
        "(size(%s) > 0 && %s[0] != 'skip' && !(%s in %s) ? [%s.env{name: %s, value: %s}] : [])"
            .formatted(
                states,
                states,
                string(InjectedLayout.PIP_CONFIG_FILE_ENV),
                names,
                type,
                string(InjectedLayout.PIP_CONFIG_FILE_ENV),
                string(InjectedLayout.PIP_CONFIG_FILE)));
    env.forEach(
        (name, value) ->
            items.add(
                "(!(%s in %s) ? [%s.env{name: %s, value: %s}] : [])"
                    .formatted(string(name), names, type, string(name), string(value))));
    return "(" + String.join(" + ", items) + ")";
  }

  /**
   * The first of {@code base}, {@code base-2}, ... that is free or already this source: the webhook
   * never renames nor replaces a foreign volume.
   */
  private static String volumeName(String base, String sourceField, String refField, String ref) {
    List<String> candidates = new ArrayList<>();
    for (int n = 1; n <= InjectionPolicies.VOLUME_NAME_CANDIDATES; n++) {
      candidates.add(n == 1 ? base : base + "-" + n);
    }
    return "%s.filter(n, !variables.volumes.exists(v, has(v.name) && v.name == n && !(has(v.%s) && has(v.%s.%s) && v.%s.%s == %s)))[0]"
        .formatted(
            CelText.strings(candidates),
            sourceField,
            sourceField,
            refField,
            sourceField,
            refField,
            string(ref));
  }

  /** Sets pypimirror.dev/injected, and pypimirror.dev/skipped when {@code skipped} is not empty. */
  private static String annotateBoth(String injected, String skipped) {
    String injectedKey = string(Annotations.INJECTED);
    String skippedKey = string(Annotations.SKIPPED);
    String pointer = "/metadata/annotations/";
    return ("(has(object.metadata.annotations) ? "
            + "(!(%s in object.metadata.annotations) || object.metadata.annotations[%s] != %s ? [JSONPatch{op: 'add', path: %s, value: %s}] : [])"
            + " + (%s != '' && (!(%s in object.metadata.annotations) || object.metadata.annotations[%s] != %s) ? [JSONPatch{op: 'add', path: %s, value: %s}] : [])"
            + " : [JSONPatch{op: 'add', path: '/metadata/annotations', value: %s != '' ? {%s: %s, %s: %s} : {%s: %s}}])")
        .formatted(
            injectedKey,
            injectedKey,
            injected,
            string(pointer + "pypimirror.dev~1injected"),
            injected,
            skipped,
            skippedKey,
            skippedKey,
            skipped,
            string(pointer + "pypimirror.dev~1skipped"),
            skipped,
            skipped,
            injectedKey,
            injected,
            skippedKey,
            skipped,
            injectedKey,
            injected);
  }

  /** A patch that sets pypimirror.dev/skipped to {@code value} (CEL) unless it holds it. */
  static String annotate(String value) {
    String key = string(Annotations.SKIPPED);
    return ("has(object.metadata.annotations) ? "
            + "(!(%s in object.metadata.annotations) || object.metadata.annotations[%s] != (%s) ? [JSONPatch{op: 'add', path: %s, value: %s}] : [])"
            + " : [JSONPatch{op: 'add', path: '/metadata/annotations', value: {%s: %s}}]")
        .formatted(
            key,
            key,
            value,
            string("/metadata/annotations/pypimirror.dev~1skipped"),
            value,
            key,
            value);
  }
}
