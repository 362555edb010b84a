package dev.pypimirror.operator.inject;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static dev.pypimirror.operator.testing.Pods.applyPatch;
import static dev.pypimirror.operator.testing.Pods.directory;
import static dev.pypimirror.operator.testing.Pods.json;
import static dev.pypimirror.operator.testing.Pods.readyMirror;
import static dev.pypimirror.operator.testing.Pods.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.InjectionSpec;
import dev.pypimirror.operator.api.PydistutilsSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.inject.InjectionPlan.Outcome;
import dev.pypimirror.operator.testing.Pods;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Golden tests of the pod mutation: the exact JSON Patch for every rule of the contract. */
class PodInjectorTest {
  static final PypiMirrorSpec CORP_SPEC =
      withCache(spec(https("https://devpi.corp.example/root/pypi/+simple/")), "/tmp/pypi");
  static final PypiMirror CORP = readyMirror("builds", "corp", CORP_SPEC);
  static final String HASH = MirrorConfigRenderer.render("corp", CORP_SPEC).hashPrefix();
  static final MirrorDirectory BUILDS = directory(CORP);

  static InjectionPlan inject(ObjectNode pod) {
    return PodInjector.inject(pod, "builds", "pypi-mirror-system", BUILDS);
  }

  static ObjectNode pod(String annotationsAndSpec) {
    return yaml("apiVersion: v1\nkind: Pod\n" + annotationsAndSpec);
  }

  @Test
  void aPodWithoutVolumesEnvOrMountsGetsWholeArrays() {
    ObjectNode pod =
        pod(
            """
            metadata:
              name: build
              annotations: {pypimirror.dev/mirror: corp}
            spec:
              containers:
              - name: kaniko
                image: gcr.io/kaniko-project/executor
            """);

    InjectionPlan plan = inject(pod);

    assertThat(plan.outcome()).isEqualTo(Outcome.INJECTED);
    assertThat(plan.warnings()).isEmpty();
    assertThat(plan.patch())
        .isEqualTo(
            json(
                """
                [
                 {"op":"add","path":"/spec/volumes","value":[
                   {"name":"pypi-mirror-config","configMap":{"name":"pypi-mirror-corp"}},
                   {"name":"pypi-mirror-cache","persistentVolumeClaim":{"claimName":"pypi-mirror-corp-cache","readOnly":true}}]},
                 {"op":"add","path":"/spec/containers/0/volumeMounts","value":[
                   {"name":"pypi-mirror-config","mountPath":"/etc/pypi-mirror","readOnly":true},
                   {"name":"pypi-mirror-config","mountPath":"/etc/pip.conf","readOnly":true,"subPath":"pip.conf"},
                   {"name":"pypi-mirror-config","mountPath":"/etc/uv/uv.toml","readOnly":true,"subPath":"uv.toml"},
                   {"name":"pypi-mirror-config","mountPath":"/root/.pydistutils.cfg","readOnly":true,"subPath":"pydistutils.cfg"},
                   {"name":"pypi-mirror-cache","mountPath":"/tmp/pypi","readOnly":true}]},
                 {"op":"add","path":"/spec/containers/0/env","value":[
                   {"name":"PIP_CONFIG_FILE","value":"/etc/pypi-mirror/pip.conf"},
                   {"name":"PIP_INDEX_URL","value":"https://devpi.corp.example/root/pypi/+simple/"},
                   {"name":"PIP_EXTRA_INDEX_URL","value":"https://pypi.org/simple"},
                   {"name":"UV_INDEX","value":"https://devpi.corp.example/root/pypi/+simple/"},
                   {"name":"UV_DEFAULT_INDEX","value":"https://pypi.org/simple"}]},
                 {"op":"add","path":"/metadata/annotations/pypimirror.dev~1injected","value":"corp@%s"}
                ]
                """
                    .formatted(HASH)));
  }

