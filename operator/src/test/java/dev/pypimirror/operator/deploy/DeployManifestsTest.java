package dev.pypimirror.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.testing.Kustomize;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/ rendered by the real `kubectl kustomize`, checked for what a production install needs.
 */
class DeployManifestsTest {
  static List<JsonNode> objects;

  static List<JsonNode> kustomize(String dir) throws Exception {
    return Kustomize.render(dir);
  }

  @BeforeAll
  static void render() throws Exception {
    objects = kustomize("deploy/default");
  }

  static JsonNode one(String kind, String name) {
    return objects.stream()
        .filter(
            o ->
                kind.equals(o.path("kind").asText())
                    && name.equals(o.at("/metadata/name").asText()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
  }

  static List<String> texts(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
  }

  @Test
  void everythingIsThere() {
    assertThat(
            objects.stream()
                .map(o -> o.path("kind").asText() + "/" + o.at("/metadata/name").asText()))
        .contains(
            "Namespace/pypi-mirror-system",
            "CustomResourceDefinition/pypimirrors.pypimirror.dev",
            "CustomResourceDefinition/pypimirrorpolicies.pypimirror.dev",
            "ServiceAccount/pypi-mirror-operator",
            "ClusterRole/pypi-mirror-operator",
            "ClusterRoleBinding/pypi-mirror-operator",
            "Role/pypi-mirror-operator",
            "RoleBinding/pypi-mirror-operator",
            "Deployment/pypi-mirror-operator",
            "PodDisruptionBudget/pypi-mirror-operator",
            "Service/pypi-mirror-operator-webhook",
            "Service/pypi-mirror-operator-metrics",
            "MutatingWebhookConfiguration/pypi-mirror-operator",
            "ValidatingWebhookConfiguration/pypi-mirror-operator");
    assertThat(
            one("Namespace", "pypi-mirror-system")
                .at("/metadata/labels/pod-security.kubernetes.io~1enforce")
                .asText())
        .isEqualTo("restricted");
    assertThat(objects)
        .allSatisfy(
            o ->
                assertThat(o.at("/metadata/labels/app.kubernetes.io~1part-of").asText())
                    .isEqualTo("pypi-mirror-operator"));
  }

  @Test
  void rbacIsLeastPrivilege() {
    JsonNode clusterRole = one("ClusterRole", "pypi-mirror-operator");
    JsonNode role = one("Role", "pypi-mirror-operator");
    for (JsonNode rule : clusterRole.path("rules")) {
      assertThat(texts(rule.path("apiGroups"))).doesNotContain("*");
      assertThat(texts(rule.path("resources"))).doesNotContain("*", "secrets");
      assertThat(texts(rule.path("verbs"))).doesNotContain("*", "escalate", "bind", "impersonate");
    }
    assertThat(clusterRole.path("rules"))
        .filteredOn(r -> texts(r.path("resources")).contains("mutatingwebhookconfigurations"))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(texts(r.path("resourceNames"))).containsExactly("pypi-mirror-operator");
              assertThat(texts(r.path("verbs"))).containsExactlyInAnyOrder("get", "patch");
            });
    assertThat(role.at("/metadata/namespace").asText()).isEqualTo("pypi-mirror-system");
    assertThat(role.path("rules"))
        .anySatisfy(r -> assertThat(texts(r.path("resources"))).containsExactly("secrets"));
    assertThat(role.path("rules"))
        .anySatisfy(r -> assertThat(texts(r.path("resources"))).containsExactly("leases"));
  }

