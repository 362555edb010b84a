package dev.pypimirror.operator.inspect;

import static dev.pypimirror.operator.testing.Pods.json;
import static dev.pypimirror.operator.testing.Pods.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** Golden: what check and demo print for each kind of operation the webhook's patch holds. */
class PatchDescriptionTest {
  @Test
  void eachOperationIsOneLineNamingItsContainer() {
    JsonNode pod =
        yaml(
            """
            metadata: {name: p, annotations: {team: ml}}
            spec:
              initContainers:
              - name: fetch
              containers:
              - name: build
                env:
                - {name: PIP_INDEX_URL, value: "https://evil.example/simple"}
                - {name: PIP_PROXY, value: "http://proxy.example:3128"}
            """);
    JsonNode patch =
        json(
            """
            [
             {"op":"add","path":"/spec/volumes","value":[
               {"name":"pypi-mirror-config","configMap":{"name":"pypi-mirror-corp"}},
               {"name":"pypi-mirror-cache","persistentVolumeClaim":{"claimName":"pypi-mirror-corp-cache","readOnly":true}}]},
             {"op":"add","path":"/spec/initContainers/0/volumeMounts","value":[
               {"name":"pypi-mirror-config","mountPath":"/etc/pypi-mirror","readOnly":true},
               {"name":"pypi-mirror-config","mountPath":"/etc/pip.conf","readOnly":true,"subPath":"pip.conf"}]},
             {"op":"replace","path":"/spec/containers/0/env/0","value":
               {"name":"PIP_INDEX_URL","value":"https://devpi.corp.example/simple/"}},
             {"op":"remove","path":"/spec/containers/0/env/1"},
             {"op":"add","path":"/spec/containers/0/env/-","value":
               {"name":"PIP_CONFIG_FILE","value":"/etc/pypi-mirror/pip.conf"}},
             {"op":"add","path":"/metadata/annotations/pypimirror.dev~1injected","value":"corp@0123abcd"}
            ]
            """);

    assertThat(PatchDescription.describe(pod, patch))
        .containsExactly(
            "+ volume pypi-mirror-config: ConfigMap pypi-mirror-corp",
            "+ volume pypi-mirror-cache: PVC pypi-mirror-corp-cache, read-only",
            "+ init container fetch mounts /etc/pypi-mirror (read-only)",
            "+ init container fetch mounts /etc/pip.conf <- pip.conf (read-only)",
            "replaced container build env PIP_INDEX_URL=https://devpi.corp.example/simple/",
            "removed container build env PIP_PROXY",
            "+ container build env PIP_CONFIG_FILE=/etc/pypi-mirror/pip.conf",
            "+ annotation pypimirror.dev/injected: corp@0123abcd");
  }

  @Test
  void annotationsAddedWithTheirMapAreEachNamed() {
    JsonNode pod = yaml("spec: {containers: [{name: c}]}");
    JsonNode patch =
        json(
            """
            [{"op":"add","path":"/metadata","value":{"annotations":
              {"pypimirror.dev/injected":"corp@0123abcd","pypimirror.dev/skipped":"c:/etc/pip.conf"}}}]
            """);

    assertThat(PatchDescription.describe(pod, patch))
        .containsExactly(
            "+ annotation pypimirror.dev/injected: corp@0123abcd",
            "+ annotation pypimirror.dev/skipped: c:/etc/pip.conf");
  }

  @Test
  void aReplacedAnnotationIsSaidToBeReplaced() {
    JsonNode pod =
        yaml(
            """
            metadata: {name: p, annotations: {pypimirror.dev/injected: forged@ffffffff}}
            spec: {containers: [{name: c}]}
            """);
    JsonNode patch =
        json(
            """
            [{"op":"replace","path":"/metadata/annotations/pypimirror.dev~1injected","value":"corp@0123abcd"},
             {"op":"replace","path":"/metadata/annotations","value":{"team":"ml"}}]
            """);

    assertThat(PatchDescription.describe(pod, patch))
        .containsExactly(
            "replaced annotation pypimirror.dev/injected: corp@0123abcd",
            "replaced annotation team: ml");
  }
}
