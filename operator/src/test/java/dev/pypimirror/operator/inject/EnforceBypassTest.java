package dev.pypimirror.operator.inject;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static dev.pypimirror.operator.testing.Pods.applyPatch;
import static dev.pypimirror.operator.testing.Pods.directory;
import static dev.pypimirror.operator.testing.Pods.readyMirror;
import static dev.pypimirror.operator.testing.Pods.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.inject.InjectionPlan.Outcome;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.policy.PolicyMirrors;
import dev.pypimirror.operator.testing.Policies;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a pod's author can write under Enforce, tried as an attacker would (issue: markers, own
 * files at the mirror's paths, index settings in every spelling, a mirror's stale or forged
 * status). Each test failed before the fix.
 */
class EnforceBypassTest {
  static final PypiMirrorSpec SPEC =
      withCache(spec(https("https://devpi.corp.example/root/pypi/+simple/")), "/tmp/pypi");

  static PypiMirror policyMirror() {
    PypiMirror m = readyMirror("ml", "corp-builds", SPEC);
    m.getMetadata().setLabels(Map.of(PolicyMirrors.MADE_BY_POLICY_LABEL, "corp-builds"));
    return m;
  }

  static PypiMirrorPolicy policy(boolean enforce) {
    PypiMirrorPolicy p = Policies.policy("corp-builds", Map.of("team", "ml"), SPEC, enforce);
    p.getSpec().setPodSelector(Policies.selector(Map.of()));
    p.getSpec().setAllowedIndexPrefixes(List.of("https://devpi.corp.example/"));
    return p;
  }

  static InjectionPlan admit(ObjectNode pod, boolean enforce, PypiMirror... mirrors) {
    PolicyDirectory policies = ns -> Optional.of(policy(enforce));
    return PodInjector.inject(
        pod,
        "ml",
        "pypi-mirror-system",
        directory(mirrors.length == 0 ? new PypiMirror[] {policyMirror()} : mirrors),
        policies);
  }

  static InjectionPlan admitAllowing(ObjectNode pod, List<String> allowedEnv) {
    PypiMirrorPolicy policy = policy(true);
    policy.getSpec().setAllowedEnv(allowedEnv);
    return PodInjector.inject(
        pod, "ml", "pypi-mirror-system", directory(policyMirror()), ns -> Optional.of(policy));
  }

  static ObjectNode pod(String metadata, String container) {
    return yaml("metadata: " + metadata + "\nspec:\n  containers:\n  - " + container);
  }

  static JsonNode admitted(ObjectNode pod) {
    InjectionPlan plan = admit(pod, true);
    assertThat(plan.outcome()).as("%s", plan).isEqualTo(Outcome.INJECTED);
    return applyPatch(pod, plan.patch());
  }

  static String value(JsonNode container, String name) {
    for (JsonNode e : container.path("env")) {
      if (name.equals(e.path("name").asText())) {
        return e.path("value").asText();
      }
    }
    return null;
  }

  // item 1: markers and labels are not proof

  @Test
  void aForgedInjectedMarkerIsInjectedAnyway() {
    ObjectNode pod =
        pod(
            "{name: p, annotations: {pypimirror.dev/injected: corp-builds@000000000000}}",
            "{name: c, env: [{name: PIP_INDEX_URL, value: 'https://evil.example/simple/'}]}");

    JsonNode result = admitted(pod);

    assertThat(value(result.at("/spec/containers/0"), "PIP_INDEX_URL"))
        .isEqualTo("https://devpi.corp.example/root/pypi/+simple/");
    assertThat(result.at("/metadata/annotations/pypimirror.dev~1injected").asText())
        .isNotEqualTo("corp-builds@000000000000")
        .startsWith("corp-builds@");
  }

  @Test
  void theOperatorsLabelAndAStaticPodMarkerExemptNothing() {
    ObjectNode labelled =
        pod("{name: p, labels: {app.kubernetes.io/managed-by: pypi-mirror-operator}}", "{name: c}");
    ObjectNode staticMarker =
        pod("{name: p, annotations: {kubernetes.io/config.mirror: abc}}", "{name: c}");

    assertThat(admit(labelled, true).outcome()).isEqualTo(Outcome.INJECTED);
    assertThat(admit(staticMarker, true).outcome()).isEqualTo(Outcome.INJECTED);
    // a real static pod comes from its node
    InjectionPlan fromNode =
        PodInjector.inject(
            staticMarker,
            "ml",
            null,
            directory(policyMirror()),
            ns -> Optional.of(policy(true)),
            Requester.NODE);
    assertThat(fromNode.reason()).isEqualTo(Reason.STATIC_POD);
  }

