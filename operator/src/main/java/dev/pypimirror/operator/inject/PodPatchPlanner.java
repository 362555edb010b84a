package dev.pypimirror.operator.inject;

import static dev.pypimirror.operator.inject.InjectedLayout.CACHE_VOLUME;
import static dev.pypimirror.operator.inject.InjectedLayout.CONFIG_VOLUME;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.Annotations;
import dev.pypimirror.operator.api.InjectionSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.ContainerEnv.Refusal;
import dev.pypimirror.operator.inject.ContainerPatch.Inputs;
import dev.pypimirror.operator.inject.ContainerPatch.MirrorEnv;
import dev.pypimirror.operator.inject.ContainerPatch.Planned;
import dev.pypimirror.operator.inject.ContainerPatch.SharedValues;
import dev.pypimirror.operator.inject.ContainerPatch.Target;
import dev.pypimirror.operator.inject.ContainerPatch.Volumes;
import dev.pypimirror.operator.jsonpatch.JsonPatches;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What the webhook adds to a pod for a mirror: a pure function from the pod's raw JSON to JSON
 * Patch operations. Only what it adds is touched, so fields unknown to any Java model pass through.
 * The containers' part is {@link ContainerPatch}.
 */
public final class PodPatchPlanner {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private PodPatchPlanner() {}

  /**
   * The operations that add whatever of the mirror's mounts, volumes and variables the pod does not
   * hold yet: a pod that holds them all (with the current values) gets none, so the webhook can be
   * reinvoked. That comes from the pod's content, never from a marker on it.
   *
   * @param pod the pod (or pod template: metadata and spec) exactly as received
   */
  public static InjectionPlan plan(
      JsonNode pod, PypiMirror mirror, RenderedConfig rendered, PolicyMode mode) {
    return plan(pod, mirror, rendered, mode, CacheMount.MOUNTED);
  }

  /**
   * As {@link #plan(JsonNode, PypiMirror, RenderedConfig, PolicyMode)}; with {@link
   * CacheMount#LEFT_OUT} the configuration only, never the cache volume (a pod that opted out and
   * gets the mirror because a policy enforces it: the cache sync's download container must not see
   * the cache).
   */
  public static InjectionPlan plan(
      JsonNode pod,
      PypiMirror mirror,
      RenderedConfig rendered,
      PolicyMode mode,
      CacheMount cacheMount) {
    Map<String, String> annotations = PodMetadata.annotations(pod);
    JsonNode spec = pod.path("spec");
    List<String> warnings = new ArrayList<>();
    List<Target> targets = targets(spec, annotations, mode, warnings);
    if (targets.isEmpty()) {
      // nothing to mount into: no volume, no injected marker (it would claim a mirror the pod
      // lacks)
      return InjectionPlan.untouched(
          Reason.NO_TARGET_CONTAINER, "no container to inject", warnings);
    }
    Volumes volumes = namedVolumes(spec, mirror, cacheMount, warnings);
    Inputs in = inputs(mirror, rendered, mode, volumes);
    List<Planned> containers = new ArrayList<>();
    for (Target target : targets) {
      Planned container = ContainerPatch.plan(target, home(target, annotations, mirror), in);
      warnings.addAll(container.warnings());
      containers.add(container);
    }
    List<Refusal> refusals = all(containers, Planned::refusals);
    if (!refusals.isEmpty()) {
      return denied(refusals, mode, warnings);
    }
    List<ObjectNode> operations =
        new ArrayList<>(newVolumes(spec, volumes, all(containers, Planned::usedVolumes)));
    operations.addAll(all(containers, Planned::operations));
    boolean holdsEverything = operations.isEmpty();
    List<String> skippedMounts = all(containers, Planned::skipped);
    String skipped = skippedMounts.isEmpty() ? null : String.join(",", skippedMounts);
    InjectionPlan.Injected injected = injected(mirror, rendered);
    operations.addAll(PodMetadata.annotate(pod, markers(injected, skipped)));
    return InjectionPlan.injected(injected, skipped, holdsEverything, operations, warnings);
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
      CacheMount cacheMount) {
    List<Target> targets = ephemeralTargets(pod.path("spec"), added);
    if (targets.isEmpty()) {
      return InjectionPlan.untouched(
          Reason.NO_TARGET_CONTAINER, "no ephemeral container added", List.of());
    }
    Volumes volumes = existingVolumes(pod.path("spec"), mirror, cacheMount);
    Inputs in = inputs(mirror, rendered, mode, volumes);
    List<Refusal> refusals = new ArrayList<>();
    if (volumes.config() == null) {
      refusals.add(noConfigVolume(mirror));
    }
    List<ObjectNode> operations = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    for (Target target : targets) {
      refusals.addAll(ContainerEnv.refusals(target.node(), target.name(), in.written(), mode));
      if (volumes.config() == null) {
        continue;
      }
      Planned container = ContainerPatch.planEphemeral(target, in);
      refusals.addAll(container.refusals());
      operations.addAll(container.operations());
      warnings.addAll(container.warnings());
    }
    if (!refusals.isEmpty()) {
      return denied(refusals, mode, warnings);
    }
    var injected = new InjectionPlan.Injected(mirror.getMetadata().getName(), null);
    return InjectionPlan.injected(injected, null, operations.isEmpty(), operations, warnings);
  }

  /** Whether an injection mounts the mirror's cache. */
  public enum CacheMount {
    /** The cache volume with the configuration. */
    MOUNTED,
    /** The configuration only. */
    LEFT_OUT
  }

