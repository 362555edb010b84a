package dev.pypimirror.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.apiserver.CelRulesCheck;
import java.util.List;
import java.util.Set;
import java.util.stream.StreamSupport;

/**
 * What a production install needs, checked on rendered objects: kustomize's (deploy/) and Helm's
 * (charts/) pass the same checks.
 *
 * @param objects the rendered objects
 * @param namespace the operator's namespace they were rendered for
 * @param name the name of the operator's objects (the chart's fullname)
 */
record InstallChecks(List<JsonNode> objects, String namespace, String name) {
  static final String NAME = "pypi-mirror-operator";

  InstallChecks(List<JsonNode> objects, String namespace) {
    this(objects, namespace, NAME);
  }

  /** Kinds that live in no namespace. */
  static final Set<String> CLUSTER_SCOPED =
      Set.of(
          "Namespace",
          "CustomResourceDefinition",
          "ClusterRole",
          "ClusterRoleBinding",
          "MutatingWebhookConfiguration",
          "ValidatingWebhookConfiguration");

  /** Every check; {@code replicas} is what the Deployment should run. */
  void all(int replicas) {
    everythingIsThere();
    everyNamespacedObjectIsInTheOperatorsNamespace();
    rbacIsLeastPrivilege();
    theDeploymentIsRestricted(replicas);
    theMutatingWebhookIsTheOptInEntryThePoliciesCopy();
    theValidatingConfigurationIsFilledByTheLeader();
    shutdownDrainsWithinTheGracePeriod();
    theWebhookMatchConditionsCompileAsTheApiServerCompilesThem();
  }

  JsonNode one(String kind, String name) {
    return find(kind, name).orElseThrow(() -> new AssertionError("no " + kind + " " + name));
  }

  java.util.Optional<JsonNode> find(String kind, String name) {
    return objects.stream()
        .filter(
            o ->
                kind.equals(o.path("kind").asText())
                    && name.equals(o.at("/metadata/name").asText()))
        .findFirst();
  }

  static List<String> texts(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
  }

  void everythingIsThere() {
    assertThat(
            objects.stream()
                .map(o -> o.path("kind").asText() + "/" + o.at("/metadata/name").asText()))
        .contains(
            "CustomResourceDefinition/pypimirrors.pypimirror.dev",
            "CustomResourceDefinition/pypimirrorpolicies.pypimirror.dev",
            "ServiceAccount/" + name,
            "ClusterRole/" + name,
            "ClusterRoleBinding/" + name,
            "Role/" + name,
            "RoleBinding/" + name,
            "Deployment/" + name,
            "Service/" + name + "-webhook",
            "Service/" + name + "-metrics",
            "MutatingWebhookConfiguration/" + name,
            "ValidatingWebhookConfiguration/" + name);
    find("Namespace", namespace)
        .ifPresent(
            ns ->
                assertThat(ns.at("/metadata/labels/pod-security.kubernetes.io~1enforce").asText())
                    .as("the operator's namespace runs under Pod Security restricted")
                    .isEqualTo("restricted"));
    for (JsonNode o : objects) {
      if (!o.path("kind").asText().equals("CustomResourceDefinition")) { // Helm: crds/ as they are
        assertThat(o.at("/metadata/labels/app.kubernetes.io~1part-of").asText())
            .as("label part-of on %s %s", o.path("kind").asText(), o.at("/metadata/name").asText())
            .isEqualTo("pypi-mirror-operator");
      }
    }
  }

  void everyNamespacedObjectIsInTheOperatorsNamespace() {
    for (JsonNode o : objects) {
      String kind = o.path("kind").asText();
      String what = kind + " " + o.at("/metadata/name").asText();
      if (CLUSTER_SCOPED.contains(kind)) {
        assertThat(o.at("/metadata/namespace").isMissingNode()).as(what).isTrue();
      } else {
        assertThat(o.at("/metadata/namespace").asText()).as(what).isEqualTo(namespace);
      }
    }
    for (String binding : List.of("ClusterRoleBinding", "RoleBinding")) {
      assertThat(one(binding, name).path("subjects"))
          .singleElement()
          .satisfies(s -> assertThat(s.path("namespace").asText()).isEqualTo(namespace));
    }
  }

