package dev.pypimirror.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.testing.Pods;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The pod rules kube-apiserver checks after the webhooks, in its words. */
class PodValidationTest {
  private static final String VALID =
      "{name: c, env: [{name: A}], volumeMounts: [{name: v, mountPath: /a, subPath: x/y}]}";

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          valid                | {volumes: [{name: v}], containers: [{name: c, env: [{name: my.env-NAME_1}], volumeMounts: [{name: v, mountPath: /a, subPath: x/y}], volumeDevices: [{name: b, devicePath: /dev/b}]}]} |
          duplicate volume     | {volumes: [{name: v}, {name: v}], containers: [%s]} | spec.volumes[1].name: Duplicate value: "v"
          missing volume       | {volumes: [{name: v}], containers: [{name: c, volumeMounts: [{name: w, mountPath: /a}]}]} | spec.containers[0].volumeMounts[0].name: Not found: "w"
          duplicate mount path | {volumes: [{name: v}], initContainers: [{name: i, volumeMounts: [{name: v, mountPath: /a}, {name: v, mountPath: /a}]}]} | spec.initContainers[0].volumeMounts[1].mountPath: Invalid value: "/a": must be unique
          device path          | {volumes: [{name: v}], containers: [{name: c, volumeMounts: [{name: v, mountPath: /dev/b}], volumeDevices: [{name: b, devicePath: /dev/b}]}]} | spec.containers[0].volumeMounts[0].mountPath: Invalid value: "/dev/b": must not already exist as a path in volumeDevices
          device name          | {volumes: [{name: v}], containers: [{name: c, volumeMounts: [{name: v, mountPath: /a}], volumeDevices: [{name: v, devicePath: /dev/b}]}]} | spec.containers[0].volumeMounts[0].name: Invalid value: "v": must not already exist in volumeDevices
          absolute subPath     | {volumes: [{name: v}], containers: [{name: c, volumeMounts: [{name: v, mountPath: /a, subPath: /etc}]}]} | spec.containers[0].volumeMounts.subPath: Invalid value: "/etc": must be a relative path
          backstep subPath     | {volumes: [{name: v}], containers: [{name: c, volumeMounts: [{name: v, mountPath: /a, subPathExpr: a/../..}]}]} | spec.containers[0].volumeMounts.subPathExpr: Invalid value: "a/../..": must not contain '..'
          env name digit       | {containers: [{name: c, env: [{name: A}, {name: 1A}]}]} | spec.containers[0].env[1].name: Invalid value: "1A": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MY-ENV_NAME', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')
          env name dots        | {containers: [{name: c, env: [{name: ..A}]}]} | spec.containers[0].env[0].name: Invalid value: "..A": must not start with '..'
          """)
  void aPodIsRefusedAsTheApiServerRefusesIt(String why, String spec, String problem) {
    var pod =
        Pods.yaml(
            "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: %s}"
                .formatted(spec.formatted(VALID)));

    if (problem == null) {
      assertThat(PodValidation.problems(pod)).as(why).isEmpty();
    } else {
      assertThat(PodValidation.problems(pod)).as(why).containsExactly(problem);
    }
  }

  @ParameterizedTest
  @CsvSource({"262144, false", "262145, true"})
  void annotationsMayHoldAtMost256KiB(int bytes, boolean refused) {
    var pod = Pods.yaml("{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {}}");
    pod.withObject("/metadata").putObject("annotations").put("k", "v".repeat(bytes - 1));

    assertThat(PodValidation.problems(pod))
        .isEqualTo(
            refused
                ? java.util.List.of(
                    "metadata.annotations: Too long: may not be more than 262144 bytes")
                : java.util.List.of());
  }
}
