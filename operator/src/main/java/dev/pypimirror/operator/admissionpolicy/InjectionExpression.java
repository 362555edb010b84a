package dev.pypimirror.operator.admissionpolicy;

import static dev.pypimirror.operator.admissionpolicy.CelText.string;

import dev.pypimirror.operator.api.Annotations;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.InjectedLayout;
import dev.pypimirror.operator.inject.PolicyMode;
import dev.pypimirror.operator.jsonpatch.JsonPatches;
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

  /**
   * The policy's variables: what the pod holds, and what the mirror's injection finds in it. Under
   * Enforce ({@code mode}) every container is a target, an opted-out pod gets no cache, and a
   * container's environment is rewritten as the webhook rewrites it ({@link EnforcedEnv}).
   */
  static Map<String, String> variables(
      PypiMirror mirror, RenderedConfig rendered, PolicyMode mode) {
    Map<String, String> variables = new LinkedHashMap<>();
    podVariables(mode, variables);
    String configMap = MirrorObjects.configMapName(mirror.getMetadata().getName());
    String claim = MirrorObjects.mountedClaimName(mirror);
    variables.put(
        "configVolume", volumeName(InjectedLayout.CONFIG_VOLUME, "configMap", "name", configMap));
    if (claim != null) {
      variables.put(
          "cacheVolume",
          volumeName(InjectedLayout.CACHE_VOLUME, "persistentVolumeClaim", "claimName", claim));
    }
    List<Mount> mounts = mounts(mirror, rendered);
    for (String list : LISTS) {
      pathVariables(list, mirror, rendered, mounts, variables);
    }
    variables.put("usesConfig", uses(mounts, true));
    variables.put("usesCache", claim == null ? "false" : uses(mounts, false));
    variables.put("newVolumes", newVolumes(configMap, claim));
    List<String> skipped = new ArrayList<>();
    for (String list : LISTS) {
      skipped.add(additionVariables(list, rendered, mode, mounts, variables));
    }
    variables.put(
        "skipped", "(%s).filter(s, s != '').join(',')".formatted(String.join(" + ", skipped)));
    return variables;
  }

  /** What the pod holds and which of its containers are targets. */
  private static void podVariables(PolicyMode mode, Map<String, String> variables) {
    variables.put(
        "annotations", "has(object.metadata.annotations) ? object.metadata.annotations : {}");
    variables.put("volumes", "has(object.spec.volumes) ? object.spec.volumes : []");
    variables.put(
        "filtered",
        mode.enforce()
            ? "false"
            : "%s in variables.annotations".formatted(string(Annotations.CONTAINERS)));
    variables.put(
        "withCache", mode.enforce() ? "!(%s)".formatted(InjectionPolicies.OPTED_OUT) : "true");
    variables.put(
        "selected",
        "variables.filtered ? variables.annotations[%s].split(',').map(s, s.trim()).filter(s, s != '') : []"
            .formatted(string(Annotations.CONTAINERS)));
    for (String list : LISTS) {
      variables.put(list, "has(object.spec.%s) ? object.spec.%s : []".formatted(list, list));
    }
  }

  /**
   * A container list's paths in use (mounts, devices, the home's .pydistutils.cfg), normalised, and
   * per container the state of each mount the injection would add.
   */
  private static void pathVariables(
      String list,
      PypiMirror mirror,
      RenderedConfig rendered,
      List<Mount> mounts,
      Map<String, String> variables) {
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

  /** The config volume (and the cache's, for a mirror with one) when used and not there yet. */
  private static String newVolumes(String configMap, String claim) {
    String newVolumes =
        "(variables.usesConfig && !variables.volumes.exists(v, v.name == variables.configVolume) ? [Object.spec.volumes{name: variables.configVolume, configMap: Object.spec.volumes.configMap{name: %s}}] : [])"
            .formatted(string(configMap));
    if (claim != null) {
      newVolumes +=
          " + (variables.usesCache && !variables.volumes.exists(v, v.name == variables.cacheVolume) ? [Object.spec.volumes{name: variables.cacheVolume, persistentVolumeClaim: Object.spec.volumes.persistentVolumeClaim{claimName: %s, readOnly: true}}] : [])"
              .formatted(string(claim));
    }
    return newVolumes;
  }

  /**
   * A container list's new mounts and environment (rewritten under Enforce); returns its part of
   * {@code skipped}, the mounts left alone.
   */
  private static String additionVariables(
      String list,
      RenderedConfig rendered,
      PolicyMode mode,
      List<Mount> mounts,
      Map<String, String> variables) {
    String type = "Object.spec." + list;
    String states = "variables.%sStates[i]".formatted(list);
    variables.put(
        list + "Mounts",
        "variables.%s.transformList(i, c, size(%s) > 0 ? %s : [])"
            .formatted(list, states, newMounts(mounts, type, states, list)));
    if (mode.enforce()) {
      EnforcedEnv enforced = new EnforcedEnv(rendered, mode.allowedEnv());
      variables.put(
          list + "Env",
          "variables.%s.transformList(i, c, size(%s) > 0 ? %s : [])"
              .formatted(list, states, enforced.rewritten(type)));
      variables.put(
          list + "EnvChanged",
          "variables.%s.transformList(i, c, size(%s) > 0 && %s)"
              .formatted(list, states, enforced.changed()));
    } else {
      variables.put(
          list + "Env",
          "variables.%s.transformList(i, c, size(%s) > 0 ? %s : [])"
              .formatted(list, states, newEnv(env(rendered), states, type)));
    }
    return "variables.%s.transformList(i, c, size(%s) > 0 ? %s.join(',') : '')"
        .formatted(list, states, skippedOf(mounts, states, list));
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
  static String patch(PypiMirror mirror, RenderedConfig rendered, PolicyMode mode) {
    List<String> parts = new ArrayList<>();
    parts.add(
        "(has(object.spec.volumes) ? variables.newVolumes.map(v, JSONPatch{op: 'add', path: '/spec/volumes/-', value: v}) : (size(variables.newVolumes) == 0 ? [] : [JSONPatch{op: 'add', path: '/spec/volumes', value: variables.newVolumes}]))");
    for (String list : LISTS) {
      parts.add(
          "variables.%s.transformList(i, c, size(variables.%sMounts[i]) > 0 ? JSONPatch{op: 'add', path: '/spec/%s/' + string(i) + '/volumeMounts', value: (has(c.volumeMounts) ? c.volumeMounts : []) + variables.%sMounts[i]} : null).filter(p, p != null)"
              .formatted(list, list, list, list));
      parts.add(
          mode.enforce()
              ? "variables.%s.transformList(i, c, variables.%sEnvChanged[i] ? JSONPatch{op: 'add', path: '/spec/%s/' + string(i) + '/env', value: variables.%sEnv[i]} : null).filter(p, p != null)"
                  .formatted(list, list, list, list)
              : "variables.%s.transformList(i, c, size(variables.%sEnv[i]) > 0 ? JSONPatch{op: 'add', path: '/spec/%s/' + string(i) + '/env', value: (has(c.env) ? c.env : []) + variables.%sEnv[i]} : null).filter(p, p != null)"
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

  /**
   * CEL: what the webhook refuses in the pod under Enforce, as its message after the policy's name
   * ({@code inject.ContainerEnv.refusals}, then each config mount the container holds otherwise,
   * then its own files in the configuration directory; container by container, each message once,
   * joined by "; "), or '' when nothing. Evaluated on the pod after the mutating policy, which
   * changes nothing these rules read: it removes only variables the allow-list removes, adds
   * nothing where a path is taken, and leaves a repeated variable repeated.
   */
  static Map<String, String> refusals(PypiMirror mirror, RenderedConfig rendered, PolicyMode mode) {
    EnforcedEnv env = new EnforcedEnv(rendered, mode.allowedEnv());
    List<Mount> mounts = mounts(mirror, rendered);
    Map<String, String> variables = new LinkedHashMap<>();
    List<String> perList = new ArrayList<>();
    for (String list : LISTS) {
      // one variable per rule, each within the cost of one call
      Map<String, String> parts = new LinkedHashMap<>();
      parts.put("EnvNames", "(has(c.env) ? c.env : []).map(e, has(e.name) ? e.name : '')");
      // whether each variable is the first of its name: what the webhook says once per name
      parts.put(
          "EnvFirst",
          "%s.transformList(j, e, !%s.exists(l, x, l < j && (has(x.name) ? x.name : '') == (has(e.name) ? e.name : '')))"
              .formatted(ALL_ENV, ALL_ENV));
      parts.put(
          "EnvRefusedNames",
          "%s.transformList(j, e, has(e.name) && !(e.name in %s) && e.name != 'HOME' && %s ? e.name : '')"
              .formatted(ALL_ENV, env.writtenNames(), env.refuses("e.name")));
      parts.put("EnvRefused", envRefused(list));
      parts.put(
          "EnvCounts",
          "%s.transformList(j, e, has(e.name) && (e.name in %s || e.name == 'HOME') ? size(%s.filter(x, has(x.name) && x.name == e.name)) : 0)"
              .formatted(ALL_ENV, env.writtenNames(), ALL_ENV));
      parts.put("EnvRepeated", envRepeated(list));
      parts.put("HomeAndEnvFrom", homeAndEnvFrom());
      List<String> mountParts = new ArrayList<>();
      for (int k = 0; k < mounts.size(); k++) {
        if (mounts.get(k).config()) {
          mountParts.add("[%s]".formatted(mountRefusal(mounts, k).replace(LIST, list)));
        }
      }
      mountParts.add(
          "%s.transformList(j, m, variables.%sPaths[i][j].startsWith(%s) ? %s : '')"
              .formatted(
                  MOUNTS, list, string(InjectedLayout.CONFIG_DIR + "/"), ownMount("m.mountPath")));
      parts.put("MountRefused", String.join(" + ", mountParts));
      parts.forEach(
          (name, text) ->
              variables.put(
                  list + name, "variables.%s.transformList(i, c, %s)".formatted(list, text)));
      perList.add(
          ("variables.%s.transformList(i, c, (variables.%sEnvRefused[i] + variables.%sEnvRepeated[i]"
                  + " + variables.%sHomeAndEnvFrom[i] + variables.%sMountRefused[i]).filter(s, s"
                  + " != '').join('; '))")
              .formatted(list, list, list, list, list));
    }
    variables.put(
        "refusals", "(%s).filter(s, s != '').join('; ')".formatted(String.join(" + ", perList)));
    return variables;
  }

  private static final String MOUNTS = "(has(c.volumeMounts) ? c.volumeMounts : [])";
  private static final String NAME = "(has(c.name) ? c.name : '')";
  private static final String ALL_ENV = "(has(c.env) ? c.env : [])";

  private static String ownMount(String path) {
    return "'container ' + %s + ' mounts its own ' + (has(%s) ? %s : '') + ' where the mirror\\'s configuration goes; remove that mount'"
        .formatted(NAME, path, path);
  }

  /** CEL: the j-th variable of container i is the first of its name. */
  private static String first(String list) {
    return "variables.%sEnvFirst[i][j]".formatted(list);
  }

  /**
   * {@code ContainerEnv.refusals} in its order, first what is said of each variable: an entry
   * without a name, a variable the allow-list refuses (once per name).
   */
  private static String envRefused(String list) {
    return ("%s.transformList(j, e, !has(e.name) ? 'container ' + %s + ' has an env entry without"
            + " a name' : (variables.%sEnvRefusedNames[i][j] != '' && %s ? 'container ' + %s +"
            + " ' sets ' + e.name + ', which changes which code Python runs or where its requests"
            + " go; remove it, or ask for it in the policy\\'s allowedEnv' : ''))")
        .formatted(ALL_ENV, NAME, list, first(list), NAME);
  }

  /** Then a name the webhook reads or writes given more than once, in order of first use. */
  private static String envRepeated(String list) {
    String count = "variables.%sEnvCounts[i][j]".formatted(list);
    return ("%s.transformList(j, e, %s > 1 && %s ? 'container ' + %s + ' sets ' + e.name + ' ' +"
            + " string(%s) + ' times; set it once' : '')")
        .formatted(ALL_ENV, count, first(list), NAME, count);
  }

  /** Then HOME other than a literal absolute path, then each envFrom that may bring a name. */
  private static String homeAndEnvFrom() {
    String homes = "%s.filter(e, has(e.name) && e.name == 'HOME')".formatted(ALL_ENV);
    String last = "%s[size(%s) - 1]".formatted(homes, homes);
    String home =
        ("[size(%s) > 0 && !(!has(%s.valueFrom) && has(%s.value) && %s.value.startsWith('/') &&"
                + " !%s.value.contains('$(')) ? 'container ' + %s + ' sets HOME other than as a"
                + " literal absolute path (valueFrom, a relative path or $(...)); the mirror\\'s"
                + " .pydistutils.cfg must go to the HOME the process gets' : '']")
            .formatted(homes, last, last, last, last, NAME);
    String from =
        "(has(s.secretRef) ? 'Secret ' + (has(s.secretRef.name) ? s.secretRef.name : '') :"
            + " 'ConfigMap ' + (has(s.configMapRef) && has(s.configMapRef.name) ?"
            + " s.configMapRef.name : ''))";
    String envFrom =
        ("(has(c.envFrom) ? c.envFrom : []).map(s, %s ? '' : 'container ' + %s + ' takes its"
                + " environment from ' + %s + ' (envFrom), which may set variables the policy"
                + " removes or refuses, unseen by the webhook; give envFrom a prefix that begins"
                + " no such name (e.g. APP_) or list the variables under env')")
            .formatted(EnforcedEnv.safePrefix("(has(s.prefix) ? s.prefix : '')"), NAME, from);
    return home + " + " + envFrom;
  }

  /**
   * The refusal of config mount {@code k} in container {@code c} (index {@code i}), or '': the
   * container's first mount at its path when that is not the mirror's, else a block device there.
   */
  private static String mountRefusal(List<Mount> mounts, int k) {
    Mount mount = mounts.get(k);
    String planned =
        mounts.subList(0, k).stream()
            .map(m -> "%s == %s".formatted(mount.normalisedPath(), m.normalisedPath()))
            .reduce((a, b) -> a + " || " + b)
            .orElse("false");
    String at =
        "%s.transformList(j, m, variables.%sPaths[i][j] == %s ? (%s ? '=' : %s) : '').filter(s, s != '')"
            .formatted(MOUNTS, LIST, mount.normalisedPath(), same(mount), ownMount("m.mountPath"));
    String device =
        ("(has(c.volumeDevices) ? c.volumeDevices : []).transformList(j, d,"
                + " variables.%sDevices[i][j] == %s ? 'container ' + %s + ' has a block device"
                + " (volumeDevices) at ' + (has(d.devicePath) ? d.devicePath : '') + ' where the"
                + " mirror\\'s configuration goes; move that device' : '').filter(s, s != '')")
            .formatted(LIST, mount.normalisedPath(), NAME);
    return "(%s) ? '' : (size(%s) > 0 ? (%s[0] == '=' ? '' : %s[0]) : (size(%s) > 0 ? %s[0] : ''))"
        .formatted(planned, at, at, at, device, device);
  }

  private static String same(Mount mount) {
    return "m.name == %s && (has(m.subPath) ? m.subPath : '') == %s && has(m.readOnly) && m.readOnly == true && !has(m.subPathExpr)"
        .formatted(mount.volume(), string(mount.subPath() == null ? "" : mount.subPath()));
  }

  /**
   * CEL: every container of the pod holds the mirror under Enforce (its configuration directory and
   * its environment), so a pod the mutating policy did not inject is refused, not admitted bare.
   */
  static String holds(PypiMirror mirror, RenderedConfig rendered, PolicyMode mode) {
    EnforcedEnv env = new EnforcedEnv(rendered, mode.allowedEnv());
    Mount dir = mounts(mirror, rendered).get(0);
    return LISTS.stream()
        .map(
            list ->
                "variables.%s.transformList(i, c, %s.transformList(j, m, variables.%sPaths[i][j] == %s && %s).exists(b, b) && %s).all(b, b)"
                    .formatted(list, MOUNTS, list, dir.normalisedPath(), same(dir), env.holds()))
        .collect(java.util.stream.Collectors.joining(" && "));
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
    String state = stateOf(mounts, k);
    // an opted-out pod under Enforce gets the configuration only: the cache is not its to mount
    return mount.config() ? state : "!variables.withCache ? 'none' : (%s)".formatted(state);
  }

  private static String stateOf(List<Mount> mounts, int k) {
    Mount mount = mounts.get(k);
    String same = same(mount);
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
        any.add("s[%d] in ['add', 'same']".formatted(k));
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
            string(pointer + JsonPatches.escape(Annotations.INJECTED)),
            injected,
            skipped,
            skippedKey,
            skippedKey,
            skipped,
            string(pointer + JsonPatches.escape(Annotations.SKIPPED)),
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
            string("/metadata/annotations/" + JsonPatches.escape(Annotations.SKIPPED)),
            value,
            key,
            value);
  }
}