  @Test
  void idempotenceComesFromTheContentNotTheMarker() {
    ObjectNode pod = pod("{name: p}", "{name: c}");
    JsonNode once = admitted(pod);

    InjectionPlan again = admit((ObjectNode) once, true);
    ObjectNode withoutMarker = once.deepCopy();
    ((ObjectNode) withoutMarker.at("/metadata/annotations")).remove("pypimirror.dev/injected");
    ObjectNode envDropped = once.deepCopy();
    ((ObjectNode) envDropped.at("/spec/containers/0")).remove("env");

    assertThat(again.outcome()).isEqualTo(Outcome.ALREADY_INJECTED);
    assertThat(again.hasPatch()).isFalse();
    assertThat(admit(withoutMarker, true).patch().toString())
        .isEqualTo(
            "[{\"op\":\"add\",\"path\":\"/metadata/annotations/pypimirror.dev~1injected\",\"value\":\""
                + once.at("/metadata/annotations/pypimirror.dev~1injected").asText()
                + "\"}]");
    JsonNode restored = applyPatch(envDropped, admit(envDropped, true).patch());
    assertThat(restored.at("/spec/containers/0/env")).isEqualTo(once.at("/spec/containers/0/env"));
    assertThat(restored.at("/spec/volumes")).isEqualTo(once.at("/spec/volumes"));
  }

