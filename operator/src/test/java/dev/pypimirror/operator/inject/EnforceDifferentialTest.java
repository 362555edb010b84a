package dev.pypimirror.operator.inject;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.admissionpolicy.PolicyModeDifferential;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.fuzz.EnforcedPodFuzzTest;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.testing.ProjectPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Admission-policy mode against webhook mode under an Enforce policy, on the test API server: the
 * pod stored after the mutating and validating admission policies equals the pod stored after the
 * webhook's patch, or both refuse (with the same message, unless one refusal is the API server's
 * own pod validation). The pods: the Enforce fuzzer's corpus, every pod of the injection golden
 * set, the property generator's, and the allow-list's cases.
 */
class EnforceDifferentialTest {
  /**
   * Generated pods: a third of the webhook-mode differential's 300, since each takes about five
   * times as long through the Enforce policies' CEL (300 took 70 s of the build); as many as there
   * with {@code -Dpypimirror.differential.pods=N}.
   */
  static final int GENERATED = Integer.getInteger("pypimirror.differential.pods", 100);

  @Test
  void theEnforceFuzzCorpusIsStoredAlike() throws IOException {
    List<JsonNode> pods = new ArrayList<>();
    Path inputs =
        ProjectPaths.ROOT.resolve(
            "operator/src/test/resources/dev/pypimirror/operator/fuzz/EnforcedPodFuzzTestInputs/enforcedPods");
    try (Stream<Path> files = Files.list(inputs)) {
      for (Path file : files.sorted().toList()) {
        pods.add(
            EnforcedPodFuzzTest.pod(
                new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.UTF_8)));
      }
    }
    assertThat(pods).hasSizeGreaterThan(10);
    PypiMirrorPolicy policy = EnforcedPodFuzzTest.policy();
    Outcomes outcomes =
        compare(
            EnforcedPodFuzzTest.NAMESPACE,
            Pods.directory(EnforcedPodFuzzTest.policyMirror()),
            policy,
            pods);
    assertThat(outcomes.injected).as("injected").isPositive();
    assertThat(outcomes.refused).as("refused").isPositive();
  }

  @Test
  void goldenPodsAreStoredAlikeUnderEnforce() throws IOException {
    List<JsonNode> pods = AdmissionPolicyDifferentialTest.goldenPods();
    Outcomes outcomes = compare("builds", directory("builds"), enforcing(List.of()), pods);
    assertThat(outcomes.injected).isGreaterThan(5);
  }

  @Test
  void generatedPodsAreStoredAlikeUnderEnforce() {
    InjectionPropertyTest generator = new InjectionPropertyTest();
    Random random = new Random(20261205);
    List<JsonNode> pods = new ArrayList<>();
    for (int i = 0; i < GENERATED; i++) {
      pods.add(generator.randomPod(random));
    }
    Outcomes outcomes = compare("builds", directory("builds"), enforcing(List.of()), pods);
    assertThat(outcomes.injected).isGreaterThan(GENERATED / 4);
  }

  /** The allow-list: what Enforce removes, refuses, and keeps when the policy allows it. */
  @Test
  void theAllowListRemovesAndRefusesAlike() {
    List<JsonNode> pods = new ArrayList<>();
    for (String env :
        List.of(
            "PIP_INDEX_URL=https://evil.example/simple/",
            "pip_index_url=https://evil.example/simple/",
            "PIP_TIMEOUT=60",
            "PIP_--EXTRA-INDEX-URL=https://evil.example/simple/",
            "UV_INDEX=https://evil.example/simple/",
            "UV_HTTP_TIMEOUT=60",
            "_PIP_USE_IMPORTLIB_METADATA=0",
            "PYTHONPATH=/evil",
            "PYTHONUNBUFFERED=1",
            "https_proxy=http://evil.example:3128",
            "LD_PRELOAD=/evil.so",
            "GIT_SSH_COMMAND=evil",
            "SSL_CERT_FILE=/evil.pem",
            "HOME=/home/builder",
            "HOME=relative",
            "PATH=/usr/bin",
            "APP_MODE=release")) {
      String[] pair = env.split("=", 2);
      pods.add(
          buildPod(
              "{name: p}",
              """
              env:
              - {name: KEEP, value: "1"}
              - {name: "%s", value: "%s"}
              - {name: PIP_CONFIG_FILE, valueFrom: {configMapKeyRef: {name: x, key: y}}}
              envFrom:
              - {prefix: APP_, configMapRef: {name: app}}
              """
                  .formatted(pair[0], pair[1])));
    }
    pods.add(
        buildPod(
            "{name: p, annotations: {pypimirror.dev/inject: \"false\"}}",
            """
            env:
            - {name: PIP_INDEX_URL, value: "https://evil.example/simple/"}
            - {name: PIP_INDEX_URL, value: "https://evil.example/simple/"}
            envFrom:
            - configMapRef: {name: settings}
            - secretRef: {name: token}
              prefix: PIP_
            """));
    pods.add(buildPod("{name: p}", "envFrom: [{prefix: HO, configMapRef: {name: home}}]"));
    Outcomes strict = compare("builds", directory("builds"), enforcing(List.of()), pods);
    assertThat(strict.refused)
        .as(
            "PYTHONPATH, https_proxy, LD_PRELOAD, GIT_SSH_COMMAND, SSL_CERT_FILE, a relative HOME, PATH, the repeated index, envFrom with prefix HO")
        .isEqualTo(9);
    Outcomes allowing =
        compare(
            "builds",
            directory("builds"),
            enforcing(List.of("PIP_TIMEOUT", "UV_INDEX", "PYTHONPATH", "https_proxy", "PATH")),
            pods);
    assertThat(allowing.refused).isLessThan(strict.refused);
  }

  /** Pods that ask for what they cannot get, and a mirror that is not Ready, are refused alike. */
  @Test
  void unavailableMirrorsAreRefusedAlike() {
    List<JsonNode> pods = new ArrayList<>();
    for (String annotations :
        List.of(
            "{}",
            "{pypimirror.dev/inject: \"false\"}",
            "{pypimirror.dev/inject: \"true\"}",
            "{pypimirror.dev/mirror: nope}",
            "{pypimirror.dev/mirror: corp}",
            "{kubernetes.io/config.mirror: forged}")) {
      pods.add(
          buildPod("{name: p, annotations: %s, labels: {team: ml}}".formatted(annotations), ""));
    }
    PypiMirror broken = Pods.notReady(corp("builds"), "Broken");
    Outcomes notReady = compare("builds", Pods.directory(broken), enforcing(List.of()), pods);
    assertThat(notReady.refused).isEqualTo(pods.size());
    Outcomes none = compare("empty", Pods.directory(), enforcing(List.of()), pods);
    assertThat(none.refused).isEqualTo(pods.size());
  }

  /** A pod of one container, build (python): its metadata, and more of the container's fields. */
  private static ObjectNode buildPod(String metadata, String container) {
    return Pods.yaml(
        """
        apiVersion: v1
        kind: Pod
        metadata: %s
        spec:
          containers:
          - name: build
            image: python
        %s"""
            .formatted(metadata, container.indent(4)));
  }

  static PypiMirror corp(String namespace) {
    return Pods.readyMirror(
        namespace,
        "corp",
        Mirrors.withCache(
            Mirrors.spec(Mirrors.https("https://devpi.corp.example/root/pypi/+simple/")),
            "/tmp/pypi"));
  }

  static MirrorDirectory directory(String namespace) {
    return Pods.directory(corp(namespace));
  }

  /** An Enforce policy over every pod of the namespace, with its mirror the namespace's own. */
  static PypiMirrorPolicy enforcing(List<String> allowedEnv) {
    PypiMirrorPolicy policy = Policies.policy("corp-builds", Map.of(), null, true);
    policy.getSpec().setPodSelector(Policies.selector(Map.of()));
    policy.getSpec().setAllowedEnv(allowedEnv);
    return policy;
  }

  record Outcomes(int injected, int refused) {}

  static Outcomes compare(
      String namespace, MirrorDirectory mirrors, PypiMirrorPolicy policy, List<JsonNode> pods) {
    PolicyDirectory policies = n -> n.equals(namespace) ? Optional.of(policy) : Optional.empty();
    int injected = 0;
    int refused = 0;
    try (var differential = new PolicyModeDifferential(namespace, mirrors, policies)) {
      for (int i = 0; i < pods.size(); i++) {
        ObjectNode pod = pods.get(i).deepCopy();
        JsonNode byWebhook = differential.storedAlike(i, pod);
        if (byWebhook.isTextual()) {
          refused++;
        } else if (byWebhook.at("/metadata/annotations").has("pypimirror.dev/injected")) {
          injected++;
        }
      }
    }
    return new Outcomes(injected, refused);
  }
}
