package dev.pypimirror.operator.fuzz;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.webhook.AdmissionResponse;
import dev.pypimirror.operator.webhook.PodAdmission;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Coverage-guided fuzzing of pod admission (Jazzer). Without {@code JAZZER_FUZZ} each method runs
 * once per file of its regression inputs (src/test/resources/.../AdmissionFuzzTestInputs/<method>);
 * {@code bench/fuzz} runs real fuzzing sessions. Every input goes through two webhooks: one that
 * injects on request, one under an enforcing policy. Invariants, whatever the input:
 *
 * <ul>
 *   <li>no exception escapes the handler;
 *   <li>the answer is a 400, or an AdmissionReview with the request's uid;
 *   <li>a patch applies cleanly (with an independent RFC 6902 implementation);
 *   <li>a valid pod stays valid (unique volume names and mount paths, mounts name volumes);
 *   <li>injecting the patched pod again changes nothing.
 * </ul>
 */
public class AdmissionFuzzTest {
  static final ObjectMapper MAPPER =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  static final String NAMESPACE = "builds";
  static final PypiMirror MIRROR =
      Pods.readyMirror(
          NAMESPACE, "corp", withCache(spec(https("https://devpi.example/simple/")), "/tmp/pypi"));
  static final List<PodAdmission> WEBHOOKS =
      List.of(
          new PodAdmission(
              Pods.directory(MIRROR),
              PolicyDirectory.NONE,
              "pypi-mirror-system",
              PodAdmission.Listener.NONE),
          new PodAdmission(
              Pods.directory(MIRROR),
              namespace ->
                  namespace.equals(NAMESPACE)
                      ? Optional.of(
                          Policies.policy(
                              "corp",
                              Map.of("kubernetes.io/metadata.name", NAMESPACE),
                              MIRROR.getSpec(),
                              true))
                      : Optional.empty(),
              "pypi-mirror-system",
              PodAdmission.Listener.NONE));

  /** Any bytes as the body of POST /mutate-pods. */
  @FuzzTest(maxDuration = "2m")
  @DictionaryEntries({
    "\"AdmissionReview\"",
    "\"admission.k8s.io/v1\"",
    "\"CREATE\"",
    "\"pods\"",
    "\"builds\"",
    "\"pypimirror.dev/inject\"",
    "\"pypimirror.dev/mirror\"",
    "\"pypimirror.dev/containers\"",
    "\"pypimirror.dev/home\"",
    "\"pypimirror.dev/injected\"",
    "\"pypi-mirror-config\"",
    "\"pypi-mirror-cache\"",
    "\"volumeMounts\"",
    "\"mountPath\"",
    "\"initContainers\"",
    "\"PIP_INDEX_URL\""
  })
  void admissionReviewBodies(byte[] body) {
    for (PodAdmission webhook : WEBHOOKS) {
      checkAnswer(webhook, body);
    }
  }

  /**
   * Any JSON as the pod of a CREATE in the mirror's namespace, asking for the mirror unless it says
   * otherwise.
   */
  @FuzzTest(maxDuration = "2m")
  @DictionaryEntries({
    "\"pypimirror.dev/inject\"",
    "\"pypimirror.dev/containers\"",
    "\"pypimirror.dev/home\"",
    "\"pypi-mirror-config\"",
    "\"pypi-mirror-cache\"",
    "\"/etc/pip.conf\"",
    "\"/tmp/pypi\"",
    "\"volumes\"",
    "\"volumeMounts\"",
    "\"mountPath\"",
    "\"initContainers\"",
    "\"containers\"",
    "\"env\"",
    "\"HOME\"",
    "\"PIP_INDEX_URL\""
  })
  void podJson(byte[] podJson) {
    JsonNode pod;
    try {
      pod = MAPPER.readTree(podJson);
    } catch (Exception e) {
      return; // not JSON: the bodies fuzz test covers malformed requests
    }
    if (pod instanceof ObjectNode object && object.path("metadata").isObject()) {
      JsonNode annotations = object.path("metadata").path("annotations");
      if (annotations.isMissingNode()) {
        ((ObjectNode) object.get("metadata"))
            .putObject("annotations")
            .put("pypimirror.dev/inject", "true");
      }
    }
    byte[] review = review(pod).toString().getBytes(StandardCharsets.UTF_8);
    for (PodAdmission webhook : WEBHOOKS) {
      checkAnswer(webhook, review);
    }
  }

  public static ObjectNode review(JsonNode pod) {
    ObjectNode review =
        MAPPER
            .createObjectNode()
            .put("apiVersion", "admission.k8s.io/v1")
            .put("kind", "AdmissionReview");
    ObjectNode request =
        review
            .putObject("request")
            .put("uid", "fuzz-uid")
            .put("operation", "CREATE")
            .put("namespace", NAMESPACE);
    request.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
    request.set("object", pod);
    return review;
  }

  static void checkAnswer(PodAdmission webhook, byte[] body) {
    AdmissionResponse answer = webhook.review(body); // an exception here fails the test
    if (answer.status() == 400) {
      assertThat(answer.contentType()).startsWith("text/plain");
      return;
    }
    assertThat(answer.status()).isEqualTo(200);
    JsonNode request = parse(body).path("request");
    JsonNode review = parse(answer.body());
    assertThat(review.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
    assertThat(review.path("kind").asText()).isEqualTo("AdmissionReview");
    JsonNode response = review.path("response");
    assertThat(response.path("uid").asText()).isEqualTo(request.path("uid").asText());
    assertThat(response.path("allowed").isBoolean()).isTrue();
    if (!response.has("patch")) {
      return;
    }
    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.path("patchType").asText()).isEqualTo("JSONPatch");
    JsonNode patch = parse(Base64.getDecoder().decode(response.path("patch").asText()));
    JsonNode pod = request.path("object");
    JsonNode patched = Pods.applyPatch(pod, patch); // throws when the patch does not apply
    if (Pods.violations(pod).isEmpty()) {
      assertThat(Pods.violations(patched)).as("patched pod %s", patched).isEmpty();
    }
    ObjectNode again = request.deepCopy();
    again.set("object", patched);
    ObjectNode secondReview = MAPPER.createObjectNode();
    secondReview.put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
    secondReview.set("request", again);
    JsonNode second =
        parse(webhook.review(secondReview.toString().getBytes(StandardCharsets.UTF_8)).body());
    assertThat(second.path("response").has("patch"))
        .as("a second injection of %s changes nothing", patched)
        .isFalse();
  }

  static JsonNode parse(byte[] json) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw new AssertionError("not JSON: " + new String(json, StandardCharsets.UTF_8), e);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}