  @Test
  void existingArraysAreAppendedToAndNeverReplaced() {
    ObjectNode pod =
        pod(
            """
            metadata:
              name: build
              annotations: {pypimirror.dev/mirror: corp}
            spec:
              volumes: [{name: workspace, emptyDir: {}}]
              containers:
              - name: buildah
                env: [{name: STORAGE_DRIVER, value: vfs}]
                volumeMounts: [{name: workspace, mountPath: /workspace}]
            """);

    JsonNode patch = inject(pod).patch();

    assertThat(patch.findValuesAsText("path"))
        .containsExactly(
            "/spec/volumes/-",
            "/spec/volumes/-",
            "/spec/containers/0/volumeMounts/-",
            "/spec/containers/0/volumeMounts/-",
            "/spec/containers/0/volumeMounts/-",
            "/spec/containers/0/volumeMounts/-",
            "/spec/containers/0/volumeMounts/-",
            "/spec/containers/0/env/-",
            "/spec/containers/0/env/-",
            "/spec/containers/0/env/-",
            "/spec/containers/0/env/-",
            "/spec/containers/0/env/-",
            "/metadata/annotations/pypimirror.dev~1injected");
    JsonNode result = applyPatch(pod, patch);
    assertThat(result.at("/spec/volumes/0/name").asText()).isEqualTo("workspace");
    assertThat(result.at("/spec/containers/0/env/0/name").asText()).isEqualTo("STORAGE_DRIVER");
    assertThat(result.at("/spec/containers/0/volumeMounts/0/mountPath").asText())
        .isEqualTo("/workspace");
    assertThat(result.at("/spec/containers/0/volumeMounts")).hasSize(6);
  }

  @Test
  void aMountPathAlreadyInUseIsLeftAloneAndNamed() {
    ObjectNode pod =
        pod(
            """
            metadata:
              annotations: {pypimirror.dev/mirror: corp}
            spec:
              volumes: [{name: own, configMap: {name: my-pip}}]
              containers:
              - name: builder
                volumeMounts: [{name: own, mountPath: /etc/pip.conf, subPath: pip.conf}]
            """);

    InjectionPlan plan = inject(pod);
    JsonNode result = applyPatch(pod, plan.patch());

    assertThat(result.at("/metadata/annotations/pypimirror.dev~1skipped").asText())
        .isEqualTo("builder:/etc/pip.conf");
    assertThat(plan.warnings())
        .containsExactly(
            "container builder already mounts /etc/pip.conf; left alone, so the mirror's pip.conf is not there");
    List<String> paths = result.at("/spec/containers/0/volumeMounts").findValuesAsText("mountPath");
    assertThat(paths).containsOnlyOnce("/etc/pip.conf").contains("/etc/pypi-mirror", "/tmp/pypi");
    assertThat(result.at("/spec/containers/0/volumeMounts/0/name").asText()).isEqualTo("own");
  }

  @Test
  void homeComesFromTheContainerThenThePodThenTheMirror() {
    PypiMirrorSpec spec = spec(https("https://a.example/simple/"));
    InjectionSpec injection = new InjectionSpec();
    injection.setHomeDir("/home/builder");
    spec.setInjection(injection);
    MirrorDirectory dir = directory(readyMirror("builds", "m", spec));
    String containers =
        """
        spec:
          containers:
          - name: literal
            env: [{name: HOME, value: /workspace/home}]
          - name: from-field
            env: [{name: HOME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
          - name: plain
        """;

    JsonNode withAnnotation =
        applyPatch(
            pod(
                "metadata: {annotations: {pypimirror.dev/mirror: m, pypimirror.dev/home: /home/pod}}\n"
                    + containers),
            PodInjector.inject(
                    pod(
                        "metadata: {annotations: {pypimirror.dev/mirror: m, pypimirror.dev/home: /home/pod}}\n"
                            + containers),
                    "builds",
                    null,
                    dir)
                .patch());
    ObjectNode bare = pod("metadata: {annotations: {pypimirror.dev/mirror: m}}\n" + containers);
    JsonNode withoutAnnotation =
        applyPatch(bare, PodInjector.inject(bare, "builds", null, dir).patch());

    assertThat(pydistutilsPath(withAnnotation, 0)).isEqualTo("/workspace/home/.pydistutils.cfg");
    assertThat(pydistutilsPath(withAnnotation, 1)).isEqualTo("/home/pod/.pydistutils.cfg");
    assertThat(pydistutilsPath(withAnnotation, 2)).isEqualTo("/home/pod/.pydistutils.cfg");
    assertThat(pydistutilsPath(withoutAnnotation, 2)).isEqualTo("/home/builder/.pydistutils.cfg");
  }

