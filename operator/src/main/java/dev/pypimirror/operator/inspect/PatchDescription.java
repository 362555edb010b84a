package dev.pypimirror.operator.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.jsonpatch.JsonPatches;
import java.util.ArrayList;
import java.util.List;

/** Says in words what a JSON Patch of the webhook adds to a pod. Pure. */
public final class PatchDescription {
  private PatchDescription() {}

  /**
   * One line per volume, mount, variable or annotation the patch adds, replaces or removes.
   *
   * @param pod the pod the patch applies to (the containers' names are read from it)
   */
  public static List<String> describe(JsonNode pod, JsonNode patch) {
    List<String> lines = new ArrayList<>();
    for (JsonNode op : patch) {
      String path = op.path("path").asText();
      if (op.path("op").asText().equals("remove")) {
        lines.add(removed(pod, path));
        continue;
      }
      String verb = op.path("op").asText().equals("replace") ? "replaced" : "+";
      JsonNode value = op.path("value");
      List<JsonNode> items = new ArrayList<>();
      if (value.isArray()) {
        value.forEach(items::add);
      } else {
        items.add(value);
      }
      if (path.startsWith("/spec/volumes")) {
        items.forEach(
            v -> lines.add(verb + " volume " + v.path("name").asText() + ": " + volumeSource(v)));
      } else if (path.contains("/volumeMounts")) {
        String container = containerName(pod, path);
        items.forEach(m -> lines.add(verb + " " + container + " mounts " + mount(m)));
      } else if (path.contains("/env")) {
        String container = containerName(pod, path);
        items.forEach(e -> lines.add(verb + " " + container + " env " + variable(e)));
      } else if (path.startsWith("/metadata")) {
        lines.addAll(annotations(verb, path, value));
      }
    }
    return lines;
  }

  private static String mount(JsonNode mount) {
    return "%s%s (read-only)"
        .formatted(
            mount.path("mountPath").asText(),
            mount.has("subPath") ? " <- " + mount.path("subPath").asText() : "");
  }

  private static String variable(JsonNode variable) {
    return variable.path("name").asText() + "=" + variable.path("value").asText();
  }

  /** What a remove takes away: a container's variable (named from the pod), else the path. */
  private static String removed(JsonNode pod, String path) {
    if (path.matches("/spec/[A-Za-z]+/\\d+/env/\\d+")) {
      return "removed %s env %s"
          .formatted(containerName(pod, path), pod.at(path).path("name").asText());
    }
    return "removed " + path;
  }

  /**
   * The annotations an add or replace of /metadata, /metadata/annotations or one annotation sets,
   * each line beginning with {@code verb}.
   */
  private static List<String> annotations(String verb, String path, JsonNode value) {
    List<String> lines = new ArrayList<>();
    if (value.isObject()) {
      JsonNode annotations = value.has("annotations") ? value.path("annotations") : value;
      annotations
          .fields()
          .forEachRemaining(
              a -> lines.add(verb + " annotation " + a.getKey() + ": " + a.getValue().asText()));
    } else {
      String key = JsonPatches.unescape(path.substring(path.lastIndexOf('/') + 1));
      lines.add(verb + " annotation " + key + ": " + value.asText());
    }
    return lines;
  }

  private static String volumeSource(JsonNode volume) {
    if (volume.has("configMap")) {
      return "ConfigMap " + volume.at("/configMap/name").asText();
    }
    if (volume.has("persistentVolumeClaim")) {
      return "PVC " + volume.at("/persistentVolumeClaim/claimName").asText() + ", read-only";
    }
    return volume.toString();
  }

  /** "container NAME" or "init container NAME" for a path like /spec/containers/0/env/-. */
  private static String containerName(JsonNode pod, String path) {
    String[] parts = path.split("/");
    JsonNode container = pod.at("/spec/" + parts[2] + "/" + parts[3]);
    return (parts[2].equals("initContainers") ? "init container " : "container ")
        + container.path("name").asText();
  }
}
