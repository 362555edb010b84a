package dev.pypimirror.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.admissionpolicy.PolicyModeDifferential;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.ProjectPaths;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Admission-policy mode against webhook mode, on the test API server: every pod stored after the
 * MutatingAdmissionPolicies the operator writes equals the pod stored after the webhook's patch (or
 * both refuse). The pods: every pod written in the golden tests ({@link PodInjectorTest}), the
 * property test's generator ({@link InjectionPropertyTest}; 2,000 pods with {@code
 * -Dpypimirror.differential.pods=2000}, 300 in the build), and the webhook fuzzers' pod inputs that
 * kube-apiserver would decode as a Pod.
 */
class AdmissionPolicyDifferentialTest {
  static final int GENERATED = Integer.getInteger("pypimirror.differential.pods", 300);
  static final ObjectMapper JSON = new ObjectMapper();
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void generatedPodsAreStoredAlike() {
    InjectionPropertyTest generator = new InjectionPropertyTest();
    Random random = new Random(20261121);
    java.util.Map<String, List<JsonNode>> byCachePath = new java.util.TreeMap<>();
    for (int i = 0; i < GENERATED; i++) {
      JsonNode pod = generator.randomPod(random);
      String cachePath =
          InjectionPropertyTest.CACHE_PATHS.get(
              random.nextInt(InjectionPropertyTest.CACHE_PATHS.size()));
      byCachePath.computeIfAbsent(cachePath, p -> new ArrayList<>()).add(pod);
    }
    int injected = 0;
    for (var entry : byCachePath.entrySet()) {
      injected += compare("ns", InjectionPropertyTest.mirrors(entry.getKey()), entry.getValue());
    }
    assertThat(injected).as("pods injected").isGreaterThan(GENERATED / 4);
  }

  @Test
  void goldenPodsAreStoredAlike() throws IOException {
    List<JsonNode> pods = goldenPods();
    assertThat(pods).as("pods written in PodInjectorTest").hasSizeGreaterThanOrEqualTo(8);
    assertThat(compare("builds", PodInjectorTest.BUILDS, pods)).isGreaterThan(5);
  }

  @Test
  void fuzzerPodsAreStoredAlike() throws IOException {
    List<JsonNode> pods = new ArrayList<>();
    Path inputs =
        ProjectPaths.ROOT.resolve(
            "operator/src/test/resources/dev/pypimirror/operator/fuzz/AdmissionFuzzTestInputs");
    try (Stream<Path> files = Files.list(inputs.resolve("podJson"))) {
      for (Path file : files.sorted().toList()) {
        decodablePod(Files.readAllBytes(file)).ifPresent(pods::add);
      }
    }
    try (Stream<Path> files = Files.list(inputs.resolve("admissionReviewBodies"))) {
      for (Path file : files.sorted().toList()) {
        try {
          JsonNode object = JSON.readTree(Files.readAllBytes(file)).at("/request/object");
          decodablePod(JSON.writeValueAsBytes(object)).ifPresent(pods::add);
        } catch (IOException e) {
          // not JSON: no pod to admit
        }
      }
    }
    assertThat(pods).hasSizeGreaterThan(5);
    compare("builds", dev.pypimirror.operator.testing.Pods.directory(fuzzMirror()), pods);
  }

  static dev.pypimirror.operator.api.PypiMirror fuzzMirror() {
    return dev.pypimirror.operator.testing.Pods.readyMirror(
        "builds",
        "corp",
        dev.pypimirror.operator.testing.Mirrors.withCache(
            dev.pypimirror.operator.testing.Mirrors.spec(
                dev.pypimirror.operator.testing.Mirrors.https("https://devpi.example/simple/")),
            "/tmp/pypi"));
  }

  /** Runs every pod both ways; returns how many were injected. */
  static int compare(String namespace, MirrorDirectory mirrors, List<JsonNode> pods) {
    int injected = 0;
    try (var differential = new PolicyModeDifferential(namespace, mirrors, PolicyDirectory.NONE)) {
      for (int i = 0; i < pods.size(); i++) {
        JsonNode pod = pods.get(i);
        JsonNode byWebhook = differential.storedAlike(i, pod);
        if (byWebhook.at("/metadata/annotations").has("pypimirror.dev/injected")) {
          injected++;
        }
      }
    }
    return injected;
  }

  /** A pod kube-apiserver would decode (a Pod object, each field of its type), with a name. */
  static java.util.Optional<JsonNode> decodablePod(byte[] json) {
    try {
      JsonNode pod = JSON.readTree(json);
      if (!pod.isObject() || !pod.path("spec").isObject() || !pod.path("metadata").isObject()) {
        return java.util.Optional.empty();
      }
      io.fabric8.kubernetes.client.utils.Serialization.jsonMapper()
          .copy()
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .treeToValue(pod, Pod.class);
      ObjectNode copy = pod.deepCopy();
      copy.put("apiVersion", "v1").put("kind", "Pod");
      return java.util.Optional.of(copy);
    } catch (Exception e) {
      return java.util.Optional.empty();
    }
  }

  /** Every pod written as a text block in PodInjectorTest. */
  static List<JsonNode> goldenPods() throws IOException {
    String source =
        Files.readString(
            ProjectPaths.ROOT.resolve(
                "operator/src/test/java/dev/pypimirror/operator/inject/PodInjectorTest.java"));
    Matcher blocks = Pattern.compile("\"\"\"\\n(.*?)\"\"\"", Pattern.DOTALL).matcher(source);
    List<JsonNode> pods = new ArrayList<>();
    while (blocks.find()) {
      String text = blocks.group(1);
      if (!text.stripLeading().startsWith("metadata:") || text.contains("%s")) {
        continue;
      }
      try {
        JsonNode pod = YAML.readTree("apiVersion: v1\nkind: Pod\n" + text.stripIndent());
        if (pod.path("spec").isObject()) {
          pods.add(pod);
        }
      } catch (IOException e) {
        // a block that is not a whole pod
      }
    }
    return pods;
  }
}
