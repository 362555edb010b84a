package dev.pypimirror.operator.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.ContainerEnv.Refusal;
import dev.pypimirror.operator.jsonpatch.JsonPatches;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the webhook adds to one container: the mirror's mounts, then its variables; and what Enforce
 * refuses there. The steps of {@link PodPatchPlanner}. Pure.
 */
final class ContainerPatch {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private ContainerPatch() {}

  /** A target container: its JSON pointer and node. */
  record Target(String pointer, JsonNode node) {
    String name() {
      return node.path("name").asText();
    }
  }

  /** A mount the webhook adds to a target container. */
  record Mount(String volume, String path, String subPath) {}

  /**
   * The mirror's volumes in the pod.
   *
   * @param config the configuration volume's name (null: the pod has none, ephemeral only)
   * @param cache the cache volume's name, or null when the cache is not mounted
   */
  record Volumes(String config, String configMap, String cache, String claim) {}

  /**
   * What every container's patch is planned from.
   *
   * @param written the variables the webhook may write (the mirror's and the pins)
   * @param values the nodes shared by every container a mount or variable is added to
   */
  record Inputs(
      PypiMirror mirror,
      RenderedConfig rendered,
      PolicyMode mode,
      Volumes volumes,
      Set<String> written,
      SharedValues values) {}

  /**
   * One container's part of the patch.
   *
   * @param skipped the mirror's mounts left out ({@code container:path})
   * @param usedVolumes the mirror's volumes the container mounts, added or already there
   */
  record Planned(
      List<ObjectNode> operations,
      List<Refusal> refusals,
      List<String> skipped,
      List<String> warnings,
      Set<String> usedVolumes) {}

  /** The outcome of matching the mirror's mounts with the container's own. */
  private record Mounts(
      ArrayNode added,
      List<Refusal> refusals,
      List<String> skipped,
      List<String> warnings,
      Set<String> used,
      boolean configDirMounted) {}

  /**
   * A container of the pod's creation: its environment checked under Enforce, the mirror's mounts
   * where the container has nothing of its own, then the mirror's variables.
   *
   * @param home where {@code .pydistutils.cfg} goes for this container
   */
  static Planned plan(Target target, String home, Inputs in) {
    List<Refusal> refusals = new ArrayList<>();
    if (in.mode().enforce()) {
      refusals.addAll(ContainerEnv.refusals(target.node(), target.name(), in.written(), in.mode()));
    }
    Mounts mounts = matchMounts(target, wantedMounts(home, in), in);
    refusals.addAll(mounts.refusals());
    if (in.mode().enforce()) {
      refusals.addAll(ownFilesInConfigDir(target));
    }
    List<String> warnings = new ArrayList<>(mounts.warnings());
    List<ObjectNode> operations = appendMounts(target, mounts.added());
    Map<String, String> env = MirrorEnv.of(in.rendered(), mounts.configDirMounted(), in.mode());
    operations.addAll(envOperations(target, env, in, warnings));
    return new Planned(operations, refusals, mounts.skipped(), warnings, mounts.used());
  }

  /**
   * A container an ephemeralcontainers update adds: the pod's mirror volumes mounted without
   * subPath (the configuration directory and the cache), and the mirror's variables with the pins.
   * Its environment is checked by the caller, whether or not the pod has the mirror's volume.
   */
  static Planned planEphemeral(Target target, Inputs in) {
    Volumes volumes = in.volumes();
    List<Mount> wanted = new ArrayList<>();
    wanted.add(new Mount(volumes.config(), InjectedLayout.CONFIG_DIR, null));
    if (volumes.cache() != null) {
      wanted.add(new Mount(volumes.cache(), in.mirror().getSpec().getCache().getMountPath(), null));
    }
    ArrayNode added = JSON.arrayNode();
    List<Refusal> refusals = new ArrayList<>();
    for (Mount mount : wanted) {
      JsonNode existing = mountAt(target.node(), mount.path());
      if (existing == null) {
        added.add(in.values().mount(mount));
      } else if (!isSame(existing, mount) && mount.volume().equals(volumes.config())) {
        refusals.add(ownConfigMount(target, existing));
      }
    }
    refusals.addAll(ownFilesInConfigDir(target));
    List<String> warnings = new ArrayList<>();
    List<ObjectNode> operations = appendMounts(target, added);
    operations.addAll(envOperations(target, MirrorEnv.written(in.rendered()), in, warnings));
    return new Planned(operations, refusals, List.of(), warnings, Set.of());
  }