  void rbacIsLeastPrivilege() {
    JsonNode clusterRole = one("ClusterRole", name);
    JsonNode role = one("Role", name);
    for (JsonNode rule : clusterRole.path("rules")) {
      assertThat(texts(rule.path("apiGroups"))).doesNotContain("*");
      assertThat(texts(rule.path("resources"))).doesNotContain("*", "secrets");
      assertThat(texts(rule.path("verbs"))).doesNotContain("*", "escalate", "bind", "impersonate");
    }
    assertThat(clusterRole.path("rules"))
        .filteredOn(
            r ->
                texts(r.path("resources")).contains("mutatingwebhookconfigurations")
                    || texts(r.path("resources")).contains("validatingwebhookconfigurations"))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(texts(r.path("resources")))
                  .containsExactlyInAnyOrder(
                      "mutatingwebhookconfigurations", "validatingwebhookconfigurations");
              assertThat(texts(r.path("resourceNames"))).containsExactly(name);
              assertThat(texts(r.path("verbs"))).containsExactlyInAnyOrder("get", "patch");
            });
    assertThat(clusterRole.path("rules"))
        .as("routing needs no namespace label: Namespaces are read, never written")
        .filteredOn(r -> texts(r.path("resources")).contains("namespaces"))
        .singleElement()
        .satisfies(
            r ->
                assertThat(texts(r.path("verbs")))
                    .containsExactlyInAnyOrder("get", "list", "watch"));
    assertThat(role.at("/metadata/namespace").asText()).isEqualTo(namespace);
    assertThat(role.path("rules"))
        .anySatisfy(r -> assertThat(texts(r.path("resources"))).containsExactly("secrets"));
    assertThat(role.path("rules"))
        .anySatisfy(r -> assertThat(texts(r.path("resources"))).containsExactly("leases"));
  }

  void theDeploymentIsRestricted(int replicas) {
    JsonNode deployment = one("Deployment", name);
    JsonNode pod = deployment.at("/spec/template/spec");
    JsonNode manager = pod.at("/containers/0");
    assertThat(deployment.at("/spec/replicas").asInt()).isEqualTo(replicas);
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
    assertThat(env(manager, "PYPI_MIRROR_INDEX_IMAGE").path("value").asText())
        .as("the cache sync runs `index` with the operator's own image")
        .isEqualTo(manager.path("image").asText());
    assertThat(env(manager, "POD_NAMESPACE").at("/valueFrom/fieldRef/fieldPath").asText())
        .isEqualTo("metadata.namespace");
    if (replicas > 1) {
      JsonNode pdb = one("PodDisruptionBudget", name);
      assertThat(pdb.at("/spec/minAvailable").asInt()).isEqualTo(1);
      assertThat(pdb.at("/spec/selector")).isEqualTo(deployment.at("/spec/selector"));
    } else {
      assertThat(find("PodDisruptionBudget", name))
          .as("one replica with minAvailable 1 would block every node drain")
          .isEmpty();
    }
  }

  static JsonNode env(JsonNode container, String name) {
    return StreamSupport.stream(container.path("env").spliterator(), false)
        .filter(e -> e.path("name").asText().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no env " + name));
  }

  /**
   * One deployed entry: the opt-in (by annotation) that fails open. The leader adds one entry per
   * policy ({@code WebhookRoutes}), copying this one's client config, rules and timeouts.
   */
  void theMutatingWebhookIsTheOptInEntryThePoliciesCopy() {
    JsonNode webhooks = one("MutatingWebhookConfiguration", name).path("webhooks");
    assertThat(webhooks).hasSize(1);
    JsonNode optIn = webhooks.get(0);
    assertThat(optIn.path("name").asText()).isEqualTo("pods.pypimirror.dev");
    assertThat(optIn.path("sideEffects").asText()).isEqualTo("None");
    assertThat(optIn.path("reinvocationPolicy").asText()).isEqualTo("IfNeeded");
    assertThat(optIn.path("timeoutSeconds").asInt()).isBetween(1, 30);
    assertThat(texts(optIn.path("admissionReviewVersions"))).containsExactly("v1");
    assertThat(optIn.path("rules"))
        .singleElement()
        .satisfies(
            rule -> {
              assertThat(texts(rule.path("operations"))).containsExactly("CREATE");
              assertThat(texts(rule.path("resources"))).containsExactly("pods");
            });
    assertThat(optIn.at("/clientConfig/service/path").asText()).isEqualTo("/mutate-pods");
    assertThat(optIn.at("/clientConfig/service/namespace").asText()).isEqualTo(namespace);
    assertThat(optIn.at("/clientConfig/service/name").asText()).isEqualTo(name + "-webhook");
    JsonNode excluded =
        StreamSupport.stream(optIn.at("/namespaceSelector/matchExpressions").spliterator(), false)
            .filter(e -> e.path("key").asText().equals("kubernetes.io/metadata.name"))
            .findFirst()
            .orElseThrow();
    assertThat(excluded.path("operator").asText()).isEqualTo("NotIn");
    assertThat(texts(excluded.path("values")))
        .as("the operator's own namespace is never injected, so it can always come back")
        .containsExactlyInAnyOrder("kube-system", "kube-public", "kube-node-lease", namespace);
    assertThat(optIn.toString())
        .as("routing never waits for a label the operator writes")
        .doesNotContain("pypimirror.dev/enforced", "pypimirror.dev/policy");
    assertThat(optIn.has("objectSelector"))
        .as("no label a pod's author can set keeps a pod from the webhook")
        .isFalse();
    assertThat(optIn.path("matchConditions").toString())
        .contains("pypimirror.dev/mirror", "pypimirror.dev/inject")
        .doesNotContain("namespaceObject");
  }

  /** The deployed entry fails open; the policies' fail-closed entries are the leader's. */
  void theWebhooksFailAsDocumented() {
    assertThat(one("MutatingWebhookConfiguration", name).at("/webhooks/0/failurePolicy").asText())
        .isEqualTo("Ignore");
  }

  /** No deployed entry: one per policy, failing closed, written by the leader. */
  void theValidatingConfigurationIsFilledByTheLeader() {
    assertThat(one("ValidatingWebhookConfiguration", name).path("webhooks")).isEmpty();
  }

  /** Drain delay, then admissions under way, then the reconcilers and the lease: in the grace. */
  void shutdownDrainsWithinTheGracePeriod() {
    JsonNode pod = one("Deployment", name).at("/spec/template/spec");
    JsonNode manager = pod.at("/containers/0");
    int drainDelay =
        texts(manager.path("args")).stream()
            .filter(a -> a.startsWith("--drain-delay="))
            .map(a -> Integer.parseInt(a.substring("--drain-delay=".length())))
            .findFirst()
            .orElse(10); // the run command's default
    int admissionTimeout =
        one("MutatingWebhookConfiguration", name).at("/webhooks/0/timeoutSeconds").asInt();
    assertThat(pod.path("terminationGracePeriodSeconds").asInt(30))
        .isGreaterThanOrEqualTo(drainDelay + admissionTimeout + 5);
    assertThat(manager.at("/readinessProbe/periodSeconds").asInt()).isLessThanOrEqualTo(drainDelay);
  }

  void theWebhookMatchConditionsCompileAsTheApiServerCompilesThem() {
    List<CelRulesCheck.Result> results = CelRulesCheck.checkWebhooks(objects);
    assertThat(results).isNotEmpty();
    assertThat(results).allSatisfy(r -> assertThat(r.problems()).as(r.where()).isEmpty());
  }

  /** cert-manager issues the serving certificate, injects its CA, and the operator reads it. */
  void certManagerIssuesTheCertificate() {
    assertThat(objects)
        .filteredOn(o -> o.path("kind").asText().endsWith("WebhookConfiguration"))
        .hasSize(2)
        .allSatisfy(
            o ->
                assertThat(o.at("/metadata/annotations/cert-manager.io~1inject-ca-from").asText())
                    .isEqualTo(namespace + "/" + name + "-webhook"));
    JsonNode certificate = one("Certificate", name + "-webhook");
    assertThat(texts(certificate.at("/spec/dnsNames")))
        .containsExactly(
            name + "-webhook." + namespace + ".svc",
            name + "-webhook." + namespace + ".svc.cluster.local");
    String secret = certificate.at("/spec/secretName").asText();
    JsonNode pod = one("Deployment", name).at("/spec/template/spec");
    assertThat(texts(pod.at("/containers/0/args")))
        .contains(
            "--webhook-certs=files",
            "--tls-cert-file=/etc/webhook/tls/tls.crt",
            "--tls-key-file=/etc/webhook/tls/tls.key")
        .doesNotContain("--webhook-certs=self-managed");
    assertThat(pod.path("volumes"))
        .anySatisfy(v -> assertThat(v.at("/secret/secretName").asText()).isEqualTo(secret));
    assertThat(pod.at("/containers/0/volumeMounts"))
        .anySatisfy(m -> assertThat(m.path("mountPath").asText()).isEqualTo("/etc/webhook/tls"));
  }
}
