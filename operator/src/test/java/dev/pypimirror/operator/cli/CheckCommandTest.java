package dev.pypimirror.operator.cli;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.PodInjector;
import dev.pypimirror.operator.inspect.PodCheck;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code check} against the mock API server (CRUD mode) as the cluster of the kubeconfig: each rule
 * of the injection contract, an enforced namespace, and existing pods that do or do not carry what
 * the webhook decides.
 */
@EnableKubernetesMockClient(crud = true)
class CheckCommandTest {
  static final List<String> CLIENT_PROPERTIES =
      List.of(
          Config.KUBERNETES_MASTER_SYSTEM_PROPERTY,
          Config.KUBERNETES_TRUST_CERT_SYSTEM_PROPERTY,
          Config.KUBERNETES_AUTH_TRYKUBECONFIG_SYSTEM_PROPERTY,
          Config.KUBERNETES_AUTH_TRYSERVICEACCOUNT_SYSTEM_PROPERTY,
          Config.KUBERNETES_NAMESPACE_SYSTEM_PROPERTY,
          Config.KUBERNETES_REQUEST_RETRY_BACKOFFLIMIT_SYSTEM_PROPERTY);

  KubernetesClient client;

  @BeforeEach
  void cluster() throws Exception {
    System.setProperty(Config.KUBERNETES_MASTER_SYSTEM_PROPERTY, client.getMasterUrl().toString());
    System.setProperty(Config.KUBERNETES_TRUST_CERT_SYSTEM_PROPERTY, "true");
    System.setProperty(Config.KUBERNETES_AUTH_TRYKUBECONFIG_SYSTEM_PROPERTY, "false");
    System.setProperty(Config.KUBERNETES_AUTH_TRYSERVICEACCOUNT_SYSTEM_PROPERTY, "false");
    System.setProperty(Config.KUBERNETES_NAMESPACE_SYSTEM_PROPERTY, "builds");
    MockCluster.installCrds(client);
    MockCluster.namespace(client, "builds", Map.of("kubernetes.io/metadata.name", "builds"));
    MockCluster.namespace(client, "kube-system", Map.of());
  }

  @AfterEach
  void forgetTheCluster() {
    CLIENT_PROPERTIES.forEach(System::clearProperty);
  }

  @Test
  void rule1SystemNamespacesAndStaticPodsAreNeverInjected() {
    pod("kube-system", "dns", Map.of("pypimirror.dev/inject", "true"), Map.of());
    pod(
        "builds",
        "static",
        Map.of("kubernetes.io/config.mirror", "x", "pypimirror.dev/mirror", "corp"),
        Map.of());

    var system = run("", "check", "-n", "kube-system", "dns");
    var staticPod = run("", "check", "static");

    assertThat(system.status()).as(system.err()).isEqualTo(PodCheck.NOT_A_TARGET);
    assertThat(system.out()).contains("Rule:").contains("1. never injected: namespace kube-system");
    assertThat(staticPod.status()).isEqualTo(PodCheck.NOT_A_TARGET);
    assertThat(staticPod.out()).contains("1. never injected: static pod");
  }

  @Test
  void rule2OptedOutIsLeftAlone() {
    mirror("builds", "corp", true, Map.of());
    pod("builds", "p", Map.of("pypimirror.dev/inject", "false"), Map.of());

    var result = run("", "check", "p");

    assertThat(result.status()).isEqualTo(PodCheck.NOT_A_TARGET);
    assertThat(result.out())
        .contains("2. pypimirror.dev/inject: \"false\": opted out")
        .contains("leave the pod untouched: opted out")
        .contains("Pod carries:")
        .contains("no mirror, as decided");
  }

  @Test
  void rule3ANamedReadyMirrorAndAPodCreatedWithoutIt() {
    mirror("builds", "corp", true, Map.of());
    pod("builds", "missed", Map.of("pypimirror.dev/mirror", "corp"), Map.of());

    var result = run("", "check", "-n", "builds", "missed");

    assertThat(result.status()).as(result.out() + result.err()).isEqualTo(PodCheck.DIFFERS);
    assertThat(result.out())
        .contains("3. pypimirror.dev/mirror: corp")
        .contains("corp: Ready for generation 1")
        .contains("inject PypiMirror corp, adding:")
        .contains("+ volume pypi-mirror-config: ConfigMap pypi-mirror-corp")
        .contains("+ container c mounts /etc/pip.conf <- pip.conf (read-only)")
        .contains("no pypimirror.dev/injected: created while the webhook was unavailable");
  }