  static String pydistutilsPath(JsonNode pod, int container) {
    for (JsonNode mount : pod.at("/spec/containers/" + container + "/volumeMounts")) {
      if ("pydistutils.cfg".equals(mount.path("subPath").asText())) {
        return mount.path("mountPath").asText();
      }
    }
    return null;
  }

  @Test
  void initContainersAreInjectedEphemeralOnesNever() {
    ObjectNode pod =
        pod(
            """
            metadata: {annotations: {pypimirror.dev/mirror: corp}}
            spec:
              initContainers: [{name: fetch}]
              containers: [{name: build}]
              ephemeralContainers: [{name: debug}]
            """);

    JsonNode result = applyPatch(pod, inject(pod).patch());

    assertThat(result.at("/spec/initContainers/0/volumeMounts")).hasSize(5);
    assertThat(result.at("/spec/containers/0/volumeMounts")).hasSize(5);
    assertThat(result.at("/spec/ephemeralContainers/0").has("volumeMounts")).isFalse();
    assertThat(result.at("/spec/ephemeralContainers/0").has("env")).isFalse();
  }

  @Test
  void onlyTheNamedContainersAreInjected() {
    ObjectNode pod =
        pod(
            """
            metadata: {annotations: {pypimirror.dev/mirror: corp, pypimirror.dev/containers: " build , ghost"}}
            spec:
              initContainers: [{name: fetch}]
              containers: [{name: build}, {name: sidecar}]
            """);

    InjectionPlan plan = inject(pod);
    JsonNode result = applyPatch(pod, plan.patch());

    assertThat(result.at("/spec/initContainers/0").has("volumeMounts")).isFalse();
    assertThat(result.at("/spec/containers/0/volumeMounts")).hasSize(5);
    assertThat(result.at("/spec/containers/1").has("env")).isFalse();
    assertThat(plan.warnings())
        .containsExactly(
            "pypimirror.dev/containers names ghost, which is not a container of this pod");
  }

  @Test
  void aVariableTheContainerSetsIsKeptWithAWarning() {
    ObjectNode pod =
        pod(
            """
            metadata: {annotations: {pypimirror.dev/mirror: corp}}
            spec:
              containers:
              - name: build
                env: [{name: PIP_INDEX_URL, value: "https://own.example/simple/"}]
            """);

    InjectionPlan plan = inject(pod);
    JsonNode env = applyPatch(pod, plan.patch()).at("/spec/containers/0/env");

    assertThat(env.findValuesAsText("name"))
        .containsOnlyOnce("PIP_INDEX_URL")
        .contains("PIP_CONFIG_FILE");
    assertThat(env.get(0).path("value").asText()).isEqualTo("https://own.example/simple/");
    assertThat(plan.warnings())
        .containsExactly(
            "container build sets PIP_INDEX_URL itself; kept, so it overrides the mirror for this container");
  }

  @Test
  void underEnforcementTheContainersOwnVariableIsReplaced() {
    ObjectNode pod =
        pod(
            """
            spec:
              containers:
              - name: build
                env: [{name: A, value: a}, {name: PIP_INDEX_URL, value: "https://own.example/simple/"}]
            """);
    var rendered = MirrorConfigRenderer.render("corp", CORP_SPEC);

    InjectionPlan plan =
        PodPatchPlanner.plan(pod, CORP, rendered, new PolicyMode("corp-builds", true));

    assertThat(plan.operations())
        .contains(
            (ObjectNode)
                json(
                    """
                    {"op":"replace","path":"/spec/containers/0/env/1",
                     "value":{"name":"PIP_INDEX_URL","value":"https://devpi.corp.example/root/pypi/+simple/"}}
                    """));
    assertThat(plan.warnings())
        .containsExactly(
            "container build sets PIP_INDEX_URL itself; replaced by the mirror's value (PypiMirrorPolicy corp-builds enforces it)");
  }

