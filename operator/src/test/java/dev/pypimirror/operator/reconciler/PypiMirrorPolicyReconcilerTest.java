package dev.pypimirror.operator.reconciler;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static dev.pypimirror.operator.testing.MockCluster.namespace;
import static dev.pypimirror.operator.testing.MockCluster.relabel;
import static dev.pypimirror.operator.testing.Policies.policy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.testing.MockCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The policy reconciler against the mock API server, one fresh cluster per test. */
@EnableKubernetesMockClient(crud = true)
class PypiMirrorPolicyReconcilerTest {
  KubernetesMockServer server;
  KubernetesClient client;
  MirrorOperator operator;

  static final PypiMirrorSpec DEVPI = spec(https("https://devpi.corp.example/root/pypi/+simple/"));

  @BeforeEach
  void start() throws Exception {
    operator = MockCluster.startOperator(client);
  }

  @AfterEach
  void stop() {
    operator.close();
  }

  PypiMirror mirrorIn(String ns, String name) {
    return client.resources(PypiMirror.class).inNamespace(ns).withName(name).get();
  }

  PypiMirrorPolicy policyNamed(String name) {
    return client.resources(PypiMirrorPolicy.class).withName(name).get();
  }

  void awaitStatus(String policy, int governed, int made, int violations) {
    await()
        .atMost(Duration.ofSeconds(15))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              var status = policyNamed(policy).getStatus();
              assertThat(status).isNotNull();
              assertThat(
                      new int[] {
                        status.getGovernedNamespaces(),
                        status.getMirrorsMade(),
                        status.getViolations()
                      })
                  .as("governed, made, violations")
                  .containsExactly(governed, made, violations);
              assertThat(status.getNamespaces()).as("the governed namespaces").hasSize(governed);
            });
  }

  @Test
  void restrictEgressWritesTheNetworkPolicyInEveryGovernedNamespaceAndRemovesItWhenOff() {
    namespace(client, "ml-1", Map.of("team", "ml"));
    namespace(client, "web", Map.of("team", "web"));
    PypiMirrorPolicy policy = dev.pypimirror.operator.policy.EgressPoliciesTest.restricting();
    client.resource(policy).create();
    var policies = client.network().v1().networkPolicies();

    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () ->
                assertThat(
                        policies
                            .inNamespace("ml-1")
                            .withName("pypi-mirror-corp-builds-egress")
                            .get())
                    .isNotNull());
    assertThat(policies.inNamespace("web").list().getItems()).isEmpty();

    // a patch of the change: a read-then-update races the operator's status write (409)
    client
        .resources(PypiMirrorPolicy.class)
        .withName("corp-builds")
        .edit(
            p -> {
              p.getSpec().setRestrictEgress(false);
              return p;
            });

    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(() -> assertThat(policies.inAnyNamespace().list().getItems()).isEmpty());
  }

  @Test
  void theMirrorFollowsNamespacesAsTheyAreLabelledAndUnlabelled() {
    namespace(client, "ml-1", Map.of("team", "ml"));
    namespace(client, "web", Map.of("team", "web"));
    namespace(client, "kube-system", Map.of("team", "ml"));
    PypiMirrorPolicy created =
        client.resource(policy("corp-builds", Map.of("team", "ml"), DEVPI, false)).create();

    awaitStatus("corp-builds", 1, 1, 0);
    assertThat(policyNamed("corp-builds").getStatus().getNamespaces()).containsExactly("ml-1");
    PypiMirror made = mirrorIn("ml-1", "corp-builds");
    assertThat(made.getSpec().getIndexes().get(0).getUrl())
        .isEqualTo("https://devpi.corp.example/root/pypi/+simple/");
    assertThat(made.getMetadata().getLabels())
        .containsEntry("pypimirror.dev/policy", "corp-builds")
        .containsEntry("app.kubernetes.io/managed-by", "pypi-mirror-operator");
    assertThat(made.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(r -> assertThat(r.getUid()).isEqualTo(created.getMetadata().getUid()));
    assertThat(mirrorIn("web", "corp-builds")).isNull();
    assertThat(mirrorIn("kube-system", "corp-builds"))
        .as("system namespaces are never governed")
        .isNull();
    await()
        .untilAsserted(
            () -> assertThat(mirrorIn("ml-1", "corp-builds").getStatus().isReady()).isTrue());

    relabel(client, "web", Map.of("team", "ml"));
    awaitStatus("corp-builds", 2, 2, 0);
    assertThat(mirrorIn("web", "corp-builds")).isNotNull();

    relabel(client, "ml-1", Map.of("team", "data"));
    awaitStatus("corp-builds", 1, 1, 0);
    await().until(() -> mirrorIn("ml-1", "corp-builds") == null);

    client
        .resources(PypiMirrorPolicy.class)
        .withName("corp-builds")
        .edit(
            p -> {
              p.getSpec().setMirror(spec(https("https://devpi.corp.example/v2/+simple/")));
              return p;
            });
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(
            () ->
                assertThat(mirrorIn("web", "corp-builds").getSpec().getIndexes().get(0).getUrl())
                    .isEqualTo("https://devpi.corp.example/v2/+simple/"));
  }

  @Test
  void aUsersMirrorOfThePolicysNameIsLeftIntactAndReported() {
    namespace(client, "ml-2", Map.of("team", "ml"));
    PypiMirror users =
        client
            .resource(
                mirror("ml-2", "corp-builds", spec(https("https://devpi.corp.example/mine/"))))
            .create();
    client.resource(policy("corp-builds", Map.of("team", "ml"), DEVPI, false)).create();

    await()
        .atMost(Duration.ofSeconds(15))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              var ready = policyNamed("corp-builds").getStatus().condition("Ready").orElseThrow();
              assertThat(ready.getReason()).isEqualTo("Conflict");
              assertThat(ready.getMessage()).contains("ml-2/corp-builds");
            });
    PypiMirror after = mirrorIn("ml-2", "corp-builds");
    assertThat(after.getSpec().getIndexes().get(0).getUrl())
        .isEqualTo("https://devpi.corp.example/mine/");
    assertThat(after.getMetadata().getLabels()).isNullOrEmpty();
    assertThat(after.getMetadata().getOwnerReferences()).isNullOrEmpty();
    assertThat(after.getMetadata().getUid()).isEqualTo(users.getMetadata().getUid());
  }

  @Test
  void overlappingPoliciesResolveByPriorityThenNameAndTheLoserSaysSo() {
    namespace(client, "ml-3", Map.of("team", "ml"));
    client.resource(policy("b-policy", Map.of("team", "ml"), DEVPI, false)).create();
    client.resource(policy("a-policy", Map.of(), DEVPI, false)).create();

    awaitStatus("a-policy", 1, 1, 0);
    awaitStatus("b-policy", 0, 0, 0);
    assertThat(policyNamed("b-policy").getStatus().getOverlaps())
        .containsExactly("ml-3 (a-policy)");
    assertThat(
            policyNamed("b-policy").getStatus().condition("Overlapping").orElseThrow().getStatus())
        .isEqualTo("True");

    client
        .resources(PypiMirrorPolicy.class)
        .withName("b-policy")
        .edit(
            p -> {
              p.getSpec().setPriority(10);
              return p;
            });
    awaitStatus("b-policy", 1, 1, 0);
    awaitStatus("a-policy", 0, 0, 0);
    await().untilAsserted(() -> assertThat(mirrorIn("ml-3", "a-policy")).isNull());
    assertThat(mirrorIn("ml-3", "b-policy")).isNotNull();
  }

  @Test
  void aPolicyWithAMalformedSelectorSaysSoWhileTheOthersGovernAndNoNamespaceIsWritten() {
    namespace(client, "ml-4", Map.of("team", "ml"));
    PypiMirrorPolicy broken = policy("a-broken", Map.of(), DEVPI, true);
    broken.getSpec().setPriority(100);
    broken
        .getSpec()
        .setNamespaceSelector(
            new io.fabric8.kubernetes.api.model.LabelSelectorBuilder()
                .addNewMatchExpression()
                .withKey("team")
                .endMatchExpression()
                .build());
    client.resource(broken).create(); // the mock server does not apply the CRD's rules
    client.resource(policy("corp-builds", Map.of("team", "ml"), DEVPI, true)).create();

    awaitStatus("corp-builds", 1, 1, 0);
    awaitStatus("a-broken", 0, 0, 0);
    var ready = policyNamed("a-broken").getStatus().condition("Ready").orElseThrow();
    assertThat(ready.getStatus() + "/" + ready.getReason()).isEqualTo("False/InvalidSpec");
    assertThat(ready.getMessage())
        .contains("spec.namespaceSelector.matchExpressions[0].operator is required");
    assertThat(client.namespaces().withName("ml-4").get().getMetadata().getLabels())
        .as("routing is derived from the policies: no namespace label is written")
        .containsOnlyKeys("team");
  }

  @Test
  void mirrorsThatBreakThePolicyAreCountedAndNotReady() {
    namespace(client, "ml-5", Map.of("team", "ml"));
    client
        .resource(mirror("ml-5", "legacy", spec(trustedHttp("http://10.0.0.5:3141/simple/"))))
        .create();
    await()
        .ignoreExceptions() // no status until the first reconcile has written one
        .untilAsserted(() -> assertThat(mirrorIn("ml-5", "legacy").getStatus().isReady()).isTrue());

    PypiMirrorPolicy strict = policy("corp-builds", Map.of("team", "ml"), null, true);
    strict.getSpec().setAllowInsecureHttp(false);
    client.resource(strict).create();

    awaitStatus("corp-builds", 1, 0, 1);
    assertThat(policyNamed("corp-builds").getStatus().getViolatingMirrors())
        .containsExactly(
            "ml-5/legacy: PypiMirrorPolicy corp-builds: allowInsecureHttp is false, but spec.indexes[0].url is plain http: http://10.0.0.5:3141/simple/");
    await()
        .atMost(Duration.ofSeconds(15))
        .ignoreExceptions()
        .untilAsserted(
            () -> {
              var ready = mirrorIn("ml-5", "legacy").getStatus().condition("Ready").orElseThrow();
              assertThat(ready.getStatus() + "/" + ready.getReason())
                  .isEqualTo("False/PolicyViolation");
              assertThat(ready.getMessage()).contains("allowInsecureHttp is false");
            });
  }
}
