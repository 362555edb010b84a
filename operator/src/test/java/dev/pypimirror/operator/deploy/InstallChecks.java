package dev.pypimirror.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
    mirrorWorkloadRightsAreWhereTheMirrorsAre();
    theDeploymentIsRestricted(replicas);
    theOperatorIsToldItsWebhookConfigurations();
    shutdownDrainsWithinTheGracePeriod();
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
            "Service/" + name + "-metrics");
    assertThat(objects)
        .as("the operator owns its webhook configurations: nothing applied changes at run time")
        .noneMatch(o -> o.path("kind").asText().endsWith("WebhookConfiguration"));
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

  /** The namespaces `--watch-namespaces` names; empty: all. */
  List<String> watched() {
    String given = arg("watch-namespaces");
    return given == null ? List.of() : List.of(given.split(","));
  }

  /** The object of this kind and name in the operator's namespace. */
  JsonNode own(String kind) {
    return objects.stream()
        .filter(o -> kind.equals(o.path("kind").asText()))
        .filter(o -> name.equals(o.at("/metadata/name").asText()))
        .filter(o -> namespace.equals(o.at("/metadata/namespace").asText()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + namespace + "/" + name));
  }

  /**
   * Everything namespaced is in the operator's namespace, but the Roles (and their bindings) that
   * give the rights to a mirror's workloads in each watched namespace.
   */
  void everyNamespacedObjectIsInTheOperatorsNamespace() {
    for (JsonNode o : objects) {
      String kind = o.path("kind").asText();
      String what = kind + " " + o.at("/metadata/name").asText();
      if (CLUSTER_SCOPED.contains(kind)) {
        assertThat(o.at("/metadata/namespace").isMissingNode()).as(what).isTrue();
      } else if (Set.of("Role", "RoleBinding").contains(kind)
          && !o.at("/metadata/namespace").asText().equals(namespace)) {
        assertThat(watched()).as(what).contains(o.at("/metadata/namespace").asText());
      } else {
        assertThat(o.at("/metadata/namespace").asText()).as(what).isEqualTo(namespace);
      }
    }
    assertThat(one("ClusterRoleBinding", name).path("subjects"))
        .singleElement()
        .satisfies(s -> assertThat(s.path("namespace").asText()).isEqualTo(namespace));
    for (JsonNode o : objects) {
      if (o.path("kind").asText().equals("RoleBinding")) {
        assertThat(o.path("subjects"))
            .singleElement()
            .satisfies(s -> assertThat(s.path("namespace").asText()).isEqualTo(namespace));
      }
    }
  }

  /** The rights to a mirror's ConfigMap, sync Job and CronJob. */
  static final Set<String> MIRROR_WORKLOADS = Set.of("configmaps", "jobs", "cronjobs");

  /**
   * With watched namespaces, the rights to a mirror's workloads are Roles there, not cluster-wide
   * (the operator's informers of them watch only those namespaces).
   */
  void mirrorWorkloadRightsAreWhereTheMirrorsAre() {
    JsonNode clusterRole = one("ClusterRole", name);
    List<String> clusterWide = new java.util.ArrayList<>();
    clusterRole.path("rules").forEach(r -> clusterWide.addAll(texts(r.path("resources"))));
    if (watched().isEmpty()) {
      assertThat(clusterWide).containsAll(MIRROR_WORKLOADS);
      return;
    }
    assertThat(clusterWide).doesNotContainAnyElementsOf(MIRROR_WORKLOADS);
    for (String ns : watched()) {
      JsonNode role =
          objects.stream()
              .filter(o -> o.path("kind").asText().equals("Role"))
              .filter(o -> o.at("/metadata/namespace").asText().equals(ns))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no Role in watched namespace " + ns));
      List<String> there = new java.util.ArrayList<>();
      role.path("rules").forEach(r -> there.addAll(texts(r.path("resources"))));
      assertThat(there).as("Role in %s", ns).containsExactlyInAnyOrderElementsOf(MIRROR_WORKLOADS);
      assertThat(objects)
          .anySatisfy(
              o -> {
                assertThat(o.path("kind").asText()).isEqualTo("RoleBinding");
                assertThat(o.at("/metadata/namespace").asText()).isEqualTo(ns);
                assertThat(o.at("/roleRef/name").asText())
                    .isEqualTo(role.at("/metadata/name").asText());
              });
    }
  }

  void rbacIsLeastPrivilege() {
    JsonNode clusterRole = one("ClusterRole", name);
    JsonNode role = own("Role");
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
        .as("create (which cannot be narrowed to a name), then only its own two by name")
        .hasSize(2)
        .allSatisfy(
            r ->
                assertThat(texts(r.path("resources")))
                    .containsExactlyInAnyOrder(
                        "mutatingwebhookconfigurations", "validatingwebhookconfigurations"))
        .anySatisfy(
            r -> {
              assertThat(texts(r.path("verbs"))).containsExactly("create");
              assertThat(r.has("resourceNames")).isFalse();
            })
        .anySatisfy(
            r -> {
              assertThat(texts(r.path("resourceNames"))).containsExactly(name);
              assertThat(texts(r.path("verbs"))).containsExactlyInAnyOrder("get", "patch");
            });
    assertThat(clusterRole.path("rules"))
        .as("its own ClusterRole, read to own the webhook configurations")
        .filteredOn(r -> texts(r.path("resources")).contains("clusterroles"))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(texts(r.path("resourceNames"))).containsExactly(name);
              assertThat(texts(r.path("verbs"))).containsExactly("get");
            });
    readOnly(
        clusterRole,
        "namespaces",
        "routing needs no namespace label: Namespaces are read, never written");
    readOnly(
        clusterRole,
        "replicasets",
        "the proxy's ReplicaSets, read to tell its pods from pods that copy their labels");
    assertThat(role.at("/metadata/namespace").asText()).isEqualTo(namespace);
    assertThat(role.path("rules"))
        .anySatisfy(r -> assertThat(texts(r.path("resources"))).containsExactly("secrets"));
    assertThat(role.path("rules"))
        .anySatisfy(r -> assertThat(texts(r.path("resources"))).containsExactly("leases"));
  }

  /** One rule of {@code role} names {@code resource}, with get, list and watch only. */
  private static void readOnly(JsonNode role, String resource, String why) {
    assertThat(role.path("rules"))
        .as(why)
        .filteredOn(r -> texts(r.path("resources")).contains(resource))
        .singleElement()
        .satisfies(
            r ->
                assertThat(texts(r.path("verbs")))
                    .containsExactlyInAnyOrder("get", "list", "watch"));
  }

  static final List<String> ADMISSION_POLICY_RESOURCES =
      List.of(
          "mutatingadmissionpolicies",
          "mutatingadmissionpolicybindings",
          "validatingadmissionpolicies",
          "validatingadmissionpolicybindings");

  /**
   * Admission-policy mode: a ClusterRole of its own, bound to the operator, with exactly the verbs
   * the leader uses on admission policies (no watch, no deletecollection, no escalation).
   */
  void admissionPolicyRights(String roleName) {
    JsonNode role = one("ClusterRole", roleName);
    assertThat(role.path("rules"))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(texts(r.path("apiGroups")))
                  .containsExactly("admissionregistration.k8s.io");
              assertThat(texts(r.path("resources")))
                  .containsExactlyInAnyOrderElementsOf(ADMISSION_POLICY_RESOURCES);
              assertThat(texts(r.path("verbs")))
                  .containsExactlyInAnyOrder("get", "list", "create", "update", "delete");
            });
    JsonNode binding = one("ClusterRoleBinding", roleName);
    assertThat(binding.at("/roleRef/name").asText()).isEqualTo(roleName);
    assertThat(binding.at("/subjects/0/name").asText()).isEqualTo(name);
    assertThat(binding.at("/subjects/0/namespace").asText()).isEqualTo(namespace);
    noAdmissionPolicyRightsIn(one("ClusterRole", name));
  }

  /** Webhook mode: no role of the install can touch admission policies. */
  void noAdmissionPolicyRights() {
    objects.stream()
        .filter(o -> List.of("ClusterRole", "Role").contains(o.path("kind").asText()))
        .forEach(this::noAdmissionPolicyRightsIn);
  }

  private void noAdmissionPolicyRightsIn(JsonNode role) {
    for (JsonNode rule : role.path("rules")) {
      assertThat(texts(rule.path("resources")))
          .as(role.at("/metadata/name").asText())
          .doesNotContainAnyElementsOf(ADMISSION_POLICY_RESOURCES);
    }
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

  /** The value of {@code --NAME=} among the manager's args, or null. */
  String arg(String option) {
    return texts(one("Deployment", name).at("/spec/template/spec/containers/0/args")).stream()
        .filter(a -> a.startsWith("--" + option + "="))
        .map(a -> a.substring(option.length() + 3))
        .findFirst()
        .orElse(null);
  }

  /**
   * The leader writes the webhook configurations: named as its ClusterRole (their owner, whose
   * rights name them), calling the webhook Service, with a valid failure policy and timeout.
   */
  void theOperatorIsToldItsWebhookConfigurations() {
    assertThat(arg("webhook-configuration")).isEqualTo(name);
    assertThat(arg("webhook-service")).isEqualTo(name + "-webhook");
    assertThat(find("Service", arg("webhook-service"))).isPresent();
    assertThat(arg("webhook-failure-policy")).isIn("Ignore", "Fail");
    assertThat(Integer.parseInt(arg("webhook-timeout"))).isBetween(1, 30);
    JsonNode manager = one("Deployment", name).at("/spec/template/spec/containers/0");
    assertThat(env(manager, "POD_NAME").at("/valueFrom/fieldRef/fieldPath").asText())
        .as("the operator reads its image from its own pod")
        .isEqualTo("metadata.name");
    assertThat(manager.path("env").toString()).doesNotContain("PYPI_MIRROR_INDEX_IMAGE");
  }

  /** The opt-in entry fails open, as documented. */
  void theWebhooksFailAsDocumented() {
    assertThat(arg("webhook-failure-policy")).isEqualTo("Ignore");
  }

  /** Drain delay, then admissions under way, then the reconcilers and the lease: in the grace. */
  void shutdownDrainsWithinTheGracePeriod() {
    JsonNode pod = one("Deployment", name).at("/spec/template/spec");
    JsonNode manager = pod.at("/containers/0");
    int drainDelay =
        arg("drain-delay") == null ? 10 : Integer.parseInt(arg("drain-delay")); // run's default
    int admissionTimeout = Integer.parseInt(arg("webhook-timeout"));
    assertThat(pod.path("terminationGracePeriodSeconds").asInt(30))
        .isGreaterThanOrEqualTo(drainDelay + admissionTimeout + 5);
    assertThat(manager.at("/readinessProbe/periodSeconds").asInt()).isLessThanOrEqualTo(drainDelay);
  }

  /**
   * cert-manager issues the serving certificate: the operator's leader keeps the Certificate (for
   * its own namespace's DNS names, so the install holds none) from an issuer the install has or
   * names, with the right to that in its own namespace only; cainjector injects the CA.
   */
  void certManagerIssuesTheCertificate() {
    assertThat(find("Certificate", name + "-webhook"))
        .as("the operator keeps the Certificate: nothing applied holds the namespace's DNS names")
        .isEmpty();
    assertThat(arg("webhook-certs")).isEqualTo("cert-manager");
    assertThat(arg("cert-manager-certificate"))
        .as("the operator annotates its webhook configurations for cainjector")
        .isEqualTo(name + "-webhook");
    String[] issuer = arg("cert-manager-issuer").split("/");
    assertThat(issuer[0]).isIn("Issuer", "ClusterIssuer");
    if (issuer[0].equals("Issuer")) {
      assertThat(find("Issuer", issuer[1]))
          .as("the named Issuer is installed, or given (webhook.certManager.issuerRef)")
          .isPresent()
          .hasValueSatisfying(
              i -> assertThat(i.at("/metadata/namespace").asText()).isEqualTo(namespace));
    }
    JsonNode pod = one("Deployment", name).at("/spec/template/spec");
    assertThat(texts(pod.at("/containers/0/args")))
        .noneMatch(a -> a.startsWith("--tls-cert-file") || a.startsWith("--tls-key-file"));
    assertThat(pod.path("volumes"))
        .as("the Secret is read through the API, so a pod never waits for it")
        .noneSatisfy(v -> assertThat(v.has("secret")).isTrue());
    assertThat(own("Role").path("rules"))
        .anySatisfy(
            r -> {
              assertThat(texts(r.path("resources"))).containsExactly("certificates");
              assertThat(texts(r.path("verbs")))
                  .containsExactlyInAnyOrder("get", "create", "update");
            });
    assertThat(one("ClusterRole", name).toString()).doesNotContain("certificates");
  }
}