  @Test
  void aForeignVolumeWithOurNameIsNeverClobbered() {
    ObjectNode pod =
        pod(
            """
            metadata: {annotations: {pypimirror.dev/mirror: corp}}
            spec:
              volumes: [{name: pypi-mirror-config, secret: {secretName: creds}}]
              containers: [{name: build}]
            """);

    InjectionPlan plan = inject(pod);
    JsonNode result = applyPatch(pod, plan.patch());

    assertThat(result.at("/spec/volumes/0"))
        .isEqualTo(json("{\"name\":\"pypi-mirror-config\",\"secret\":{\"secretName\":\"creds\"}}"));
    assertThat(result.at("/spec/volumes/1/name").asText()).isEqualTo("pypi-mirror-config-2");
    assertThat(result.at("/spec/volumes/1/configMap/name").asText()).isEqualTo("pypi-mirror-corp");
    assertThat(result.at("/spec/containers/0/volumeMounts/0/name").asText())
        .isEqualTo("pypi-mirror-config-2");
    assertThat(plan.warnings())
        .contains(
            "the pod already has a different volume named pypi-mirror-config; the mirror's volume is named pypi-mirror-config-2");
  }

  @Test
  void pydistutilsOffMeansNoPydistutilsMount() {
    PypiMirrorSpec spec = spec(https("https://a.example/simple/"));
    spec.setPydistutils(new PydistutilsSpec());
    spec.getPydistutils().setEnabled(false);
    ObjectNode pod =
        pod("metadata: {annotations: {pypimirror.dev/mirror: m}}\nspec: {containers: [{name: c}]}");

    JsonNode result =
        applyPatch(
            pod,
            PodInjector.inject(pod, "builds", null, directory(readyMirror("builds", "m", spec)))
                .patch());

    assertThat(result.at("/spec/containers/0/volumeMounts").findValuesAsText("mountPath"))
        .containsExactly("/etc/pypi-mirror", "/etc/pip.conf", "/etc/uv/uv.toml");
    assertThat(result.at("/spec/volumes")).hasSize(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"kube-system", "kube-public", "kube-node-lease", "pypi-mirror-system"})
  void systemNamespacesAndTheOperatorsOwnAreNeverInjected(String namespace) {
    ObjectNode pod =
        pod(
            "metadata: {annotations: {pypimirror.dev/inject: \"true\"}}\nspec: {containers: [{name: c}]}");

    InjectionPlan plan =
        PodInjector.inject(
            pod,
            namespace,
            "pypi-mirror-system",
            directory(readyMirror(namespace, "m", CORP_SPEC)));

    assertThat(plan.outcome()).isEqualTo(Outcome.UNTOUCHED);
    assertThat(plan.hasPatch()).isFalse();
    assertThat(plan.warnings()).isEmpty();
  }

  @Test
  void staticPodsOptedOutPodsAndPodsWithoutAnnotationAreUntouched() {
    for (String metadata :
        List.of(
            "metadata: {annotations: {pypimirror.dev/mirror: corp, kubernetes.io/config.mirror: abc}}",
            "metadata: {annotations: {pypimirror.dev/mirror: corp, pypimirror.dev/inject: \"false\"}}",
            "metadata: {name: plain}",
            "metadata: {labels: {app: x}}")) {
      InjectionPlan plan = inject(pod(metadata + "\nspec: {containers: [{name: c}]}"));
      assertThat(plan.outcome()).as(metadata).isEqualTo(Outcome.UNTOUCHED);
      assertThat(plan.hasPatch()).as(metadata).isFalse();
    }
  }

