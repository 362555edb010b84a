package dev.pypimirror.operator.inject;

import static dev.pypimirror.operator.inject.InjectedLayout.CACHE_VOLUME;
import static dev.pypimirror.operator.inject.InjectedLayout.CONFIG_VOLUME;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.Annotations;
import dev.pypimirror.operator.api.InjectionSpec;
import dev.pypimirror.operator.api.MountedConfig;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.RenderedConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the webhook adds to a pod for a mirror: a pure function from the pod's raw JSON to JSON
 * Patch operations. Only what it adds is touched, so fields unknown to any Java model pass through.
 */
public final class PodPatchPlanner {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private PodPatchPlanner() {}

  /** A mount the webhook adds to every target container. */
  private record Mount(String volume, String path, String subPath) {}

  /** A target container: its JSON pointer and node. */
  private record Target(String pointer, JsonNode node) {
    String name() {
      return node.path("name").asText();
    }
  }

  /** Why a pod cannot be admitted under Enforce, with the message the user sees. */
  private record Refusal(Reason reason, String message) {}

  /**
   * The operations that add whatever of the mirror's mounts, volumes and variables the pod does not
   * hold yet: a pod that holds them all (with the current values) gets none, so the webhook can be
   * reinvoked. That comes from the pod's content, never from a marker on it.
   *
   * @param pod the pod (or pod template: metadata and spec) exactly as received
   */
  public static InjectionPlan plan(
      JsonNode pod, PypiMirror mirror, RenderedConfig rendered, PolicyMode mode) {
    return plan(pod, mirror, rendered, mode, true);
  }