  // item 4: the container's own files at the mirror's paths

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/etc/pip.conf",
        "/etc/uv/uv.toml",
        "/etc/pypi-mirror",
        "/etc/pypi-mirror/pip.conf",
        "/etc//pypi-mirror/uv.toml",
        "/etc/pip.conf/",
        "/root/.pydistutils.cfg"
      })
  void underEnforceAContainersOwnFileAtTheMirrorsPathsIsRefused(String path) {
    ObjectNode pod =
        pod(
            "{name: p}",
            "{name: c, volumeMounts: [{name: mine, mountPath: '%s', subPath: x}]}".formatted(path));
    ((ObjectNode) pod.path("spec"))
        .putArray("volumes")
        .addObject()
        .put("name", "mine")
        .putObject("configMap")
        .put("name", "my-pip");

    InjectionPlan enforced = admit(pod, true);
    InjectionPlan advisory = admit(pod, false);

    assertThat(enforced.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(enforced.reason()).isEqualTo(Reason.OWN_CONFIG_MOUNT);
    assertThat(enforced.refusal())
        .isEqualTo(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here: container c mounts its own %s where the mirror's configuration goes; remove that mount"
                .formatted(path));
    assertThat(advisory.outcome()).isEqualTo(Outcome.INJECTED);
  }

  @Test
  void theCachePathIsDataNotConfigAndStaysLeftAlone() {
    ObjectNode pod =
        pod("{name: p}", "{name: c, volumeMounts: [{name: scratch, mountPath: /tmp/pypi}]}");
    ((ObjectNode) pod.path("spec")).putArray("volumes").addObject().put("name", "scratch");

    InjectionPlan plan = admit(pod, true);

    assertThat(plan.outcome()).isEqualTo(Outcome.INJECTED);
    assertThat(plan.warnings())
        .contains(
            "container c already mounts /tmp/pypi; left alone, so the mirror's directory is not there");
  }

  // item 5: every spelling pip and uv read

  @Test
  void indexSettingsInEverySpellingPipAndUvReadAreRemoved() {
    ObjectNode pod =
        pod(
            "{name: p}",
            """
            {name: c, env: [
              {name: PIP_index-url, value: 'https://evil.example/1/'},
              {name: PIP_Extra_Index_Url, value: 'https://evil.example/2/'},
              {name: PIP_--find-links, value: 'https://evil.example/3/'},
              {name: PIP_REQUIREMENT, value: /evil-requirements.txt},
              {name: PIP_CONSTRAINT, value: /evil-constraints.txt},
              {name: PIP_TRUSTED-HOST, value: evil.example},
              {name: PIP_CONFIG_FILE, valueFrom: {configMapKeyRef: {name: x, key: y}}},
              {name: UV_INDEX_URL, value: 'https://evil.example/4/'},
              {name: UV_NO_CONFIG, value: '1'},
              {name: UV_TORCH_BACKEND, value: cu126},
              {name: PIP_NO_CACHE_DIR, value: '1'},
              {name: PIP_config_file, value: /ignored-by-pip},
              {name: pip_index_url, value: /not-read-by-pip}
            ]}""");

    JsonNode result = admitted(pod);
    JsonNode env = result.at("/spec/containers/0/env");

    assertThat(env.findValuesAsText("name"))
        .containsExactly(
            "PIP_REQUIREMENT",
            "PIP_CONSTRAINT",
            "PIP_CONFIG_FILE",
            "PIP_INDEX_URL",
            "PIP_EXTRA_INDEX_URL",
            "UV_INDEX",
            "UV_DEFAULT_INDEX",
            "PIP_FIND_LINKS",
            "PIP_BUILD_CONSTRAINT",
            "UV_CONFIG_FILE");
    JsonNode container = result.at("/spec/containers/0");
    assertThat(value(container, "PIP_CONFIG_FILE")).isEqualTo("/etc/pypi-mirror/pip.conf");
    assertThat(env.get(2).has("valueFrom")).isFalse();
    assertThat(value(container, "UV_CONFIG_FILE")).isEqualTo("/etc/pypi-mirror/uv.toml");
    assertThat(value(container, "PIP_FIND_LINKS")).isEqualTo("/etc/pypi-mirror");
    assertThat(value(container, "PIP_REQUIREMENT")).isEqualTo("/dev/null");
  }

  @Test
  void envFromIsUnknownUnlessItsPrefixKeepsItAwayFromPipAndUv() {
    ObjectNode bare =
        pod("{name: p}", "{name: c, envFrom: [{configMapRef: {name: build-settings}}]}");
    ObjectNode pipPrefixed =
        pod("{name: p}", "{name: c, envFrom: [{prefix: PIP_, secretRef: {name: s}}]}");
    ObjectNode shortPrefix =
        pod("{name: p}", "{name: c, envFrom: [{prefix: U, configMapRef: {name: s}}]}");
    ObjectNode appPrefixed =
        pod("{name: p}", "{name: c, envFrom: [{prefix: APP_, configMapRef: {name: s}}]}");
    ObjectNode homePrefix = // key ME in the ConfigMap would set HOME unseen
        pod("{name: p}", "{name: c, envFrom: [{prefix: HO, configMapRef: {name: s}}]}");

    InjectionPlan refused = admit(bare, true);

    assertThat(refused.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(refused.reason()).isEqualTo(Reason.UNKNOWN_ENVIRONMENT);
    assertThat(refused.refusal())
        .isEqualTo(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here: container c takes its environment from ConfigMap build-settings (envFrom), which may set variables the policy removes or refuses, unseen by the webhook; give envFrom a prefix that begins no such name (e.g. APP_) or list the variables under env");
    assertThat(admit(pipPrefixed, true).outcome()).isEqualTo(Outcome.DENIED);
    assertThat(admit(shortPrefix, true).outcome()).isEqualTo(Outcome.DENIED);
    assertThat(admit(homePrefix, true).outcome()).isEqualTo(Outcome.DENIED);
    assertThat(admit(appPrefixed, true).outcome()).isEqualTo(Outcome.INJECTED);
    assertThat(admit(bare, false).outcome()).isEqualTo(Outcome.INJECTED);
  }

  // item 6: the mirror's status is not proof

  @Test
  void aMirrorWhoseStatusIsNotForItsCurrentGenerationIsNotInjected() {
    PypiMirror changed = policyMirror();
    changed.getMetadata().setGeneration(2L);
    PypiMirror forgedCondition = policyMirror();
    forgedCondition.getStatus().setObservedGeneration(1L);
    forgedCondition.getMetadata().setGeneration(1L);
    forgedCondition.getStatus().getConditions().get(0).setObservedGeneration(0L);
    ObjectNode pod = pod("{name: p}", "{name: c}");

    InjectionPlan denied = admit(pod, true, changed);
    InjectionPlan skipped = admit(pod, false, changed);

    assertThat(denied.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(denied.reason()).isEqualTo(Reason.MIRROR_STALE);
    assertThat(denied.refusal())
        .isEqualTo(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here, and it cannot be injected: PypiMirror ml/corp-builds's status describes generation 1 (Ready: 1), not its current generation 2");
    assertThat(skipped.outcome()).isEqualTo(Outcome.SKIPPED);
    assertThat(admit(pod, true, forgedCondition).reason()).isEqualTo(Reason.MIRROR_STALE);
  }

  @Test
  void aReadyMirrorThatBreaksThePolicyIsNotInjected() {
    PypiMirror madeBeforeThePolicy =
        readyMirror("ml", "team", spec(https("https://evil.example/root/pypi/+simple/")));
    ObjectNode pod = pod("{name: p, annotations: {pypimirror.dev/mirror: team}}", "{name: c}");

    InjectionPlan plan = admit(pod, true, policyMirror(), madeBeforeThePolicy);

    assertThat(plan.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(plan.reason()).isEqualTo(Reason.MIRROR_POLICY_VIOLATION);
    assertThat(plan.refusal())
        .isEqualTo(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here, and it cannot be injected: PypiMirror ml/team breaks its namespace's policy (PypiMirrorPolicy corp-builds: spec.indexes[0].url https://evil.example/root/pypi/+simple/ is not under allowedIndexPrefixes [https://devpi.corp.example/])");
  }

  // the allow-list: no PIP_*/UV_* but the mirror's, nothing that changes what runs or where to

  @Test
  void everyOtherPipAndUvVariableIsRemovedWithAWarningWhateverItsCaseOrSource() {
    ObjectNode pod =
        pod(
            "{name: p}",
            """
            {name: c, env: [
              {name: A, value: a},
              {name: PIP_PYPI_URL, value: 'https://evil.example/simple/'},
              {name: PIP_EDITABLE, value: 'git+http://evil.example/repo.git#egg=x'},
              {name: PIP_PROXY, value: 'http://evil.example:3128'},
              {name: PIP_CERT, value: /mine/ca.pem},
              {name: PIP_PYTHON, value: /mine/python},
              {name: PIP_NO_CACHE_DIR, value: '1'},
              {name: pip_index_url, value: 'https://evil.example/lower/'},
              {name: _PIP_STANDALONE_CERT, value: /mine/ca.pem},
              {name: UV_CONSTRAINT, value: 'https://evil.example/c.txt'},
              {name: UV_OVERRIDE, value: /mine/o.txt},
              {name: UV_BUILD_CONSTRAINT, value: /mine/b.txt},
              {name: UV_INDEX_STRATEGY, value: unsafe-best-match},
              {name: UV_PYTHON_INSTALL_MIRROR, valueFrom: {secretKeyRef: {name: s, key: k}}},
              {name: B, value: b}
            ]}""");

    InjectionPlan plan = admit(pod, true);
    JsonNode env = applyPatch(pod, plan.patch()).at("/spec/containers/0/env");

    assertThat(plan.outcome()).as("%s", plan).isEqualTo(Outcome.INJECTED);
    assertThat(env.findValuesAsText("name")).startsWith("A", "B", "PIP_CONFIG_FILE");
    for (String removed :
        List.of(
            "PIP_PYPI_URL",
            "PIP_EDITABLE",
            "PIP_PROXY",
            "PIP_CERT",
            "PIP_PYTHON",
            "PIP_NO_CACHE_DIR",
            "pip_index_url",
            "_PIP_STANDALONE_CERT",
            "UV_CONSTRAINT",
            "UV_OVERRIDE",
            "UV_BUILD_CONSTRAINT",
            "UV_INDEX_STRATEGY",
            "UV_PYTHON_INSTALL_MIRROR")) {
      assertThat(env.findValuesAsText("name")).doesNotContain(removed);
      assertThat(plan.warnings())
          .contains(
              "container c sets %s itself; removed (PypiMirrorPolicy corp-builds enforces the mirror)"
                  .formatted(removed));
    }
  }

  @Test
  void allowedEnvKeepsAPipVariableByItsExactNameButNeverAnIndexOrConnectionSetting() {
    ObjectNode pod =
        pod(
            "{name: p}",
            """
            {name: c, env: [
              {name: PIP_NO_CACHE_DIR, value: '1'},
              {name: PIP_DISABLE_PIP_VERSION_CHECK, value: '1'},
              {name: PIP_PYPI_URL, value: 'https://evil.example/simple/'},
              {name: PIP_PROXY, value: 'http://evil.example:3128'},
              {name: UV_OVERRIDE, value: /mine/o.txt}
            ]}""");

    InjectionPlan plan =
        admitAllowing(
            pod,
            List.of(
                "PIP_NO_CACHE_DIR",
                "pip_disable_pip_version_check",
                "PIP_PYPI_URL",
                "PIP_PROXY",
                "UV_OVERRIDE"));
    JsonNode env = applyPatch(pod, plan.patch()).at("/spec/containers/0/env");

    assertThat(env.findValuesAsText("name"))
        .contains("PIP_NO_CACHE_DIR")
        .doesNotContain(
            "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_PYPI_URL", "PIP_PROXY", "UV_OVERRIDE");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PYTHONUSERBASE",
        "PYTHONPYCACHEPREFIX",
        "PYTHONWARNINGS",
        "PYTHONBREAKPOINT",
        "PYTHON_KEYRING_BACKEND",
        "pythonpath",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "Https_Proxy",
        "all_proxy",
        "no_proxy",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "VIRTUAL_ENV",
        "DIST_EXTRA_CONFIG",
        "LD_PRELOAD",
        "PATH",
        "GIT_CONFIG_COUNT",
        "OPENSSL_CONF",
        "HGRCPATH",
        "SVN_SSH",
        "BZR_PLUGIN_PATH",
        "BRZ_SSH"
      })
  void aVariableThatChangesWhatRunsOrWhereRequestsGoIsRefusedUnlessAllowedByName(String name) {
    ObjectNode literal =
        pod("{name: p}", "{name: c, env: [{name: '%s', value: /mine}]}".formatted(name));
    ObjectNode fromSecret =
        pod(
            "{name: p}",
            "{name: c, env: [{name: '%s', valueFrom: {secretKeyRef: {name: s, key: k}}}]}"
                .formatted(name));

    InjectionPlan refused = admit(literal, true);

    assertThat(refused.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(refused.reason()).isEqualTo(Reason.REFUSED_ENVIRONMENT);
    assertThat(refused.refusal())
        .isEqualTo(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here: container c sets %s, which changes which code Python runs or where its requests go; remove it, or ask for it in the policy's allowedEnv"
                .formatted(name));
    assertThat(admit(fromSecret, true).outcome()).isEqualTo(Outcome.DENIED);
    assertThat(admit(literal, false).outcome()).as("Advisory").isEqualTo(Outcome.INJECTED);
    assertThat(admitAllowing(literal, List.of(name)).outcome()).isEqualTo(Outcome.INJECTED);
    assertThat(admitAllowing(fromSecret, List.of(name)).outcome()).isEqualTo(Outcome.INJECTED);
    // exact: another spelling is another name
    String other = name.equals(name.toUpperCase()) ? name.toLowerCase() : name.toUpperCase();
    assertThat(admitAllowing(literal, List.of(other)).outcome()).isEqualTo(Outcome.DENIED);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "A",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "APP_HTTP_PROXY",
        "XDG_CACHE_HOME"
      })
  void harmlessVariablesAreKept(String name) {
    ObjectNode pod = pod("{name: p}", "{name: c, env: [{name: '%s', value: x}]}".formatted(name));

    JsonNode result = admitted(pod);

    assertThat(value(result.at("/spec/containers/0"), name)).isEqualTo("x");
  }

  @ParameterizedTest
  @ValueSource(strings = {"initContainers", "sidecar"})
  void theAllowListHoldsInInitAndSidecarContainersAlike(String kind) {
    ObjectNode pod =
        yaml(
            """
            metadata: {name: p}
            spec:
              initContainers:
              - {name: i, %s env: [{name: PYTHONPATH, value: /mine}]}
              containers:
              - {name: c}
            """
                .formatted(kind.equals("sidecar") ? "restartPolicy: Always," : ""));
    ObjectNode removal =
        yaml(
            """
            metadata: {name: p}
            spec:
              initContainers:
              - {name: i, env: [{name: PIP_PROXY, value: 'http://evil.example:3128'}]}
              containers:
              - {name: c}
            """);

    assertThat(admit(pod, true).refusal()).contains("container i sets PYTHONPATH");
    assertThat(
            applyPatch(removal, admit(removal, true).patch())
                .at("/spec/initContainers/0/env")
                .findValuesAsText("name"))
        .doesNotContain("PIP_PROXY")
        .contains("PIP_INDEX_URL");
  }

  @ParameterizedTest
  @ValueSource(strings = {"HTTP", "PY", "python", "ld_", "GIT", "H", "S", "no_", "pip_", "_"})
  void envFromIsRefusedUnlessItsPrefixBeginsNoRemovedOrRefusedName(String prefix) {
    ObjectNode pod =
        pod(
            "{name: p}",
            "{name: c, envFrom: [{prefix: '%s', configMapRef: {name: s}}]}".formatted(prefix));

    assertThat(admit(pod, true).reason()).isEqualTo(Reason.UNKNOWN_ENVIRONMENT);
  }

  // HOME, as the kubelet reads it

  @Test
  void twoHomeEntriesAreRefusedUnderEnforceAndTheLastOneCountsElsewhere() {
    ObjectNode pod =
        pod(
            "{name: p}",
            "{name: c, env: [{name: HOME, value: /decoy}, {name: HOME, value: /home/build}]}");

    InjectionPlan enforced = admit(pod, true);
    JsonNode advisory = applyPatch(pod, admit(pod, false).patch());

    assertThat(enforced.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(enforced.refusal())
        .isEqualTo(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here: container c sets HOME 2 times; set it once");
    assertThat(advisory.at("/spec/containers/0/volumeMounts").findValuesAsText("mountPath"))
        .contains("/home/build/.pydistutils.cfg")
        .doesNotContain("/decoy/.pydistutils.cfg");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{name: HOME, valueFrom: {configMapKeyRef: {name: x, key: home}}}",
        "{name: HOME, value: home/build}",
        "{name: HOME, value: '$(WORKSPACE)/home'}"
      })
  void aHomeTheWebhookCannotReadIsRefusedUnderEnforce(String entry) {
    ObjectNode pod = pod("{name: p}", "{name: c, env: [%s]}".formatted(entry));

    InjectionPlan plan = admit(pod, true);

    assertThat(plan.outcome()).isEqualTo(Outcome.DENIED);
    assertThat(plan.refusal())
        .isEqualTo(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here: container c sets HOME other than as a literal absolute path (valueFrom, a relative path or $(...)); the mirror's .pydistutils.cfg must go to the HOME the process gets");
  }

  @Test
  void anEnvThatIsNotAListOfNamedEntriesIsRefusedUnderEnforce() {
    ObjectNode notAList = pod("{name: p}", "{name: c, env: {PYTHONPATH: /mine}}");
    ObjectNode unnamed = pod("{name: p}", "{name: c, env: [{value: /mine}]}");

    assertThat(admit(notAList, true).reason()).isEqualTo(Reason.REFUSED_ENVIRONMENT);
    assertThat(admit(unnamed, true).reason()).isEqualTo(Reason.REFUSED_ENVIRONMENT);
  }

  // an opt-out that Enforce overrides

  @Test
  void anOptOutEnforceOverridesGetsTheConfigurationButNeverTheCache() {
    ObjectNode optedOut =
        pod("{name: sync, annotations: {pypimirror.dev/inject: 'false'}}", "{name: download}");

    InjectionPlan plan = admit(optedOut, true);
    JsonNode result = applyPatch(optedOut, plan.patch());

    assertThat(plan.outcome()).isEqualTo(Outcome.INJECTED);
    assertThat(result.at("/spec/volumes")).hasSize(1);
    assertThat(result.at("/spec/volumes/0/configMap/name").asText())
        .isEqualTo("pypi-mirror-corp-builds");
    assertThat(result.at("/spec/containers/0/volumeMounts").findValuesAsText("mountPath"))
        .doesNotContain("/tmp/pypi")
        .contains("/etc/pip.conf");
    assertThat(value(result.at("/spec/containers/0"), "PIP_INDEX_URL"))
        .isEqualTo("https://devpi.corp.example/root/pypi/+simple/");
  }
}
