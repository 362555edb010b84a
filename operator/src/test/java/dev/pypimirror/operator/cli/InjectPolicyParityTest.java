package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static dev.pypimirror.operator.cli.RenderCommandTest.yamlDocuments;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.fuzz.AdmissionFuzzTest;
import dev.pypimirror.operator.policy.PolicyMirrors;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.webhook.PodAdmission;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code inject --policy} and the webhook decide alike: the same pod under the same Enforce policy
 * is refused by both (the command says the cluster would refuse it, with the webhook's message) or
 * comes out of both the same.
 */
class InjectPolicyParityTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String POLICY =
      """
      apiVersion: pypimirror.dev/v1alpha1
      kind: PypiMirrorPolicy
      metadata: {name: corp-builds}
      spec:
        namespaceSelector: {matchLabels: {team: ml}}
        podSelector: {}
        enforcement: Enforce
        allowedEnv: [HTTPS_PROXY, PIP_NO_CACHE_DIR]
        mirror:
          indexes: [{url: "https://devpi.corp.example/root/pypi/+simple/"}]
          cache: {enabled: true}
          offline: true
        allowedIndexPrefixes: ["https://devpi.corp.example/"]
        allowPublicIndex: false
      """;

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{containers: [{name: c, env: [{name: PIP_PYPI_URL, value: 'https://evil.example/'}]}]}",
        "{containers: [{name: c, env: [{name: PIP_NO_CACHE_DIR, value: '1'}, {name: PIP_PROXY, value: x}]}]}",
        "{containers: [{name: c, env: [{name: UV_CONSTRAINT, value: 'https://evil.example/c'}]}]}",
        "{containers: [{name: c, env: [{name: PYTHONPATH, value: /mine}]}]}",
        "{containers: [{name: c, env: [{name: https_proxy, value: 'http://evil.example:3128'}]}]}",
        "{containers: [{name: c, env: [{name: HTTPS_PROXY, value: 'http://proxy.corp:3128'}]}]}",
        "{initContainers: [{name: i, restartPolicy: Always, env: [{name: SSL_CERT_FILE, value: /x}]}], containers: [{name: c}]}",
        "{containers: [{name: c, env: [{name: HOME, value: /a}, {name: HOME, value: /b}]}]}",
        "{containers: [{name: c, env: [{name: HOME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]}]}",
        "{containers: [{name: c, envFrom: [{prefix: HTTP, configMapRef: {name: s}}]}]}",
        "{containers: [{name: c, envFrom: [{prefix: APP_, configMapRef: {name: s}}]}]}",
        "{containers: [{name: c, env: [{name: PIP_EDITABLE, value: 'git+http://evil.example/x.git#egg=x'}]}]}",
        "{containers: [{name: c, env: [{name: PIP_PROXY, value: 'http://evil.example:3128'}, {name: PIP_CERT, value: /mnt/evil.pem}]}]}",
        "{containers: [{name: c, env: [{name: PIP_PYTHON, value: /mnt/tools/python}]}]}",
        "{volumes: [{name: own, configMap: {name: own}}], containers: [{name: c, env: [{name: HOME, value: /home/b}], volumeMounts: [{name: own, mountPath: /home/b/.pydistutils.cfg, subPath: p}]}]}",
      })
  void theCommandAndTheWebhookDecideAlike(String podSpec, @TempDir Path dir) throws Exception {
    String pod =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: build, namespace: ml, annotations: {pypimirror.dev/inject: 'false'}}\nspec: "
            + podSpec
            + "\n";
    Path policyFile = Files.writeString(dir.resolve("policy.yaml"), POLICY);

    var command = run(pod, "inject", "-f", "-", "--policy", policyFile.toString());
    JsonNode webhook = webhookAnswer(yamlDocuments(pod).get(0), policyFile);

    assertThat(command.status()).as(command.err()).isZero();
    if (webhook.path("allowed").asBoolean()) {
      JsonNode patched =
          Pods.applyPatch(
              yamlDocuments(pod).get(0),
              JSON.readTree(Base64.getDecoder().decode(webhook.path("patch").asText())));
      assertThat(yamlDocuments(command.out()).get(0)).isEqualTo(patched);
      assertThat(command.err()).doesNotContain("would refuse");
    } else {
      assertThat(command.err())
          .contains(
              "warning: Pod/build: the cluster would refuse this pod: "
                  + webhook.at("/status/message").asText());
    }
  }

  /** The webhook's answer for the pod in a namespace the policy governs. */
  static JsonNode webhookAnswer(JsonNode pod, Path policyFile) throws Exception {
    PypiMirrorPolicy policy = ManifestReader.read(policyFile.toString(), null).singlePolicy();
    PodAdmission webhook =
        new PodAdmission(
            InjectCommand.offline(PolicyMirrors.desired(policy), policy),
            namespace -> Optional.of(policy),
            "pypi-mirror-system",
            PodAdmission.Listener.NONE);
    ObjectNode review = AdmissionFuzzTest.review(pod);
    review.with("request").put("namespace", "ml");
    // through the policy's Enforce entry, as the API server sends it
    return JSON.readTree(
            webhook
                .review("enforce/corp-builds", review.toString().getBytes(StandardCharsets.UTF_8))
                .body())
        .path("response");
  }
}