  /**
   * As {@link #plan(JsonNode, PypiMirror, RenderedConfig, PolicyMode)}; without {@code withCache}
   * the configuration only, never the cache volume (a pod that opted out and gets the mirror
   * because a policy enforces it: the cache sync's download container must not see the cache).
   */
  public static InjectionPlan plan(
      JsonNode pod,
      PypiMirror mirror,
      RenderedConfig rendered,
      PolicyMode mode,
      boolean withCache) {
    Map<String, String> annotations = stringMap(pod.path("metadata").path("annotations"));
    String mirrorName = mirror.getMetadata().getName();
    List<String> warnings = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    List<Refusal> refusals = new ArrayList<>();
    JsonNode spec = pod.path("spec");

    List<Target> targets = targets(spec, annotations, mode, warnings);
    if (targets.isEmpty()) {
      // nothing to mount into: no volume, no injected marker (it would claim a mirror the pod
      // lacks)
      return new InjectionPlan(
          InjectionPlan.Outcome.UNTOUCHED,
          Reason.NO_TARGET_CONTAINER,
          "no container to inject",
          List.of(),
          warnings);
    }

    String configMap = MirrorObjects.configMapName(mirrorName);
    String claim = withCache ? MirrorObjects.mountedClaimName(mirror) : null;
    String configVolume = volumeName(spec, CONFIG_VOLUME, "configMap", "name", configMap, warnings);
    String cacheVolume =
        claim == null
            ? null
            : volumeName(spec, CACHE_VOLUME, "persistentVolumeClaim", "claimName", claim, warnings);

    List<ObjectNode> containerOps = new ArrayList<>();
    SharedValues values = new SharedValues();
    boolean usesConfig = false;
    boolean usesCache = false;
    Set<String> written = writtenVariables(rendered);
    for (Target target : targets) {
      if (mode.enforce()) {
        ContainerEnv.refusals(target.node(), target.name(), written, mode)
            .forEach(r -> refusals.add(new Refusal(r.reason(), r.message())));
      }
      List<Mount> mounts = new ArrayList<>();
      mounts.add(new Mount(configVolume, InjectedLayout.CONFIG_DIR, null));
      mounts.add(new Mount(configVolume, InjectedLayout.PIP_CONF, RenderedConfig.PIP_CONF));
      mounts.add(new Mount(configVolume, InjectedLayout.UV_TOML, RenderedConfig.UV_TOML));
      if (rendered.data().containsKey(RenderedConfig.PYDISTUTILS_CFG)) {
        String home = home(target.node(), annotations, mirror);
        mounts.add(
            new Mount(
                configVolume, MountedConfig.pydistutilsPath(home), RenderedConfig.PYDISTUTILS_CFG));
      }
      if (cacheVolume != null) {
        mounts.add(new Mount(cacheVolume, mirror.getSpec().getCache().getMountPath(), null));
      }

      ArrayNode newMounts = JSON.arrayNode();
      boolean configDirMounted = false;
      // a path may hold one mount and no device: the API server refuses the pod otherwise
      Set<String> planned = new HashSet<>();
      Map<String, JsonNode> devices = devicesByPath(target.node());
      for (Mount mount : mounts) {
        boolean config = mount.volume().equals(configVolume);
        String path = normalisedPath(mount.path());
        if (!planned.add(path)) {
          skipped.add(target.name() + ":" + mount.path());
          warnings.add(
              "the mirror's cache and its configuration would both be mounted at %s in container %s; the cache is left out"
                  .formatted(mount.path(), target.name()));
          continue;
        }
        JsonNode existing = mountAt(target.node(), mount.path());
        JsonNode device = existing == null ? devices.get(path) : null;
        if (device != null || (existing != null && !isSame(existing, mount))) {
          if (mode.enforce() && config) {
            refusals.add(
                device != null
                    ? ownConfigDevice(target, device)
                    : ownConfigMount(target, existing, mode));
            continue;
          }
          skipped.add(target.name() + ":" + mount.path());
          warnings.add(
              "container %s %s %s; left alone, so the mirror's %s is not there"
                  .formatted(
                      target.name(),
                      device != null ? "has a block device (volumeDevices) at" : "already mounts",
                      mount.path(),
                      mount.subPath() == null ? "directory" : mount.subPath()));
          continue;
        }
        if (existing == null) {
          newMounts.add(values.mount(mount));
        }
        usesConfig |= config;
        usesCache |= mount.volume().equals(cacheVolume);
        configDirMounted |= mount.path().equals(InjectedLayout.CONFIG_DIR);
      }
      if (mode.enforce()) {
        refusals.addAll(ownFilesInConfigDir(target, mode));
      }
      appendAll(
          containerOps,
          target.pointer() + "/volumeMounts",
          target.node().path("volumeMounts"),
          newMounts);

      planEnv(
          containerOps,
          target,
          mirrorEnv(rendered, configDirMounted, mode.enforce()),
          values,
          mode,
          warnings);
    }
    if (!refusals.isEmpty()) {
      return denied(refusals, mode, warnings);
    }

    List<ObjectNode> operations = new ArrayList<>();
    ArrayNode newVolumes = JSON.arrayNode();
    if (usesConfig && !hasVolume(spec, configVolume)) {
      ObjectNode volume = newVolumes.addObject().put("name", configVolume);
      volume.putObject("configMap").put("name", configMap);
    }
    if (usesCache && !hasVolume(spec, cacheVolume)) {
      ObjectNode volume = newVolumes.addObject().put("name", cacheVolume);
      volume.putObject("persistentVolumeClaim").put("claimName", claim).put("readOnly", true);
    }
    appendAll(operations, "/spec/volumes", spec.path("volumes"), newVolumes);
    operations.addAll(containerOps);

    Map<String, String> newAnnotations = new LinkedHashMap<>();
    newAnnotations.put(Annotations.INJECTED, mirrorName + "@" + rendered.hashPrefix());
    if (!skipped.isEmpty()) {
      newAnnotations.put(Annotations.SKIPPED, String.join(",", skipped));
    }
    boolean holdsEverything = operations.isEmpty();
    operations.addAll(annotate(pod, newAnnotations));
    return holdsEverything
        ? new InjectionPlan(
            InjectionPlan.Outcome.ALREADY_INJECTED,
            Reason.ALREADY_INJECTED,
            mirrorName,
            operations,
            warnings)
        : new InjectionPlan(
            InjectionPlan.Outcome.INJECTED, Reason.INJECTED, mirrorName, operations, warnings);
  }

