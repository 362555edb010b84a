package dev.pypimirror.operator.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules of kube-apiserver's pod validation ({@code ValidatePodCreate}, run after the mutating
 * webhooks) that a mutation can break, worded as the API server words them ({@code
 * pkg/apis/core/validation/validation.go}, {@code apimachinery/pkg/api/validation}): volume names
 * unique; every mount names an existing volume, its path is unique in its container and is not a
 * {@code volumeDevices} path nor its name a device's; {@code subPath}/{@code subPathExpr} relative
 * without {@code ..}; env names as {@code IsEnvVarName}; annotations at most 256 KiB in total.
 * Everything else of a pod (images, ports, resources, security contexts...) is not checked.
 */
public final class PodValidation {
  static final int TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
  private static final String ENV_NAME_FORMAT = "[-._a-zA-Z][-._a-zA-Z0-9]*";
  private static final Pattern ENV_NAME = Pattern.compile("^" + ENV_NAME_FORMAT + "$");
  private static final String ENV_NAME_MESSAGE =
      "a valid environment variable name must consist of alphabetic characters, digits, '_', '-',"
          + " or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or"
          + " 'MY-ENV_NAME', regex used for validation is '"
          + ENV_NAME_FORMAT
          + "')";

  private PodValidation() {}

  /** Every problem of the pod, in the API server's order and words; empty when it is valid. */
  public static List<String> problems(JsonNode pod) {
    List<String> problems = new ArrayList<>();
    annotations(pod.path("metadata").path("annotations"), problems);
    JsonNode spec = pod.path("spec");
    Set<String> volumes = new HashSet<>();
    JsonNode declared = spec.path("volumes");
    for (int i = 0; i < declared.size(); i++) {
      String name = declared.get(i).path("name").asText("");
      String path = "spec.volumes[" + i + "].name";
      if (name.isEmpty()) {
        problems.add(path + ": Required value");
      } else if (!volumes.add(name)) {
        problems.add(path + ": Duplicate value: " + quoted(name));
      }
    }
    for (String field : List.of("containers", "initContainers", "ephemeralContainers")) {
      JsonNode containers = spec.path(field);
      for (int i = 0; i < containers.size(); i++) {
        container(containers.get(i), "spec." + field + "[" + i + "]", volumes, problems);
      }
    }
    return problems;
  }

  private static void annotations(JsonNode annotations, List<String> problems) {
    long size = 0;
    for (var entry : annotations.properties()) {
      size += entry.getKey().getBytes(StandardCharsets.UTF_8).length;
      size += entry.getValue().asText().getBytes(StandardCharsets.UTF_8).length;
    }
    if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
      problems.add(
          "metadata.annotations: Too long: may not be more than "
              + TOTAL_ANNOTATION_SIZE_LIMIT
              + " bytes");
    }
  }

  private static void container(
      JsonNode container, String path, Set<String> volumes, List<String> problems) {
    JsonNode env = container.path("env");
    for (int i = 0; i < env.size(); i++) {
      envName(env.get(i).path("name").asText(""), path + ".env[" + i + "].name", problems);
    }
    Devices devices = Devices.of(container.path("volumeDevices"));
    Set<String> mountPaths = new HashSet<>();
    JsonNode mounts = container.path("volumeMounts");
    String mountsPath = path + ".volumeMounts";
    for (int i = 0; i < mounts.size(); i++) {
      String at = mountsPath + "[" + i + "]";
      mount(mounts.get(i), at, volumes, devices, mountPaths, problems);
      subPaths(mounts.get(i), at, mountsPath, problems);
    }
  }

  /** A container's volumeDevices: their names, and the name at each device path. */
  private record Devices(Map<String, String> byPath, Set<String> names) {
    static Devices of(JsonNode volumeDevices) {
      Map<String, String> byPath = new HashMap<>();
      Set<String> names = new HashSet<>();
      for (JsonNode device : volumeDevices) {
        byPath.put(device.path("devicePath").asText(""), device.path("name").asText(""));
        names.add(device.path("name").asText(""));
      }
      return new Devices(byPath, names);
    }
  }

  /** A mount's name and path: required, an existing volume, unique, not a device's. */
  private static void mount(
      JsonNode mount,
      String at,
      Set<String> volumes,
      Devices devices,
      Set<String> mountPaths,
      List<String> problems) {
    String name = mount.path("name").asText("");
    String mountPath = mount.path("mountPath").asText("");
    if (name.isEmpty()) {
      problems.add(at + ".name: Required value");
    }
    if (!volumes.contains(name)) {
      problems.add(at + ".name: Not found: " + quoted(name));
    }
    if (mountPath.isEmpty()) {
      problems.add(at + ".mountPath: Required value");
    }
    if (!mountPaths.add(mountPath)) {
      problems.add(at + ".mountPath: Invalid value: " + quoted(mountPath) + ": must be unique");
    }
    if (devices.names().contains(name)) {
      problems.add(
          at
              + ".name: Invalid value: "
              + quoted(name)
              + ": must not already exist in volumeDevices");
    }
    if (devices.byPath().containsKey(mountPath)) {
      problems.add(
          at
              + ".mountPath: Invalid value: "
              + quoted(mountPath)
              + ": must not already exist as a path in volumeDevices");
    }
  }

  /**
   * subPath and subPathExpr: relative, without {@code ..}, not both. ValidateVolumeMounts passes
   * fldPath.Child("subPath") to validateLocalDescendingPath: the list is named, not the item (and
   * the same for subPathExpr; mutual exclusion names the item).
   */
  private static void subPaths(
      JsonNode mount, String at, String mountsPath, List<String> problems) {
    String subPath = mount.path("subPath").asText("");
    if (!subPath.isEmpty()) {
      localDescendingPath(subPath, mountsPath + ".subPath", problems);
    }
    String subPathExpr = mount.path("subPathExpr").asText("");
    if (!subPathExpr.isEmpty()) {
      if (!subPath.isEmpty()) {
        problems.add(
            at
                + ".subPathExpr: Invalid value: "
                + quoted(subPathExpr)
                + ": subPathExpr and subPath are mutually exclusive");
      }
      localDescendingPath(subPathExpr, mountsPath + ".subPathExpr", problems);
    }
  }

  private static void envName(String name, String path, List<String> problems) {
    if (name.isEmpty()) {
      problems.add(path + ": Required value");
    }
    if (!ENV_NAME.matcher(name).matches()) {
      problems.add(path + ": Invalid value: " + quoted(name) + ": " + ENV_NAME_MESSAGE);
    }
    if (name.equals(".")) {
      problems.add(path + ": Invalid value: " + quoted(name) + ": must not be '.'");
    } else if (name.equals("..")) {
      problems.add(path + ": Invalid value: " + quoted(name) + ": must not be '..'");
    } else if (name.startsWith("..")) {
      problems.add(path + ": Invalid value: " + quoted(name) + ": must not start with '..'");
    }
  }

  private static void localDescendingPath(String value, String path, List<String> problems) {
    if (value.startsWith("/")) {
      problems.add(path + ": Invalid value: " + quoted(value) + ": must be a relative path");
    }
    for (String part : value.split("/", -1)) {
      if (part.equals("..")) {
        problems.add(path + ": Invalid value: " + quoted(value) + ": must not contain '..'");
        break;
      }
    }
  }

  /** A string as Go's %q writes it (the common cases: quotes and backslashes escaped). */
  static String quoted(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