  @Test
  void anInjectedPodGetsNoSecondPatch() {
    ObjectNode pod =
        pod(
            "metadata: {annotations: {pypimirror.dev/mirror: corp}}\nspec: {containers: [{name: c}]}");
    JsonNode once = applyPatch(pod, inject(pod).patch());

    InjectionPlan again = inject((ObjectNode) once);

    assertThat(again.outcome()).isEqualTo(Outcome.ALREADY_INJECTED);
    assertThat(again.hasPatch()).isFalse();
  }

  @Test
  void unknownFieldsPassThroughUntouched() {
    ObjectNode pod =
        pod(
            """
            metadata:
              annotations: {pypimirror.dev/mirror: corp}
              futureMetadata: {x: 1}
            spec:
              hostUsers: false
              resourceClaims: [{name: gpu, resourceClaimTemplateName: t}]
              someFutureField: {nested: [1, 2, {deep: true}]}
              containers:
              - name: c
                resizePolicy: [{resourceName: cpu, restartPolicy: NotRequired}]
                futureContainerField: "keep me"
            status: {phase: Pending}
            """);

    JsonNode result = applyPatch(pod, inject(pod).patch());

    ObjectNode withoutOurs = (ObjectNode) result.deepCopy();
    ((ObjectNode) withoutOurs.at("/metadata/annotations")).remove("pypimirror.dev/injected");
    ((ObjectNode) withoutOurs.at("/spec")).remove("volumes");
    ((ObjectNode) withoutOurs.at("/spec/containers/0")).remove(List.of("volumeMounts", "env"));
    assertThat(withoutOurs).isEqualTo(pod);
  }

  @Test
  void aMirrorThatIsNotReadyOrMissingAdmitsThePodAnnotatedAndWarned() {
    PypiMirror broken = Pods.notReady(readyMirror("builds", "broken", CORP_SPEC), "Conflict");
    ObjectNode toBroken =
        pod(
            "metadata: {annotations: {pypimirror.dev/mirror: broken}}\nspec: {containers: [{name: c}]}");
    ObjectNode toMissing =
        pod(
            "metadata: {annotations: {pypimirror.dev/mirror: nope}}\nspec: {containers: [{name: c}]}");

    InjectionPlan notReady = PodInjector.inject(toBroken, "builds", null, directory(broken));
    InjectionPlan missing = PodInjector.inject(toMissing, "builds", null, directory(broken));

    assertThat(notReady.outcome()).isEqualTo(Outcome.SKIPPED);
    assertThat(notReady.patch())
        .isEqualTo(
            json(
                "[{\"op\":\"add\",\"path\":\"/metadata/annotations/pypimirror.dev~1skipped\",\"value\":\"mirror-not-ready\"}]"));
    assertThat(notReady.warnings())
        .containsExactly(
            "PypiMirror builds/broken is not Ready (Conflict: broken); the pod is admitted without a mirror");
    assertThat(missing.warnings())
        .containsExactly("PypiMirror builds/nope not found; the pod is admitted without a mirror");
    assertThat(
            applyPatch(toMissing, missing.patch())
                .at("/metadata/annotations/pypimirror.dev~1skipped")
                .asText())
        .isEqualTo("mirror-not-ready");
  }

