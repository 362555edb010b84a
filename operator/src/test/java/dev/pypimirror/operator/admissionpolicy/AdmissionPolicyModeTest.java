package dev.pypimirror.operator.admissionpolicy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.Pods;
import org.junit.jupiter.api.Test;

/** Admission-policy mode stores the pods webhook mode stores. */
class AdmissionPolicyModeTest {
  @Test
  void aBuildPodIsInjectedByThePolicyAsByTheWebhook() {
    MirrorDirectory mirrors =
        Pods.directory(
            Pods.readyMirror(
                "builds",
                "corp",
                Mirrors.withCache(
                    Mirrors.spec(Mirrors.https("https://devpi.corp.example/root/pypi/+simple/")),
                    "/tmp/pypi")));
    ObjectNode pod =
        Pods.yaml(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              annotations: {pypimirror.dev/mirror: corp}
            spec:
              containers:
              - name: kaniko
                image: gcr.io/kaniko-project/executor
            """);
    try (var differential = new PolicyModeDifferential("builds", mirrors, PolicyDirectory.NONE)) {
      JsonNode byPolicies = differential.storedByPolicies(pod);
      assertThat(byPolicies).isEqualTo(differential.storedByWebhook(pod));
      assertThat(byPolicies.at("/spec/containers/0/volumeMounts")).hasSize(5);
    }
  }
}