  @Test
  void rule3AMirrorNotReadyForItsGenerationIsExplained() {
    PypiMirror corp = mirror("builds", "corp", true, Map.of());
    corp.getSpec().getIndexes().get(0).setUrl("https://devpi.corp.example/other/+simple/");
    client.resource(corp).update(); // generation 2; the status still describes generation 1
    String pod =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {pypimirror.dev/mirror: corp}}\nspec: {containers: [{name: c}]}\n";

    var result = run(pod, "check", "-f", "-");

    assertThat(result.out())
        .contains("Pod:")
        .contains("builds/Pod/p (not created)")
        .contains("corp: Ready for generation 1, but the spec is at generation 2");
  }

  @Test
  void rule3AMissingMirrorMeansNoMirror() {
    var result =
        run(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: builds, annotations: {pypimirror.dev/mirror: nope}}\nspec: {containers: [{name: c}]}\n",
            "check",
            "-f",
            "-");

    assertThat(result.status()).isEqualTo(PodCheck.NO_MIRROR);
    assertThat(result.out())
        .contains("Mirrors:")
        .contains("none in namespace builds")
        .contains(
            "admit the pod without a mirror, annotated pypimirror.dev/skipped: mirror-not-ready")
        .contains("PypiMirror builds/nope not found");
  }

  @Test
  void rule4TheNamespaceDefaultAndAPodThatCarriesIt() {
    mirror("builds", "a", true, Map.of());
    mirror("builds", "corp", true, Map.of("pypimirror.dev/default", "true"));
    Pod created = injectedPod("builds", "good", Map.of("pypimirror.dev/inject", "true"));

    var result = run("", "check", "good");

    assertThat(result.status()).as(result.out()).isEqualTo(PodCheck.OK);
    assertThat(result.out())
        .contains("4. pypimirror.dev/inject: \"true\": the namespace's default mirror")
        .contains("corp: Ready for generation 1 [default]")
        .contains(
            "pypimirror.dev/injected: "
                + created.getMetadata().getAnnotations().get("pypimirror.dev/injected")
                + ", the mirror's current configuration");
  }

  @Test
  void anInjectedPodWhoseMirrorChangedSinceIsStale() {
    PypiMirror corp = mirror("builds", "corp", true, Map.of());
    Pod created = injectedPod("builds", "old", Map.of("pypimirror.dev/mirror", "corp"));
    corp = client.resources(PypiMirror.class).inNamespace("builds").withName("corp").get();
    corp.getSpec().getIndexes().get(0).setUrl("https://devpi.corp.example/new/+simple/");
    corp = client.resource(corp).update();
    // reconciled: the webhook injects a mirror only once its status describes the new spec
    corp.getStatus().setObservedGeneration(corp.getMetadata().getGeneration());
    corp.getStatus()
        .getConditions()
        .get(0)
        .setObservedGeneration(corp.getMetadata().getGeneration());
    client.resource(corp).updateStatus();

    var result = run("", "check", "old");

    assertThat(result.status()).isEqualTo(PodCheck.DIFFERS);
    assertThat(result.out())
        .contains(
            "pypimirror.dev/injected: "
                + created.getMetadata().getAnnotations().get("pypimirror.dev/injected")
                + ", but the mirror's configuration is now corp@");
  }

  @Test
  void aMarkerWithoutTheMirrorsVolumeIsCalledOut() {
    mirror("builds", "corp", true, Map.of());
    Pod good = injectedPod("builds", "model", Map.of("pypimirror.dev/mirror", "corp"));
    String marker = good.getMetadata().getAnnotations().get("pypimirror.dev/injected");
    pod(
        "builds",
        "forged",
        Map.of("pypimirror.dev/mirror", "corp", "pypimirror.dev/injected", marker),
        Map.of());

    var result = run("", "check", "forged");

    assertThat(result.status()).isEqualTo(PodCheck.DIFFERS);
    assertThat(result.out()).contains("the marker was not written by the webhook");
  }

  @Test
  void rule5AnAdvisoryPolicysPodSelector() {
    PypiMirrorPolicy policy =
        Policies.policy(
            "team",
            Map.of("kubernetes.io/metadata.name", "builds"),
            Mirrors.spec(Mirrors.https("https://devpi.corp.example/+simple/")),
            false);
    policy
        .getSpec()
        .setPodSelector(
            new LabelSelectorBuilder().withMatchLabels(Map.of("role", "build")).build());
    client.resource(policy).create();
    mirror("builds", "team", true, Map.of(), Map.of("pypimirror.dev/policy", "team"));
    pod("builds", "build", Map.of(), Map.of("role", "build"));
    pod("builds", "web", Map.of(), Map.of("role", "web"));

    var build = run("", "check", "build");
    var web = run("", "check", "web");

    assertThat(build.status()).isEqualTo(PodCheck.DIFFERS);
    assertThat(build.out())
        .contains(
            "team (Advisory, priority 0) governs namespace builds; podSelector role=build (matches)")
        .contains("5. selected by PypiMirrorPolicy team's podSelector")
        .contains("team: Ready for generation 1 [made by PypiMirrorPolicy team]")
        .contains("inject PypiMirror team");
    assertThat(web.status()).isEqualTo(PodCheck.NOT_A_TARGET);
    assertThat(web.out())
        .contains("(does not match)")
        .contains(
            "6. no pypimirror.dev/mirror or pypimirror.dev/inject annotation and not selected by the podSelector of PypiMirrorPolicy team: untouched");
  }

  @Test
  void rule6NothingAsksSoNothingHappens() {
    mirror("builds", "corp", true, Map.of());

    var result =
        run(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {containers: [{name: c}]}}}\n",
            "check",
            "-f",
            "-");

    assertThat(result.status()).isEqualTo(PodCheck.NOT_A_TARGET);
    assertThat(result.out())
        .contains("Policy:")
        .contains("none governs namespace builds")
        .contains("6. no pypimirror.dev/mirror or pypimirror.dev/inject annotation: untouched")
        .contains("leave the pod untouched: no injection annotation")
        .doesNotContain("Pod carries");
  }

  @Test
  void anEnforcedNamespace() {
    PypiMirrorPolicy policy =
        Policies.policy(
            "corp-builds",
            Map.of("kubernetes.io/metadata.name", "builds"),
            Mirrors.spec(Mirrors.https("https://devpi.corp.example/+simple/")),
            true);
    client.resource(policy).create();
    String optedOut =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {pypimirror.dev/inject: \"false\"}}\nspec: {containers: [{name: c}]}\n";

    var beforeTheMirror = run(optedOut, "check", "-f", "-");
    var namespaceBefore = run("", "check", "-n", "builds");
    mirror("builds", "corp-builds", true, Map.of(), Map.of("pypimirror.dev/policy", "corp-builds"));
    var withTheMirror = run(optedOut, "check", "-f", "-");
    var namespaceAfter = run("", "check");

    assertThat(beforeTheMirror.status()).isEqualTo(PodCheck.NO_MIRROR);
    assertThat(beforeTheMirror.out())
        .contains("corp-builds (Enforce, priority 0) governs namespace builds")
        .contains(
            "2. pypimirror.dev/inject: \"false\", ignored: PypiMirrorPolicy corp-builds enforces the mirror")
        .contains("refuse the pod: PypiMirrorPolicy corp-builds enforces a PyPI mirror here");
    assertThat(namespaceBefore.status()).isEqualTo(PodCheck.NO_MIRROR);
    assertThat(namespaceBefore.out())
        .contains("Fail-closed:")
        .contains("not yet: no fail-closed webhook entry corp-builds.policy.pypimirror.dev");
    assertThat(withTheMirror.status()).as(withTheMirror.out()).isEqualTo(PodCheck.OK);
    assertThat(withTheMirror.out()).contains("inject PypiMirror corp-builds");
    assertThat(namespaceAfter.status()).isEqualTo(PodCheck.OK);
    assertThat(namespaceAfter.out())
        .contains("inject: \"true\" gets:")
        .contains("PypiMirror corp-builds");
  }

  @Test
  void badInputAndAMissingPod() {
    var both = run("", "check", "p", "-f", "x.yaml");
    var missing = run("", "check", "nope");
    var notAPod = run("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", "check", "-f", "-");
    var otherNamespace =
        run(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: [{name: c}]}\n",
            "check",
            "-n",
            "b",
            "-f",
            "-");

    assertThat(both.status()).isEqualTo(2);
    assertThat(missing.status()).isEqualTo(2);
    assertThat(missing.err()).isEqualTo("error: pods \"nope\" not found in namespace builds\n");
    assertThat(notAPod.status()).isEqualTo(2);
    assertThat(otherNamespace.err())
        .isEqualTo("error: the namespace of the object (a) does not match --namespace b\n");
  }

  @Test
  void anUnreachableClusterIsExitOneWithTheCause() {
    System.setProperty(Config.KUBERNETES_MASTER_SYSTEM_PROPERTY, "https://127.0.0.1:1");
    System.setProperty(Config.KUBERNETES_REQUEST_RETRY_BACKOFFLIMIT_SYSTEM_PROPERTY, "0");

    var result = run("", "check", "-n", "builds");

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err())
        .isEqualTo(
            "error: cannot reach the cluster at https://127.0.0.1:1/: the connection was refused"
                + " (nothing listens there)\n");
  }

  /** A kubeconfig with the mock server as context "mock" (namespace builds) and two others. */
  private java.nio.file.Path kubeconfig(java.nio.file.Path dir) throws Exception {
    java.nio.file.Path file = dir.resolve("config");
    java.nio.file.Files.writeString(
        file,
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: mock
          cluster: {server: "%s", insecure-skip-tls-verify: true}
        - name: nowhere
          cluster: {server: "https://nowhere.invalid:6443"}
        contexts:
        - name: mock
          context: {cluster: mock, user: u, namespace: builds}
        - name: nowhere
          context: {cluster: nowhere, user: u}
        current-context: nowhere
        users:
        - name: u
          user: {token: t}
        """
            .formatted(client.getMasterUrl()));
    return file;
  }

  @Test
  void kubeconfigAndContextChooseTheCluster(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    mirror("builds", "corp", true, Map.of());
    pod("builds", "p", Map.of("pypimirror.dev/inject", "false"), Map.of());
    java.nio.file.Path config = kubeconfig(dir);
    CLIENT_PROPERTIES.forEach(System::clearProperty); // the file alone says where

    var mock = run("", "check", "--kubeconfig", config.toString(), "--context", "mock", "p");
    var current = run("", "check", "--kubeconfig", config.toString(), "p");
    var noContext = run("", "check", "--kubeconfig", config.toString(), "--context", "prod", "p");
    var noFile = run("", "check", "--kubeconfig", dir.resolve("nope").toString(), "p");

    assertThat(mock.status()).as(mock.err()).isEqualTo(PodCheck.NOT_A_TARGET);
    assertThat(mock.out()).contains("Pod:           builds/p"); // the context's namespace
    assertThat(current.status()).isEqualTo(1);
    assertThat(current.err())
        .isEqualTo(
            "error: cannot reach the cluster at https://nowhere.invalid:6443/: the host name"
                + " nowhere.invalid does not resolve\n");
    assertThat(noContext.status()).isEqualTo(2);
    assertThat(noContext.err())
        .isEqualTo(
            "error: --context prod: no such context in "
                + config
                + " (kubectl config get-contexts lists them)\n");
    assertThat(noFile.status()).isEqualTo(2);
    assertThat(noFile.err())
        .isEqualTo("error: --kubeconfig " + dir.resolve("nope") + ": no such file\n");
  }

  @Test
  void aFolderOfManifestsIsCheckedObjectByObject(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    mirror("builds", "corp", true, Map.of());
    java.nio.file.Files.createDirectories(dir.resolve("sub"));
    java.nio.file.Files.writeString(
        dir.resolve("a.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: asks}\nspec: {containers: [{name: c}]}\n"
            + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n");
    java.nio.file.Files.writeString(
        dir.resolve("b.yml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: named, annotations:"
            + " {pypimirror.dev/mirror: corp}}\nspec: {containers: [{name: c}]}\n");
    java.nio.file.Files.writeString(dir.resolve("notes.txt"), "not a manifest");
    java.nio.file.Files.writeString(
        dir.resolve("sub/c.json"),
        "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"deep\","
            + " \"annotations\": {\"pypimirror.dev/mirror\": \"gone\"}},"
            + " \"spec\": {\"containers\": [{\"name\": \"c\"}]}}");

    var flat = run("", "check", "-f", dir.toString());
    var recursive = run("", "check", "-f", dir.toString(), "-R");

    assertThat(flat.status()).as(flat.err()).isEqualTo(PodCheck.NOT_A_TARGET);
    assertThat(flat.out())
        .containsSubsequence(
            "Pod:           builds/Pod/asks (not created)",
            "\n\nPod:           builds/Pod/named (not created)")
        .doesNotContain("Pod/deep");
    assertThat(flat.err())
        .isEqualTo(
            "note: "
                + dir.resolve("a.yaml")
                + " (document 2): ConfigMap skipped: not a Pod or workload\n");
    assertThat(recursive.status())
        .as("the highest status: a missing mirror")
        .isEqualTo(PodCheck.NO_MIRROR);
    assertThat(recursive.out()).contains("Pod:           builds/Pod/deep (not created)");
  }

  private PypiMirror mirror(
      String ns, String name, boolean ready, Map<String, String> annotations) {
    return mirror(ns, name, ready, annotations, Map.of());
  }

  private PypiMirror mirror(
      String ns,
      String name,
      boolean ready,
      Map<String, String> annotations,
      Map<String, String> labels) {
    PypiMirror mirror =
        Mirrors.mirror(
            ns, name, Mirrors.spec(Mirrors.https("https://devpi.corp.example/+simple/")));
    mirror.getMetadata().setAnnotations(annotations);
    mirror.getMetadata().setLabels(labels);
    PypiMirror created = client.resource(mirror).create();
    PypiMirrorStatus status = new PypiMirrorStatus();
    long generation =
        created.getMetadata().getGeneration() == null ? 1 : created.getMetadata().getGeneration();
    status.setObservedGeneration(generation);
    status.setConditions(
        List.of(
            Conditions.of(
                Conditions.READY,
                ready,
                ready ? "Ready" : "InvalidSpec",
                ready ? "ok" : "broken",
                generation)));
    created.setStatus(status);
    return client.resource(created).updateStatus();
  }

  private Pod pod(
      String ns, String name, Map<String, String> annotations, Map<String, String> labels) {
    return client.resource(podObject(ns, name, annotations, labels)).create();
  }

  private static Pod podObject(
      String ns, String name, Map<String, String> annotations, Map<String, String> labels) {
    return Serialization.unmarshal(
        """
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "%s", "namespace": "%s", "annotations": %s, "labels": %s},
         "spec": {"containers": [{"name": "c", "image": "kaniko"}]}}
        """
            .formatted(name, ns, Serialization.asJson(annotations), Serialization.asJson(labels)),
        Pod.class);
  }

  /** Created as the webhook would have injected it (the mock server calls no webhook). */
  private Pod injectedPod(String ns, String name, Map<String, String> annotations) {
    var json = Serialization.jsonMapper().valueToTree(podObject(ns, name, annotations, Map.of()));
    var mirrors =
        client
            .resources(PypiMirror.class)
            .inNamespace(ns)
            .list()
            .getItems()
            .toArray(PypiMirror[]::new);
    InjectionPlan plan = PodInjector.inject(json, ns, null, Pods.directory(mirrors));
    assertThat(plan.outcome()).isEqualTo(InjectionPlan.Outcome.INJECTED);
    Pod injected =
        Serialization.jsonMapper().convertValue(Pods.applyPatch(json, plan.patch()), Pod.class);
    return client.resource(injected).create();
  }

  @Test
  void aProxiedMirrorIsShownWithItsProxyAndWhetherItIsReady() {
    PypiMirror mirror =
        Mirrors.mirror(
            "builds", "corp", Mirrors.withProxy(Mirrors.spec(Mirrors.https("https://a/simple/"))));
    PypiMirrorStatus status = new PypiMirrorStatus();
    status.setProxyUrl("http://pypi-mirror-corp-proxy.builds.svc:8080/simple/");
    status.setConditions(
        List.of(
            Conditions.of(Conditions.READY, true, Conditions.REASON_READY, "ok", 1),
            Conditions.of(
                Conditions.PROXY_READY, false, Conditions.REASON_UNAVAILABLE, "starting", 1)));
    mirror.setStatus(status);

    assertThat(PodCheck.readiness(mirror))
        .isEqualTo(
            "corp: Ready [served by its caching proxy"
                + " http://pypi-mirror-corp-proxy.builds.svc:8080/simple/, ProxyReady False"
                + " (Unavailable)]");
  }
}