  @Test
  void theNamespaceDefaultIsTheAnnotatedOneThenThePolicysThenTheOnlyOne() {
    ObjectNode pod =
        pod(
            "metadata: {annotations: {pypimirror.dev/inject: \"true\"}}\nspec: {containers: [{name: c}]}");
    PypiMirror a = readyMirror("builds", "a", CORP_SPEC);
    PypiMirror b = readyMirror("builds", "b", CORP_SPEC);
    PypiMirror byPolicy = readyMirror("builds", "policy-made", CORP_SPEC);
    byPolicy.getMetadata().setLabels(java.util.Map.of("pypimirror.dev/policy", "corp-builds"));
    PypiMirror annotated = readyMirror("builds", "z-default", CORP_SPEC);
    annotated.getMetadata().setAnnotations(java.util.Map.of("pypimirror.dev/default", "true"));

    assertThat(PodInjector.inject(pod, "builds", null, directory(a)).mirror()).isEqualTo("a");
    assertThat(PodInjector.inject(pod, "builds", null, directory(a, byPolicy, b)).mirror())
        .isEqualTo("policy-made");
    assertThat(PodInjector.inject(pod, "builds", null, directory(a, byPolicy, annotated)).mirror())
        .isEqualTo("z-default");

    InjectionPlan ambiguous = PodInjector.inject(pod, "builds", null, directory(a, b));
    assertThat(ambiguous.outcome()).isEqualTo(Outcome.SKIPPED);
    assertThat(ambiguous.skipped()).isEqualTo("no-default-mirror");
    assertThat(ambiguous.warnings().get(0))
        .contains("several PypiMirrors in namespace builds could be the default (a, b)");

    InjectionPlan none = PodInjector.inject(pod, "builds", null, directory());
    assertThat(none.skipped()).isEqualTo("mirror-not-ready");
    assertThat(none.warnings())
        .containsExactly("no PypiMirror in namespace builds; the pod is admitted without a mirror");
  }

  @Test
  void aPodWithoutAnnotationsObjectGetsOne() {
    ObjectNode pod = yaml("spec: {containers: [{name: c}]}");
    var rendered = MirrorConfigRenderer.render("corp", CORP_SPEC);

    JsonNode result =
        applyPatch(pod, PodPatchPlanner.plan(pod, CORP, rendered, PolicyMode.NONE).patch());

    assertThat(result.at("/metadata/annotations/pypimirror.dev~1injected").asText())
        .isEqualTo("corp@" + HASH);
  }

  @Test
  void mirrorsInOtherNamespacesAreNotSeen() {
    ObjectNode pod =
        pod(
            "metadata: {annotations: {pypimirror.dev/mirror: corp}}\nspec: {containers: [{name: c}]}");

    InjectionPlan plan = PodInjector.inject(pod, "other", null, BUILDS);

    assertThat(plan.outcome()).isEqualTo(Outcome.SKIPPED);
    assertThat(plan.warnings())
        .containsExactly("PypiMirror other/corp not found; the pod is admitted without a mirror");
  }

  /** The plan says which mirror and marker the pod gets, as the patch writes them. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "metadata: {annotations: {pypimirror.dev/mirror: corp}}",
        "metadata: {annotations: {pypimirror.dev/mirror: corp, pypimirror.dev/injected: forged}}",
        "metadata: {name: p}",
        ""
      })
  void thePlanCarriesTheMarkerThePatchWrites(String metadata) {
    ObjectNode pod =
        yaml(
            metadata
                + "\nspec: {containers: [{name: c, volumeMounts: [{name: own, mountPath: /etc/pip.conf}]}]}");
    var rendered = MirrorConfigRenderer.render("corp", CORP_SPEC);

    InjectionPlan plan = PodPatchPlanner.plan(pod, CORP, rendered, PolicyMode.NONE);
    JsonNode annotations = applyPatch(pod, plan.patch()).at("/metadata/annotations");

    assertThat(plan.outcome()).isEqualTo(Outcome.INJECTED);
    assertThat(plan.mirror()).isEqualTo("corp");
    assertThat(plan.injected().marker())
        .isEqualTo("corp@" + HASH)
        .isEqualTo(annotations.path("pypimirror.dev/injected").asText());
    assertThat(plan.skipped()).isEqualTo(annotations.path("pypimirror.dev/skipped").asText(null));
  }

  @Test
  void aPlanWithoutItsPartIsRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new InjectionPlan(
                    Outcome.INJECTED,
                    Reason.INJECTED,
                    null,
                    null,
                    null,
                    null,
                    List.of(),
                    List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> InjectionPlan.denied(Reason.MALFORMED_POD, null, List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
