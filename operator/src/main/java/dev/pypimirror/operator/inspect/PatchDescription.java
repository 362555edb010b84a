package dev.pypimirror.operator.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.jsonpatch.JsonPatches;
import java.util.ArrayList;
import java.util.List;

/** Says in words what a JSON Patch of the webhook adds to a pod. Pure. */
public final class PatchDescription {
  private PatchDescription() {}

  public static List<String> describe(JsonNode pod, JsonNode patch) {
    List<String> lines = new ArrayList<>();
    for (JsonNode op : patch) {
      String path = op.path("path").asText();
      JsonNode value = op.path("value");
      List<JsonNode> items = new ArrayList<>();
      if (value.isArray()) {
        value.forEach(items::add);
      } else {
        items.add(value);
      }
      String verb = op.path("op").asText().equals("replace") ? "replaced" : "+";
      if (path.startsWith("/spec/volumes")) {
        items.forEach(
            v -> lines.add(verb + " volume " + v.path("name").asText() + ": " + volumeSource(v)));
      } else if (path.contains("/volumeMounts")) {
        String container = containerName(pod, path);
        items.forEach(
            m ->
                lines.add(
                    "%s %s mounts %s%s (read-only)"
                        .formatted(
                            verb,
                            container,
                            m.path("mountPath").asText(),
                            m.has("subPath") ? " <- " + m.path("subPath").asText() : "")));
      } else if (path.contains("/env")) {
        String container = containerName(pod, path);
        items.forEach(
            e ->
                lines.add(
                    verb
                        + " "
                        + container
                        + " env "
                        + e.path("name").asText()
                        + "="
                        + e.path("value").asText()));
      } else if (path.startsWith("/metadata")) {
        if (value.isObject()) {
          JsonNode annotations = value.has("annotations") ? value.path("annotations") : value;
          annotations
              .fields()
              .forEachRemaining(
                  a -> lines.add("+ annotation " + a.getKey() + ": " + a.getValue().asText()));
        } else {
          String key = JsonPatches.unescape(path.substring(path.lastIndexOf('/') + 1));
          lines.add("+ annotation " + key + ": " + value.asText());
        }
      }
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
