package dev.pypimirror.operator.inject;

import static dev.pypimirror.operator.testing.Pods.applyPatch;
import static dev.pypimirror.operator.testing.Pods.directory;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.Pods;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Generated pods (a fixed seed, so a failure reproduces): the injected pod is valid and a second
 * injection changes nothing.
 */
class InjectionPropertyTest {
  static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  static final List<String> PATHS =
      List.of(
          "/etc/pip.conf",
          "/etc/pypi-mirror",
          "/tmp/pypi",
          "/root/.pydistutils.cfg",
          "/workspace",
          "/etc/uv/uv.toml",
          "/cache",
          "/home/c/.pydistutils.cfg");
  static final List<String> ENV =
      List.of("PIP_INDEX_URL", "UV_INDEX", "HOME", "PATH", "PIP_CONFIG_FILE", "LANG");
  static final List<String> VOLUMES =
      List.of("pypi-mirror-config", "pypi-mirror-cache", "pypi-mirror-config-2", "work", "cache");

  /**
   * Where the cache goes: the default, elsewhere, and where the configuration goes (refused by the
   * CRD and the validator, but the planner must still never make an invalid pod of it).
   */
  static final List<String> CACHE_PATHS =
      List.of(
          "/tmp/pypi",
          "/cache",
          "/etc/pypi-mirror",
          "/etc/pip.conf",
          "/etc/uv/uv.toml",
          "/root/.pydistutils.cfg",
          "/home/c/.pydistutils.cfg",
          "/workspace");

  /**
   * The mirror with its cache at {@code cachePath}, rendered even where the validator refuses the
   * path: as a mirror stored before that rule would be, so the planner alone must keep pods valid.
   */
  static MirrorDirectory mirrors(String cachePath) {
    MirrorDirectory directory =
        directory(
            Pods.readyMirror(
                "ns",
                "m",
                Mirrors.withCache(
                    Mirrors.spec(Mirrors.https("https://a.example/simple/")), cachePath)));
    RenderedConfig rendered =
        MirrorConfigRenderer.render(
            "m",
            Mirrors.withCache(
                Mirrors.spec(Mirrors.https("https://a.example/simple/")), "/tmp/pypi"));
    return new MirrorDirectory() {
      @Override
      public Optional<PypiMirror> get(String namespace, String name) {
        return directory.get(namespace, name);
      }

      @Override
      public List<PypiMirror> inNamespace(String namespace) {
        return directory.inNamespace(namespace);
      }

      @Override
      public RenderedConfig rendered(PypiMirror mirror) {
        return rendered;
      }
    };
  }

  @Test
  void injectedPodsAreValidAndInjectionIsIdempotent() {
    Random random = new Random(20261121);
    int injected = 0;
    Map<String, MirrorDirectory> directories = new HashMap<>();
    for (int i = 0; i < 3000; i++) {
      ObjectNode pod = randomPod(random);
      String cachePath = CACHE_PATHS.get(random.nextInt(CACHE_PATHS.size()));
      MirrorDirectory mirrors = directories.computeIfAbsent(cachePath, path -> mirrors(path));
      InjectionPlan first = PodInjector.inject(pod, "ns", null, mirrors);
      JsonNode once = applyPatch(pod, first.patch());
      String why = "pod #" + i + " (cache at " + cachePath + "): " + pod;

      assertThat(Pods.violations(once)).as(why).isEmpty();
      InjectionPlan second = PodInjector.inject(once, "ns", null, mirrors);
      assertThat(second.hasPatch()).as(why).isFalse();
      assertThat(applyPatch(once, second.patch())).as(why).isEqualTo(once);
      if (first.outcome() == InjectionPlan.Outcome.INJECTED) {
        injected++;
        assertThat(once.at("/metadata/annotations/pypimirror.dev~1injected").asText())
            .as(why)
            .startsWith("m@");
      }
    }
    assertThat(injected).as("the generator reaches injection often").isGreaterThan(500);
  }

  ObjectNode randomPod(Random random) {
    ObjectNode pod = JSON.objectNode().put("apiVersion", "v1").put("kind", "Pod");
    ObjectNode metadata = pod.putObject("metadata").put("name", "p");
    if (random.nextInt(5) > 0) {
      ObjectNode annotations = metadata.putObject("annotations");
      switch (random.nextInt(4)) {
        case 0 -> annotations.put("pypimirror.dev/mirror", "m");
        case 1 -> annotations.put("pypimirror.dev/inject", "true");
        case 2 -> annotations.put("pypimirror.dev/inject", random.nextBoolean() ? "false" : "true");
        default -> annotations.put("other", "x");
      }
      if (random.nextInt(4) == 0) {
        annotations.put("pypimirror.dev/containers", "c0,i0,nope");
      }
      if (random.nextInt(4) == 0) {
        annotations.put("pypimirror.dev/home", "/home/x");
      }
    }
    ObjectNode spec = pod.putObject("spec");
    Set<String> volumeNames = new HashSet<>();
    if (random.nextBoolean()) {
      ArrayNode volumes = spec.putArray("volumes");
      for (int v = random.nextInt(4); v > 0; v--) {
        String name = VOLUMES.get(random.nextInt(VOLUMES.size()));
        if (volumeNames.add(name)) {
          ObjectNode volume = volumes.addObject().put("name", name);
          if (random.nextBoolean()) {
            volume.putObject("emptyDir");
          } else {
            volume
                .putObject("configMap")
                .put("name", random.nextBoolean() ? "pypi-mirror-m" : "other");
          }
        }
      }
    }
    for (String field : List.of("initContainers", "containers")) {
      int count = field.equals("containers") ? 1 + random.nextInt(3) : random.nextInt(3);
      if (count == 0 && random.nextBoolean()) {
        continue;
      }
      ArrayNode containers = spec.putArray(field);
      for (int c = 0; c < count; c++) {
        ObjectNode container = containers.addObject().put("name", field.charAt(0) + "" + c);
        Set<String> used = new HashSet<>();
        if (random.nextBoolean() && !volumeNames.isEmpty()) {
          ArrayNode mounts = container.putArray("volumeMounts");
          for (int m = random.nextInt(3); m > 0; m--) {
            String path = PATHS.get(random.nextInt(PATHS.size()));
            if (used.add(path)) {
              mounts.addObject().put("name", volumeNames.iterator().next()).put("mountPath", path);
            }
          }
        }
        String devicePath = PATHS.get(random.nextInt(PATHS.size()));
        if (random.nextInt(4) == 0 && !used.contains(devicePath)) {
          container
              .putArray("volumeDevices")
              .addObject()
              .put("name", "block")
              .put("devicePath", devicePath);
        }
        if (random.nextBoolean()) {
          ArrayNode env = container.putArray("env");
          for (int e = random.nextInt(3); e > 0; e--) {
            String name = ENV.get(random.nextInt(ENV.size()));
            env.addObject().put("name", name).put("value", name.equals("HOME") ? "/home/c" : "v");
          }
        }
      }
    }
    return pod;
  }
}
