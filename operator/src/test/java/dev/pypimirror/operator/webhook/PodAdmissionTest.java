package dev.pypimirror.operator.webhook;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Pods.applyPatch;
import static dev.pypimirror.operator.testing.Pods.directory;
import static dev.pypimirror.operator.testing.Pods.json;
import static dev.pypimirror.operator.testing.Pods.readyMirror;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.testing.Pods;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PodAdmissionTest {
  final PodAdmission admission =
      new PodAdmission(
          directory(
              readyMirror("builds", "corp", spec(https("https://devpi.corp.example/simple/")))),
          dev.pypimirror.operator.policy.PolicyDirectory.NONE,
          "pypi-mirror-system",
          PodAdmission.Listener.NONE);

  @Test
  void aRecordedApiServerRequestIsAnsweredWithItsUidAndAPatch() throws IOException {
    String request = Pods.recordedAdmissionReview();

    AdmissionResponse answer = admission.review(request.getBytes(StandardCharsets.UTF_8));

    assertThat(answer.status()).isEqualTo(200);
    JsonNode review = json(answer.bodyText());
    assertThat(review.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
    assertThat(review.path("kind").asText()).isEqualTo("AdmissionReview");
    assertThat(review.at("/response/uid").asText())
        .isEqualTo("0f4c3d2a-7c43-4d7e-9d6b-4f1f0e6b2c11");
    assertThat(review.at("/response/allowed").asBoolean()).isTrue();
    assertThat(review.at("/response/patchType").asText()).isEqualTo("JSONPatch");
    JsonNode patch =
        json(new String(Base64.getDecoder().decode(review.at("/response/patch").asText())));
    JsonNode pod = json(request).at("/request/object");
    JsonNode injected = applyPatch(pod, patch);
    assertThat(injected.at("/spec/containers/0/volumeMounts/0/mountPath").asText())
        .isEqualTo("/var/run/secrets/kubernetes.io/serviceaccount");
    assertThat(injected.at("/spec/containers/0/volumeMounts").findValuesAsText("mountPath"))
        .contains("/etc/pip.conf", "/etc/uv/uv.toml", "/etc/pypi-mirror", "/root/.pydistutils.cfg");
    assertThat(injected.at("/spec/volumes/1/configMap/name").asText())
        .isEqualTo("pypi-mirror-corp");
    assertThat(injected.at("/metadata/managedFields")).isEqualTo(pod.at("/metadata/managedFields"));
    assertThat(review.at("/response").has("warnings")).isFalse();
  }

  /**
   * Found by fuzzing: the JSON parser's field-name cache took {@code "imag\xFFe"} for {@code
   * "image"} once it had seen "image", so the same bytes were refused or admitted depending on the
   * requests before. Bytes that are not UTF-8 are now refused before parsing.
   */
  @Test
  void aBodyThatIsNotUtf8IsRefusedWhateverCameBefore() throws IOException {
    byte[] valid = Pods.recordedAdmissionReview().getBytes(StandardCharsets.UTF_8);
    byte[] invalid =
        Pods.recordedAdmissionReview()
            .replace("\"image\"", "\"imag\u00ffe\"")
            .getBytes(StandardCharsets.ISO_8859_1); // a lone 0xFF byte: never UTF-8

    assertThat(admission.review(valid).status()).isEqualTo(200); // the parser has seen "image"
    AdmissionResponse answer = admission.review(invalid);

    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.bodyText()).isEqualTo("malformed AdmissionReview: not UTF-8\n");
    assertThat(AdmissionReviews.isUtf8("naïve ✓ 😀".getBytes(StandardCharsets.UTF_8))).isTrue();
  }

  @Test
  void warningsReachTheResponse() throws IOException {
    ObjectNode request = (ObjectNode) json(Pods.recordedAdmissionReview());
    ((ObjectNode) request.at("/request/object/metadata/annotations"))
        .put("pypimirror.dev/mirror", "missing");

    JsonNode review = json(admission.review(request.toString().getBytes()).bodyText());

    assertThat(review.at("/response/allowed").asBoolean()).isTrue();
    assertThat(review.at("/response/warnings/0").asText())
        .isEqualTo("PypiMirror builds/missing not found; the pod is admitted without a mirror");
    JsonNode patch =
        json(new String(Base64.getDecoder().decode(review.at("/response/patch").asText())));
    assertThat(patch)
        .isEqualTo(
            json(
                "[{\"op\":\"add\",\"path\":\"/metadata/annotations/pypimirror.dev~1skipped\",\"value\":\"mirror-not-ready\"}]"));
  }

  @Test
  void anythingButAPodCreateIsAllowedWithoutPatch() throws IOException {
    ObjectNode update = (ObjectNode) json(Pods.recordedAdmissionReview());
    ((ObjectNode) update.path("request")).put("operation", "UPDATE");
    ObjectNode subresource = (ObjectNode) json(Pods.recordedAdmissionReview());
    ((ObjectNode) subresource.path("request")).put("subResource", "ephemeralcontainers");

    for (ObjectNode request : new ObjectNode[] {update, subresource}) {
      JsonNode review = json(admission.review(request.toString().getBytes()).bodyText());
      assertThat(review.at("/response/allowed").asBoolean()).isTrue();
      assertThat(review.at("/response").has("patch")).isFalse();
    }
  }

  /**
   * The pod is read without the fields the decision never looks at: the answer is the same as for
   * the pod without them, and a body that is not JSON inside such a field is still refused.
   */
  @Test
  void fieldsTheDecisionDoesNotReadChangeNothingButMustStillBeJson() throws IOException {
    String recorded = Pods.recordedAdmissionReview();
    ObjectNode padded = (ObjectNode) json(recorded);
    ObjectNode container = (ObjectNode) padded.at("/request/object/spec/containers/0");
    container.putObject("resources").putObject("limits").put("memory", 1e308);
    container.putArray("args").add("--huge").addArray().add(1).add(true).addNull();
    ((ObjectNode) padded.path("request")).putObject("oldObject").put("kind", "Pod");

    AdmissionResponse plain = admission.review(recorded.getBytes(StandardCharsets.UTF_8));
    AdmissionResponse withMore =
        admission.review(padded.toString().getBytes(StandardCharsets.UTF_8));
    AdmissionResponse broken =
        admission.review(
            padded.toString().replace("\"--huge\"", "--huge").getBytes(StandardCharsets.UTF_8));

    assertThat(withMore.bodyText()).isEqualTo(plain.bodyText());
    assertThat(broken.status()).isEqualTo(400);
    assertThat(broken.bodyText()).startsWith("malformed AdmissionReview: ");
  }

  @Test
  void aRequestWithAUidButNoPodIsAllowedWithAWarning() {
    String request =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u1\","
            + "\"operation\":\"CREATE\",\"resource\":{\"resource\":\"pods\"},\"object\":\"not a pod\"}}";

    AdmissionResponse answer = admission.review(request.getBytes());

    JsonNode review = json(answer.bodyText());
    assertThat(answer.status()).isEqualTo(200);
    assertThat(review.at("/response/uid").asText()).isEqualTo("u1");
    assertThat(review.at("/response/allowed").asBoolean()).isTrue();
    assertThat(review.at("/response").has("patch")).isFalse();
    assertThat(review.at("/response/warnings/0").asText()).contains("no pod");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "not json",
        "[1,2]",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}",
        "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"x\"}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Pod\",\"request\":{\"uid\":\"x\"}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"\"}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{}} trailing",
      })
  void malformedBodiesAre400WithAMessage(String body) {
    AdmissionResponse answer = admission.review(body.getBytes(StandardCharsets.UTF_8));

    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.bodyText()).isNotBlank();
  }
}
