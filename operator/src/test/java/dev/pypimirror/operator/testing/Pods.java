package dev.pypimirror.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.inject.MirrorDirectory;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Pods as raw JSON, ready mirrors, and an independent JSON Patch to apply the webhook's patches.
 */
public final class Pods {
  public static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private Pods() {}

  public static ObjectNode yaml(String text) {
    try {
      return (ObjectNode) YAML.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A pod as the kubelet reports one whose container exits at start with {@code message} as its
   * termination message (waiting in CrashLoopBackOff, the exit its last state).
   */
  public static io.fabric8.kubernetes.api.model.Pod exitedAtStart(
      String namespace,
      String name,
      java.util.Map<String, String> labels,
      List<io.fabric8.kubernetes.api.model.OwnerReference> owners,
      String message) {
    return new io.fabric8.kubernetes.api.model.PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withLabels(labels)
        .withOwnerReferences(owners)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("proxy")
        .withImage("pypi-mirror-operator")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .addNewContainerStatus()
        .withName("proxy")
        .withNewState()
        .withNewWaiting()
        .withReason("CrashLoopBackOff")
        .endWaiting()
        .endState()
        .withNewLastState()
        .withNewTerminated()
        .withExitCode(2)
        .withMessage(message)
        .endTerminated()
        .endLastState()
        .endContainerStatus()
        .endStatus()
        .build();
  }

  /** An AdmissionReview for a Job's pod, in the form a real API server sends it. */
  public static String recordedAdmissionReview() {
    try (var in = Pods.class.getResourceAsStream("/admission/pod-create.json")) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Applies an RFC 6902 patch with Eclipse Parsson (jakarta.json), not the project's code. */
  public static JsonNode applyPatch(JsonNode document, JsonNode patch) {
    JsonObject target = Json.createReader(new StringReader(document.toString())).readObject();
    JsonArray operations = Json.createReader(new StringReader(patch.toString())).readArray();
    return json(Json.createPatch(operations).apply(target).toString());
  }

  /**
   * What makes a pod invalid in the ways injection could cause, as the API server checks it after
   * the webhooks ({@link dev.pypimirror.operator.apiserver.PodValidation}). Empty when valid.
   */
  public static List<String> violations(JsonNode pod) {
    return dev.pypimirror.operator.apiserver.PodValidation.problems(pod);
  }

  /** A mirror with a uid and a Ready status, as the informer cache would hold it. */
  public static PypiMirror readyMirror(String namespace, String name, PypiMirrorSpec spec) {
    PypiMirror mirror = Mirrors.mirror(namespace, name, spec);
    mirror
        .getMetadata()
        .setUid(UUID.nameUUIDFromBytes((namespace + "/" + name).getBytes()).toString());
    mirror.getMetadata().setGeneration(1L);
    PypiMirrorStatus status = new PypiMirrorStatus();
    status.setObservedGeneration(1L);
    status.setConditions(
        new ArrayList<>(List.of(Conditions.of(Conditions.READY, true, "Ready", "ok", 1))));
    mirror.setStatus(status);
    return mirror;
  }

  public static PypiMirror notReady(PypiMirror mirror, String reason) {
    mirror
        .getStatus()
        .setConditions(List.of(Conditions.of(Conditions.READY, false, reason, "broken", 1)));
    return mirror;
  }

  /** A fixed set of mirrors. */
  public static MirrorDirectory directory(PypiMirror... mirrors) {
    return MirrorDirectory.of(Arrays.asList(mirrors));
  }
}