  /**
   * What an update of the ephemeralcontainers subresource (kubectl debug) adds to the containers it
   * brings, under Enforce: the allow-list as for any container, the pod's existing mirror volumes
   * mounted without subPath (the API refuses subPath mounts and new volumes for ephemeral
   * containers: the configuration directory and the cache, not the single files), and the mirror's
   * variables with the pins. A pod without the mirror's configuration volume is refused.
   *
   * @param added the names of the ephemeral containers this update adds (the others cannot change)
   */
  public static InjectionPlan planEphemeral(
      JsonNode pod,
      Set<String> added,
      PypiMirror mirror,
      RenderedConfig rendered,
      PolicyMode mode,
      boolean withCache) {
    String mirrorName = mirror.getMetadata().getName();
    JsonNode spec = pod.path("spec");
    List<Target> targets = new ArrayList<>();
    JsonNode list = spec.path("ephemeralContainers");
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).isObject() && added.contains(list.get(i).path("name").asText())) {
        targets.add(new Target("/spec/ephemeralContainers/" + i, list.get(i)));
      }
    }
    List<String> warnings = new ArrayList<>();
    if (targets.isEmpty()) {
      return new InjectionPlan(
          InjectionPlan.Outcome.UNTOUCHED,
          Reason.NO_TARGET_CONTAINER,
          "no ephemeral container added",
          List.of(),
          warnings);
    }
    String configVolume =
        volumeOf(spec, "configMap", "name", MirrorObjects.configMapName(mirrorName));
    String claim = withCache ? MirrorObjects.mountedClaimName(mirror) : null;
    String cacheVolume =
        claim == null ? null : volumeOf(spec, "persistentVolumeClaim", "claimName", claim);
    List<Refusal> refusals = new ArrayList<>();
    if (configVolume == null) {
      refusals.add(
          new Refusal(
              Reason.MIRROR_NOT_FOUND,
              ("the pod has no volume of PypiMirror %s's configuration (it was created without"
                      + " the mirror), and an ephemeral container cannot add one")
                  .formatted(mirrorName)));
    }
    Set<String> written = writtenVariables(rendered);
    List<ObjectNode> operations = new ArrayList<>();
    SharedValues values = new SharedValues();
    for (Target target : targets) {
      ContainerEnv.refusals(target.node(), target.name(), written, mode)
          .forEach(r -> refusals.add(new Refusal(r.reason(), r.message())));
      if (configVolume == null) {
        continue;
      }
      List<Mount> mounts = new ArrayList<>();
      mounts.add(new Mount(configVolume, InjectedLayout.CONFIG_DIR, null));
      if (cacheVolume != null) {
        mounts.add(new Mount(cacheVolume, mirror.getSpec().getCache().getMountPath(), null));
      }
      ArrayNode newMounts = JSON.arrayNode();
      for (Mount mount : mounts) {
        JsonNode existing = mountAt(target.node(), mount.path());
        if (existing == null) {
          newMounts.add(values.mount(mount));
        } else if (!isSame(existing, mount) && mount.volume().equals(configVolume)) {
          refusals.add(ownConfigMount(target, existing, mode));
        }
      }
      refusals.addAll(ownFilesInConfigDir(target, mode));
      appendAll(
          operations,
          target.pointer() + "/volumeMounts",
          target.node().path("volumeMounts"),
          newMounts);
      planEnv(operations, target, mirrorEnv(rendered, true, true), values, mode, warnings);
    }
    if (!refusals.isEmpty()) {
      return denied(refusals, mode, warnings);
    }
    return new InjectionPlan(
        operations.isEmpty()
            ? InjectionPlan.Outcome.ALREADY_INJECTED
            : InjectionPlan.Outcome.INJECTED,
        operations.isEmpty() ? Reason.ALREADY_INJECTED : Reason.INJECTED,
        mirrorName,
        operations,
        warnings);
  }

  /** The name of the pod's volume whose source field refers to {@code ref}, or null. */
  private static String volumeOf(JsonNode spec, String sourceField, String refField, String ref) {
    for (JsonNode v : spec.path("volumes")) {
      if (ref.equals(v.path(sourceField).path(refField).asText(null))) {
        return v.path("name").asText();
      }
    }
    return null;
  }

  /** The container's mount at {@code path}, compared as the kubelet does (normalised); or null. */
  private static JsonNode mountAt(JsonNode container, String path) {
    String wanted = normalisedPath(path);
    for (JsonNode m : container.path("volumeMounts")) {
      if (normalisedPath(m.path("mountPath").asText()).equals(wanted)) {
        return m;
      }
    }
    return null;
  }

  /** Whether an existing mount is exactly the one the webhook adds (same volume and file). */
  private static boolean isSame(JsonNode existing, Mount mount) {
    return mount.volume().equals(existing.path("name").asText())
        && (mount.subPath() == null ? "" : mount.subPath())
            .equals(existing.path("subPath").asText(""))
        && existing.path("readOnly").asBoolean(false)
        && !existing.has("subPathExpr");
  }

  static String normalisedPath(String path) {
    try {
      String normal = java.nio.file.Path.of("/", path).normalize().toString();
      return normal.length() > 1 && normal.endsWith("/")
          ? normal.substring(0, normal.length() - 1)
          : normal;
    } catch (java.nio.file.InvalidPathException e) {
      return path;
    }
  }

  private static Refusal ownConfigMount(Target target, JsonNode mount, PolicyMode mode) {
    return new Refusal(
        Reason.OWN_CONFIG_MOUNT,
        "container %s mounts its own %s where the mirror's configuration goes; remove that mount"
            .formatted(target.name(), mount.path("mountPath").asText()));
  }

  private static Refusal ownConfigDevice(Target target, JsonNode device) {
    return new Refusal(
        Reason.OWN_CONFIG_MOUNT,
        "container %s has a block device (volumeDevices) at %s where the mirror's configuration goes; move that device"
            .formatted(target.name(), device.path("devicePath").asText()));
  }

  /** The container's volumeDevices by their normalised path. */
  private static Map<String, JsonNode> devicesByPath(JsonNode container) {
    Map<String, JsonNode> devices = new HashMap<>();
    for (JsonNode device : container.path("volumeDevices")) {
      devices.putIfAbsent(normalisedPath(device.path("devicePath").asText()), device);
    }
    return devices;
  }

  /** A file of the container's own inside the mirror's directory would shadow the mirror's. */
  private static List<Refusal> ownFilesInConfigDir(Target target, PolicyMode mode) {
    List<Refusal> refusals = new ArrayList<>();
    for (JsonNode m : target.node().path("volumeMounts")) {
      if (normalisedPath(m.path("mountPath").asText())
          .startsWith(InjectedLayout.CONFIG_DIR + "/")) {
        refusals.add(ownConfigMount(target, m, mode));
      }
    }
    return refusals;
  }

  /** Every variable the webhook may write into a container: the mirror's and the pins. */
  private static Set<String> writtenVariables(RenderedConfig rendered) {
    return mirrorEnv(rendered, true, true).keySet();
  }

  /**
   * The mirror's variables for a container: PIP_CONFIG_FILE when the config directory is mounted,
   * the rendered keys, and under Enforce the pins.
   */
  private static Map<String, String> mirrorEnv(
      RenderedConfig rendered, boolean configDirMounted, boolean enforce) {
    Map<String, String> env = new LinkedHashMap<>();
    if (configDirMounted) {
      env.put(InjectedLayout.PIP_CONFIG_FILE_ENV, InjectedLayout.PIP_CONFIG_FILE);
    }
    RenderedConfig.ENV_KEYS.stream()
        .filter(rendered.data()::containsKey)
        .forEach(key -> env.put(key, rendered.data().get(key)));
    if (enforce) {
      IndexSettings.enforcedPins(env).forEach(env::putIfAbsent);
    }
    return env;
  }

  private static InjectionPlan denied(
      List<Refusal> refusals, PolicyMode mode, List<String> warnings) {
    return InjectionPlan.denied(
        refusals.get(0).reason(),
        "PypiMirrorPolicy %s enforces a PyPI mirror here: %s"
            .formatted(
                mode.policy(),
                String.join("; ", refusals.stream().map(Refusal::message).distinct().toList())),
        warnings);
  }

  /**
   * The operations that set pod annotations not already set to these values, creating metadata and
   * annotations when absent.
   */
  public static List<ObjectNode> annotate(JsonNode pod, Map<String, String> wanted) {
    List<ObjectNode> operations = new ArrayList<>();
    JsonNode metadata = pod.path("metadata");
    Map<String, String> annotations = new LinkedHashMap<>();
    wanted.forEach(
        (key, value) -> {
          JsonNode present = metadata.path("annotations").path(key);
          if (!(present.isTextual() && present.asText().equals(value))) {
            annotations.put(key, value);
          }
        });
    if (annotations.isEmpty()) {
      return operations;
    }
    if (!metadata.isObject()) {
      ObjectNode value = JSON.objectNode();
      ObjectNode values = value.putObject("annotations");
      annotations.forEach(values::put);
      operations.add(add("/metadata", value));
    } else if (!metadata.path("annotations").isObject()) {
      ObjectNode values = JSON.objectNode();
      annotations.forEach(values::put);
      operations.add(add("/metadata/annotations", values));
    } else {
      annotations.forEach(
          (key, value) ->
              operations.add(
                  op(
                      metadata.path("annotations").has(key) ? "replace" : "add",
                      "/metadata/annotations/" + escape(key),
                      JSON.textNode(value))));
    }
    return operations;
  }

  /**
   * The container's own index settings, in every spelling pip and uv read: kept with a warning, or
   * under enforcement the mirror's replace them and the rest are removed. A variable already set to
   * the mirror's value is left as it is. Replacements go first (indexes unchanged), then removals
   * from the highest index down, then appends.
   */
  private static void planEnv(
      List<ObjectNode> ops,
      Target target,
      Map<String, String> env,
      SharedValues values,
      PolicyMode mode,
      List<String> warnings) {
    JsonNode existing = target.node().path("env");
    if (!existing.isArray()) {
      existing = com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
    Set<String> handled = new HashSet<>();
    List<Integer> removals = new ArrayList<>();
    for (int i = 0; i < existing.size(); i++) {
      JsonNode variable = existing.get(i);
      String name = variable.path("name").asText();
      boolean ours = env.containsKey(name);
      boolean affectsIndex = IndexSettings.affectsIndex(name);
      if (ours && handled.add(name)) {
        if (isLiteral(variable, env.get(name))) {
          continue;
        }
        if (mode.enforce()) {
          ops.add(op("replace", target.pointer() + "/env/" + i, values.env(name, env.get(name))));
          warnings.add(
              "container %s sets %s itself; replaced by the mirror's value (PypiMirrorPolicy %s enforces it)"
                  .formatted(target.name(), name, mode.policy()));
        } else {
          warnings.add(
              "container %s sets %s itself; kept, so it overrides the mirror for this container%s"
                  .formatted(target.name(), name, wouldUnderEnforce(mode, "replace")));
        }
      } else if (mode.enforce() && (ours || mode.verdict(name) == EnvAllowList.Verdict.REMOVE)) {
        removals.add(i);
        warnings.add(
            "container %s sets %s itself; removed (PypiMirrorPolicy %s enforces the mirror)"
                .formatted(target.name(), name, mode.policy()));
      } else if (affectsIndex && !ours && mode.advisory()) {
        warnings.add(
            "container %s sets %s itself; kept%s"
                .formatted(target.name(), name, wouldUnderEnforce(mode, "remove")));
      }
    }
    removals.stream()
        .sorted(java.util.Comparator.reverseOrder())
        .forEach(
            i ->
                ops.add(
                    JSON.objectNode()
                        .put("op", "remove")
                        .put("path", target.pointer() + "/env/" + i)));
    ArrayNode additions = JSON.arrayNode();
    env.forEach(
        (name, value) -> {
          if (!handled.contains(name)) {
            additions.add(values.env(name, value));
          }
        });
    appendAll(ops, target.pointer() + "/env", existing, additions);
  }

  /** Whether an env entry sets exactly this literal value (no valueFrom). */
  private static boolean isLiteral(JsonNode variable, String value) {
    return !variable.has("valueFrom")
            && variable.path("value").isTextual()
            && variable.path("value").asText().equals(value)
        || value.isEmpty()
            && !variable.has("valueFrom")
            && (variable.path("value").isMissingNode() || variable.path("value").isNull());
  }

  private static String wouldUnderEnforce(PolicyMode mode, String verb) {
    return mode.advisory()
        ? " (PypiMirrorPolicy %s is Advisory; under Enforce it would %s it)"
            .formatted(mode.policy(), verb)
        : "";
  }

  /**
   * One node per distinct mount or variable, shared by every container it is added to: less to
   * build, and the webhook serializes a shared node once. Nothing changes a node once planned.
   */
  private static final class SharedValues {
    private final Map<Mount, ObjectNode> mounts = new HashMap<>();
    private final Map<Map.Entry<String, String>, ObjectNode> variables = new HashMap<>();

    ObjectNode mount(Mount mount) {
      return mounts.computeIfAbsent(
          mount,
          m -> {
            ObjectNode node =
                JSON.objectNode()
                    .put("name", m.volume())
                    .put("mountPath", m.path())
                    .put("readOnly", true);
            return m.subPath() == null ? node : node.put("subPath", m.subPath());
          });
    }

    ObjectNode env(String name, String value) {
      return variables.computeIfAbsent(
          Map.entry(name, value), e -> JSON.objectNode().put("name", name).put("value", value));
    }
  }

  /** Init containers then containers, filtered by pypimirror.dev/containers; never ephemeral. */
  private static List<Target> targets(
      JsonNode spec, Map<String, String> annotations, PolicyMode mode, List<String> warnings) {
    String selected = annotations.get(Annotations.CONTAINERS);
    if (selected != null && mode.enforce()) {
      warnings.add(
          "pypimirror.dev/containers is ignored: PypiMirrorPolicy %s enforces the mirror in every container"
              .formatted(mode.policy()));
      selected = null;
    }
    Set<String> names =
        selected == null
            ? null
            : new LinkedHashSet<>(
                Arrays.stream(selected.split(","))
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .toList());
    List<Target> targets = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (String field : List.of("initContainers", "containers")) {
      JsonNode list = spec.path(field);
      for (int i = 0; list.isArray() && i < list.size(); i++) {
        if (!list.get(i).isObject()) {
          continue; // not a container (the API server never sends one): nothing to add to
        }
        String name = list.get(i).path("name").asText();
        seen.add(name);
        if (names == null || names.contains(name)) {
          targets.add(new Target("/spec/" + field + "/" + i, list.get(i)));
        }
      }
    }
    if (names != null) {
      names.stream()
          .filter(n -> !seen.contains(n))
          .forEach(
              n ->
                  warnings.add(
                      "pypimirror.dev/containers names %s, which is not a container of this pod"
                          .formatted(n)));
    }
    return targets;
  }

  /**
   * HOME: the container's literal HOME as the kubelet gives it (the last entry of the name), else
   * the pod's pypimirror.dev/home, else the mirror's.
   */
  private static String home(
      JsonNode container, Map<String, String> annotations, PypiMirror mirror) {
    String literal = ContainerEnv.literalHome(container);
    if (literal != null) {
      return literal;
    }
    String annotated = annotations.get(Annotations.HOME);
    if (annotated != null && annotated.startsWith("/")) {
      return annotated;
    }
    InjectionSpec injection = mirror.getSpec().getInjection();
    return injection == null ? InjectionSpec.DEFAULT_HOME_DIR : injection.getHomeDir();
  }

  /**
   * Our volume's name: {@code base} when free or already the same source; else the first free
   * {@code base-N}, so a foreign volume that happens to carry the name is never clobbered.
   */
  private static String volumeName(
      JsonNode spec,
      String base,
      String sourceField,
      String refField,
      String ref,
      List<String> warnings) {
    for (int n = 1; ; n++) {
      String candidate = n == 1 ? base : base + "-" + n;
      JsonNode existing = volume(spec, candidate);
      if (existing == null || ref.equals(existing.path(sourceField).path(refField).asText(null))) {
        if (n > 1) {
          warnings.add(
              "the pod already has a different volume named %s; the mirror's volume is named %s"
                  .formatted(base, candidate));
        }
        return candidate;
      }
    }
  }

  private static boolean hasVolume(JsonNode spec, String name) {
    return volume(spec, name) != null;
  }

  private static JsonNode volume(JsonNode spec, String name) {
    for (JsonNode v : spec.path("volumes")) {
      if (name.equals(v.path("name").asText())) {
        return v;
      }
    }
    return null;
  }

  /** Appends items to the array at pointer: one add of the whole array when it does not exist. */
  private static void appendAll(
      List<ObjectNode> ops, String pointer, JsonNode existing, ArrayNode items) {
    if (items.isEmpty()) {
      return;
    }
    if (!existing.isArray()) {
      ops.add(add(pointer, items));
      return;
    }
    items.forEach(item -> ops.add(add(pointer + "/-", item)));
  }

  private static ObjectNode add(String path, JsonNode value) {
    return op("add", path, value);
  }

  private static ObjectNode op(String op, String path, JsonNode value) {
    ObjectNode node = JSON.objectNode().put("op", op).put("path", path);
    node.set("value", value);
    return node;
  }

  static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }

  static Map<String, String> stringMap(JsonNode node) {
    Map<String, String> map = new LinkedHashMap<>();
    node.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
    return map;
  }
}