  private static Inputs inputs(
      PypiMirror mirror, RenderedConfig rendered, PolicyMode mode, Volumes volumes) {
    return new Inputs(
        mirror, rendered, mode, volumes, MirrorEnv.written(rendered).keySet(), new SharedValues());
  }

  private static InjectionPlan.Injected injected(PypiMirror mirror, RenderedConfig rendered) {
    String name = mirror.getMetadata().getName();
    return new InjectionPlan.Injected(name, name + "@" + rendered.hashPrefix());
  }

  /** pypimirror.dev/injected, and pypimirror.dev/skipped when mounts were left out. */
  private static Map<String, String> markers(InjectionPlan.Injected injected, String skipped) {
    Map<String, String> markers = new LinkedHashMap<>();
    markers.put(Annotations.INJECTED, injected.marker());
    if (skipped != null) {
      markers.put(Annotations.SKIPPED, skipped);
    }
    return markers;
  }

  private static <T> List<T> all(
      List<Planned> containers, Function<Planned, ? extends java.util.Collection<T>> part) {
    return containers.stream().flatMap(c -> part.apply(c).stream()).toList();
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

  private static Refusal noConfigVolume(PypiMirror mirror) {
    return new Refusal(
        Reason.MIRROR_NOT_FOUND,
        ("the pod has no volume of PypiMirror %s's configuration (it was created without"
                + " the mirror), and an ephemeral container cannot add one")
            .formatted(mirror.getMetadata().getName()));
  }

  /** Init containers then containers, filtered by pypimirror.dev/containers; never ephemeral. */
  private static List<Target> targets(
      JsonNode spec, Map<String, String> annotations, PolicyMode mode, List<String> warnings) {
    Set<String> names = selectedContainers(annotations, mode, warnings);
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

  /** The names pypimirror.dev/containers selects, or null for every container. */
  private static Set<String> selectedContainers(
      Map<String, String> annotations, PolicyMode mode, List<String> warnings) {
    String selected = annotations.get(Annotations.CONTAINERS);
    if (selected == null) {
      return null;
    }
    if (mode.enforce()) {
      warnings.add(
          "pypimirror.dev/containers is ignored: PypiMirrorPolicy %s enforces the mirror in every container"
              .formatted(mode.policy()));
      return null;
    }
    return new LinkedHashSet<>(
        Arrays.stream(selected.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList());
  }

  /** The ephemeral containers this update adds. */
  private static List<Target> ephemeralTargets(JsonNode spec, Set<String> added) {
    List<Target> targets = new ArrayList<>();
    JsonNode list = spec.path("ephemeralContainers");
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).isObject() && added.contains(list.get(i).path("name").asText())) {
        targets.add(new Target("/spec/ephemeralContainers/" + i, list.get(i)));
      }
    }
    return targets;
  }

  /**
   * HOME: the container's literal HOME as the kubelet gives it (the last entry of the name), else
   * the pod's pypimirror.dev/home, else the mirror's.
   */
  private static String home(Target target, Map<String, String> annotations, PypiMirror mirror) {
    String literal = ContainerEnv.literalHome(target.node());
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

  /** The mirror's volumes as a pod's creation names them (see {@link #volumeName}). */
  private static Volumes namedVolumes(
      JsonNode spec, PypiMirror mirror, CacheMount cacheMount, List<String> warnings) {
    String configMap = MirrorObjects.configMapName(mirror.getMetadata().getName());
    String claim = cacheMount == CacheMount.MOUNTED ? MirrorObjects.mountedClaimName(mirror) : null;
    String config = volumeName(spec, CONFIG_VOLUME, "configMap", "name", configMap, warnings);
    String cache =
        claim == null
            ? null
            : volumeName(spec, CACHE_VOLUME, "persistentVolumeClaim", "claimName", claim, warnings);
    return new Volumes(config, configMap, cache, claim);
  }

  /** The pod's own volumes of the mirror, whatever their names (null where it has none). */
  private static Volumes existingVolumes(JsonNode spec, PypiMirror mirror, CacheMount cacheMount) {
    String configMap = MirrorObjects.configMapName(mirror.getMetadata().getName());
    String claim = cacheMount == CacheMount.MOUNTED ? MirrorObjects.mountedClaimName(mirror) : null;
    return new Volumes(
        volumeOf(spec, "configMap", "name", configMap),
        configMap,
        claim == null ? null : volumeOf(spec, "persistentVolumeClaim", "claimName", claim),
        claim);
  }

  /** The mirror's volumes a container uses and the pod lacks, added to spec.volumes. */
  private static List<ObjectNode> newVolumes(JsonNode spec, Volumes volumes, List<String> used) {
    ArrayNode added = JSON.arrayNode();
    if (used.contains(volumes.config()) && volume(spec, volumes.config()) == null) {
      ObjectNode volume = added.addObject().put("name", volumes.config());
      volume.putObject("configMap").put("name", volumes.configMap());
    }
    if (volumes.cache() != null
        && used.contains(volumes.cache())
        && volume(spec, volumes.cache()) == null) {
      ObjectNode volume = added.addObject().put("name", volumes.cache());
      volume
          .putObject("persistentVolumeClaim")
          .put("claimName", volumes.claim())
          .put("readOnly", true);
    }
    return JsonPatches.append("/spec/volumes", spec.path("volumes"), added);
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

  private static JsonNode volume(JsonNode spec, String name) {
    for (JsonNode v : spec.path("volumes")) {
      if (name.equals(v.path("name").asText())) {
        return v;
      }
    }
    return null;
  }
}