  /** The configuration directory, its files, .pydistutils.cfg in HOME when rendered, the cache. */
  private static List<Mount> wantedMounts(String home, Inputs in) {
    String config = in.volumes().config();
    List<Mount> mounts = new ArrayList<>();
    mounts.add(new Mount(config, InjectedLayout.CONFIG_DIR, null));
    mounts.add(new Mount(config, InjectedLayout.PIP_CONF, RenderedConfig.PIP_CONF));
    mounts.add(new Mount(config, InjectedLayout.UV_TOML, RenderedConfig.UV_TOML));
    if (in.rendered().data().containsKey(RenderedConfig.PYDISTUTILS_CFG)) {
      mounts.add(
          new Mount(
              config,
              dev.pypimirror.operator.api.MountedConfig.pydistutilsPath(home),
              RenderedConfig.PYDISTUTILS_CFG));
    }
    if (in.volumes().cache() != null) {
      mounts.add(
          new Mount(in.volumes().cache(), in.mirror().getSpec().getCache().getMountPath(), null));
    }
    return mounts;
  }

  /**
   * Each wanted mount: added when the path is free, kept when the container already has exactly it,
   * else left out with a warning (refused under Enforce for the configuration). A path holds one
   * mount and no device: the API server refuses the pod otherwise.
   */
  private static Mounts matchMounts(Target target, List<Mount> wanted, Inputs in) {
    ArrayNode added = JSON.arrayNode();
    List<Refusal> refusals = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    Set<String> used = new LinkedHashSet<>();
    boolean configDirMounted = false;
    Set<String> planned = new HashSet<>();
    Map<String, JsonNode> devices = devicesByPath(target.node());
    for (Mount mount : wanted) {
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
        if (in.mode().enforce() && mount.volume().equals(in.volumes().config())) {
          refusals.add(
              device != null ? ownConfigDevice(target, device) : ownConfigMount(target, existing));
        } else {
          skipped.add(target.name() + ":" + mount.path());
          warnings.add(leftAlone(target, mount, device));
        }
        continue;
      }
      if (existing == null) {
        added.add(in.values().mount(mount));
      }
      used.add(mount.volume());
      configDirMounted |= mount.path().equals(InjectedLayout.CONFIG_DIR);
    }
    return new Mounts(added, refusals, skipped, warnings, used, configDirMounted);
  }

  private static String leftAlone(Target target, Mount mount, JsonNode device) {
    return "container %s %s %s; left alone, so the mirror's %s is not there"
        .formatted(
            target.name(),
            device != null ? "has a block device (volumeDevices) at" : "already mounts",
            mount.path(),
            mount.subPath() == null ? "directory" : mount.subPath());
  }

  private static List<ObjectNode> appendMounts(Target target, ArrayNode added) {
    return new ArrayList<>(
        JsonPatches.append(
            target.pointer() + "/volumeMounts", target.node().path("volumeMounts"), added));
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

  private static Refusal ownConfigMount(Target target, JsonNode mount) {
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
  private static List<Refusal> ownFilesInConfigDir(Target target) {
    List<Refusal> refusals = new ArrayList<>();
    for (JsonNode m : target.node().path("volumeMounts")) {
      if (normalisedPath(m.path("mountPath").asText())
          .startsWith(InjectedLayout.CONFIG_DIR + "/")) {
        refusals.add(ownConfigMount(target, m));
      }
    }
    return refusals;
  }

  /**
   * What becomes of the container's own variables: the first entry of each of the mirror's names
   * (kept when it holds the mirror's value), and the indexes of entries to remove.
   */
  private record OwnEnv(
      List<ObjectNode> replacements, List<Integer> removals, Set<String> handled) {}

  /**
   * The container's own index settings, in every spelling pip and uv read: kept with a warning, or
   * under enforcement the mirror's replace them and the rest are removed. A variable already set to
   * the mirror's value is left as it is. Replacements go first (indexes unchanged), then removals
   * from the highest index down, then appends.
   */
  private static List<ObjectNode> envOperations(
      Target target, Map<String, String> env, Inputs in, List<String> warnings) {
    JsonNode existing = target.node().path("env");
    if (!existing.isArray()) {
      existing = MissingNode.getInstance();
    }
    OwnEnv own = ownEnv(target, existing, env, in, warnings);
    List<ObjectNode> operations = new ArrayList<>(own.replacements());
    own.removals().stream()
        .sorted(Comparator.reverseOrder())
        .forEach(i -> operations.add(JsonPatches.remove(target.pointer() + "/env/" + i)));
    ArrayNode additions = JSON.arrayNode();
    env.forEach(
        (name, value) -> {
          if (!own.handled().contains(name)) {
            additions.add(in.values().env(name, value));
          }
        });
    operations.addAll(JsonPatches.append(target.pointer() + "/env", existing, additions));
    return operations;
  }

  private static OwnEnv ownEnv(
      Target target, JsonNode existing, Map<String, String> env, Inputs in, List<String> warnings) {
    PolicyMode mode = in.mode();
    OwnEnv own = new OwnEnv(new ArrayList<>(), new ArrayList<>(), new HashSet<>());
    for (int i = 0; i < existing.size(); i++) {
      JsonNode variable = existing.get(i);
      String name = variable.path("name").asText();
      boolean ours = env.containsKey(name);
      if (ours && own.handled().add(name)) {
        if (isLiteral(variable, env.get(name))) {
          continue;
        }
        if (mode.enforce()) {
          own.replacements()
              .add(
                  JsonPatches.replace(
                      target.pointer() + "/env/" + i, in.values().env(name, env.get(name))));
          warnings.add(
              "container %s sets %s itself; replaced by the mirror's value (PypiMirrorPolicy %s enforces it)"
                  .formatted(target.name(), name, mode.policy()));
        } else {
          warnings.add(
              "container %s sets %s itself; kept, so it overrides the mirror for this container%s"
                  .formatted(target.name(), name, wouldUnderEnforce(mode, "replace")));
        }
      } else if (mode.enforce() && (ours || mode.verdict(name) == EnvAllowList.Verdict.REMOVE)) {
        own.removals().add(i);
        warnings.add(
            "container %s sets %s itself; removed (PypiMirrorPolicy %s enforces the mirror)"
                .formatted(target.name(), name, mode.policy()));
      } else if (IndexSettings.affectsIndex(name) && !ours && mode.advisory()) {
        warnings.add(
            "container %s sets %s itself; kept%s"
                .formatted(target.name(), name, wouldUnderEnforce(mode, "remove")));
      }
    }
    return own;
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

  /** The mirror's variables for a container. */
  static final class MirrorEnv {
    private MirrorEnv() {}

    /**
     * PIP_CONFIG_FILE when the config directory is mounted, the rendered keys, and under Enforce
     * the pins.
     */
    static Map<String, String> of(
        RenderedConfig rendered, boolean configDirMounted, PolicyMode mode) {
      Map<String, String> env = new LinkedHashMap<>();
      if (configDirMounted) {
        env.put(InjectedLayout.PIP_CONFIG_FILE_ENV, InjectedLayout.PIP_CONFIG_FILE);
      }
      RenderedConfig.ENV_KEYS.stream()
          .filter(rendered.data()::containsKey)
          .forEach(key -> env.put(key, rendered.data().get(key)));
      if (mode.enforce()) {
        IndexSettings.enforcedPins(env).forEach(env::putIfAbsent);
      }
      return env;
    }

    /** Every variable the webhook may write into a container: the mirror's and the pins. */
    static Map<String, String> written(RenderedConfig rendered) {
      return of(rendered, true, new PolicyMode(null, true));
    }
  }

  /**
   * One node per distinct mount or variable, shared by every container it is added to: less to
   * build, and the webhook serializes a shared node once. Nothing changes a node once planned.
   */
  static final class SharedValues {
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
}