  @Test
  void theDeploymentIsHighlyAvailableAndRestricted() {
    JsonNode deployment = one("Deployment", "pypi-mirror-operator");
    JsonNode pod = deployment.at("/spec/template/spec");
    JsonNode manager = pod.at("/containers/0");
    assertThat(deployment.at("/spec/replicas").asInt()).isEqualTo(2);
    assertThat(texts(manager.path("args"))).contains("run", "--leader-election");
    assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
    assertThat(pod.at("/securityContext/seccompProfile/type").asText()).isEqualTo("RuntimeDefault");
    JsonNode security = manager.path("securityContext");
    assertThat(security.path("allowPrivilegeEscalation").asBoolean(true)).isFalse();
    assertThat(security.path("readOnlyRootFilesystem").asBoolean()).isTrue();
    assertThat(texts(security.at("/capabilities/drop"))).containsExactly("ALL");
    assertThat(manager.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/healthz");
    assertThat(manager.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/readyz");
    assertThat(manager.at("/resources/requests/cpu").isMissingNode()).isFalse();
    assertThat(manager.at("/resources/requests/memory").isMissingNode()).isFalse();
    assertThat(manager.at("/resources/limits/memory").isMissingNode()).isFalse();
    JsonNode indexImage =
        StreamSupport.stream(manager.path("env").spliterator(), false)
            .filter(e -> e.path("name").asText().equals("PYPI_MIRROR_INDEX_IMAGE"))
            .findFirst()
            .orElseThrow();
    assertThat(indexImage.path("value").asText()).isEqualTo(manager.path("image").asText());
    assertThat(one("PodDisruptionBudget", "pypi-mirror-operator").at("/spec/minAvailable").asInt())
        .isEqualTo(1);
  }

  @Test
  void theMutatingWebhookFailsOpenForOptInAndClosedForEnforcedNamespaces() {
    JsonNode webhooks =
        one("MutatingWebhookConfiguration", "pypi-mirror-operator").path("webhooks");
    assertThat(webhooks).hasSize(2);
    for (JsonNode webhook : webhooks) {
      assertThat(webhook.path("sideEffects").asText()).isEqualTo("None");
      assertThat(webhook.path("reinvocationPolicy").asText()).isEqualTo("IfNeeded");
      assertThat(webhook.path("timeoutSeconds").asInt()).isBetween(1, 5);
      assertThat(texts(webhook.path("admissionReviewVersions"))).containsExactly("v1");
      assertThat(webhook.path("rules"))
          .singleElement()
          .satisfies(
              rule -> {
                assertThat(texts(rule.path("operations"))).containsExactly("CREATE");
                assertThat(texts(rule.path("resources"))).containsExactly("pods");
              });
      assertThat(webhook.at("/clientConfig/service/path").asText()).isEqualTo("/mutate-pods");
      JsonNode excluded =
          StreamSupport.stream(
                  webhook.at("/namespaceSelector/matchExpressions").spliterator(), false)
              .filter(e -> e.path("key").asText().equals("kubernetes.io/metadata.name"))
              .findFirst()
              .orElseThrow();
      assertThat(excluded.path("operator").asText()).isEqualTo("NotIn");
      assertThat(texts(excluded.path("values")))
          .containsExactlyInAnyOrder(
              "kube-system", "kube-public", "kube-node-lease", "pypi-mirror-system");
    }
    JsonNode optIn = webhooks.get(0);
    JsonNode enforced = webhooks.get(1);
    assertThat(optIn.path("failurePolicy").asText()).isEqualTo("Ignore");
    assertThat(enforced.path("failurePolicy").asText()).isEqualTo("Fail");
    assertThat(optIn.toString())
        .contains("\"key\":\"pypimirror.dev/enforced\",\"operator\":\"DoesNotExist\"");
    assertThat(enforced.toString())
        .contains("\"key\":\"pypimirror.dev/enforced\",\"operator\":\"Exists\"");
    assertThat(optIn.path("matchConditions").toString())
        .contains("pypimirror.dev/mirror", "pypimirror.dev/inject")
        .doesNotContain("namespaceObject");
  }

  @Test
  void theValidatingWebhookCoversPypiMirrorsInGovernedNamespaces() {
    JsonNode webhook =
        one("ValidatingWebhookConfiguration", "pypi-mirror-operator").path("webhooks").get(0);
    assertThat(webhook.at("/clientConfig/service/path").asText())
        .isEqualTo("/validate-pypimirrors");
    assertThat(texts(webhook.at("/rules/0/resources"))).containsExactly("pypimirrors");
    assertThat(texts(webhook.at("/rules/0/operations"))).containsExactly("CREATE", "UPDATE");
    assertThat(webhook.path("sideEffects").asText()).isEqualTo("None");
  }

  @Test
  void theCertManagerOverlayInjectsTheCaAndMountsTheCertificate() throws Exception {
    List<JsonNode> overlay = kustomize("deploy/certmanager");
    assertThat(overlay)
        .filteredOn(o -> o.path("kind").asText().endsWith("WebhookConfiguration"))
        .hasSize(2)
        .allSatisfy(
            o ->
                assertThat(o.at("/metadata/annotations/cert-manager.io~1inject-ca-from").asText())
                    .isEqualTo("pypi-mirror-system/pypi-mirror-operator-webhook"));
    assertThat(overlay)
        .anySatisfy(o -> assertThat(o.path("kind").asText()).isEqualTo("Certificate"));
    JsonNode deployment =
        overlay.stream()
            .filter(o -> o.path("kind").asText().equals("Deployment"))
            .findFirst()
            .orElseThrow();
    assertThat(texts(deployment.at("/spec/template/spec/containers/0/args")))
        .contains("--webhook-certs=files");
  }
}
