package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pypimirror.operator.testing.IndexServer;
import dev.pypimirror.operator.testing.Python;
import dev.pypimirror.operator.testing.SimpleIndex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pod injected by the CLI, run as the kubelet would run it: the ConfigMap's files materialized at
 * the injected mount paths (under a scratch root), the container's env resolved, and real pip run
 * with exactly that env. The only index that has the package is the cache, behind a dead mirror and
 * an empty one.
 */
class InjectedPodRunsRealPipTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void anInjectedPodInstallsFromTheMirror(@TempDir Path scratch) throws Exception {
    Python python = new Python(scratch);
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    SimpleIndex.add(cache, "pmo-probe", python.buildWheel(scratch, "pmo-probe", "1.0"));
    Path empty = Files.createDirectories(scratch.resolve("empty"));
    try (IndexServer emptyMirror = IndexServer.http(empty)) {
      String dead = "http://127.0.0.1:" + IndexServer.closedPort() + "/simple/";
      Path mirrorFile =
          Files.writeString(
              scratch.resolve("mirror.yaml"),
              """
              apiVersion: pypimirror.dev/v1alpha1
              kind: PypiMirror
              metadata: {name: corp, namespace: builds}
              spec:
                indexes:
                - {url: "%s", trustedHost: true}
                - {url: "%s", trustedHost: true}
                - {url: "file://%s"}
                cache: {enabled: true, mountPath: "%s"}
                offline: true
                pip: {retries: 0, timeoutSeconds: 5}
              """
                  .formatted(dead, emptyMirror.url(), cache, cache));
      String podYaml =
          """
          apiVersion: v1
          kind: Pod
          metadata: {name: build, namespace: builds, annotations: {pypimirror.dev/mirror: corp}}
          spec:
            containers:
            - name: build
              image: python:3.12-slim
              env: [{name: LANG, value: C.UTF-8}]
          """;

      var injected =
          run(podYaml, "inject", "-f", "-", "--mirror", mirrorFile.toString(), "-o", "json");
      var rendered = run("", "render", "-f", mirrorFile.toString(), "-o", "json");
      assertThat(injected.status()).as(injected.err()).isZero();
      assertThat(rendered.status()).as(rendered.err()).isZero();

      JsonNode pod = JSON.readTree(injected.out());
      JsonNode configMap = JSON.readTree(rendered.out()).at("/items/0");
      Path root = Files.createDirectories(scratch.resolve("container-root"));
      JsonNode container = pod.at("/spec/containers/0");
      materializeMounts(pod, container, configMap, root, cache);
      Map<String, String> env = new LinkedHashMap<>();
      for (JsonNode entry : container.path("env")) {
        assertThat(entry.has("value")).as("injected env is literal: " + entry).isTrue();
        env.put(entry.path("name").asText(), entry.path("value").asText());
      }
      // the one path in the env points into the container's filesystem: the scratch root here
      env.put("PIP_CONFIG_FILE", root + env.get("PIP_CONFIG_FILE"));

      Path out = Files.createDirectories(scratch.resolve("out"));
      python.pipDownload(out, env, "pmo-probe==1.0").assertOk();

      assertThat(out.resolve("pmo_probe-1.0-py3-none-any.whl")).exists();
      assertThat(emptyMirror.requests()).contains("/simple/pmo-probe/");
      assertThat(Files.readString(root.resolve("etc/pip.conf")))
          .isEqualTo(configMap.at("/data/pip.conf").asText());
      assertThat(Files.readString(root.resolve("root/.pydistutils.cfg")))
          .isEqualTo("[easy_install]\nindex_url = file://" + cache + "\n");
    }
  }

  /**
   * Writes each ConfigMap mount as the kubelet would; the cache PVC must be mounted where it is.
   */
  static void materializeMounts(
      JsonNode pod, JsonNode container, JsonNode configMap, Path root, Path cache)
      throws Exception {
    Map<String, JsonNode> volumes = new LinkedHashMap<>();
    pod.at("/spec/volumes").forEach(v -> volumes.put(v.path("name").asText(), v));
    for (JsonNode mount : container.path("volumeMounts")) {
      JsonNode volume = volumes.get(mount.path("name").asText());
      assertThat(volume).as("mount %s names a volume", mount).isNotNull();
      assertThat(mount.path("readOnly").asBoolean()).isTrue();
      String mountPath = mount.path("mountPath").asText();
      if (volume.has("persistentVolumeClaim")) {
        assertThat(mountPath).isEqualTo(cache.toString());
        continue;
      }
      assertThat(volume.at("/configMap/name").asText())
          .isEqualTo(configMap.at("/metadata/name").asText());
      Path target = root.resolve(mountPath.substring(1));
      if (mount.has("subPath")) {
        Files.createDirectories(target.getParent());
        Files.writeString(
            target, configMap.at("/data").path(mount.path("subPath").asText()).asText());
      } else {
        Files.createDirectories(target);
        var fields = configMap.at("/data").fields();
        while (fields.hasNext()) {
          var field = fields.next();
          Files.writeString(target.resolve(field.getKey()), field.getValue().asText());
        }
      }
    }
  }
}
