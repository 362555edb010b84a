package dev.pypimirror.operator.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.Undecodable;
import io.fabric8.kubernetes.api.model.DefaultKubernetesResourceList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TolerantDecodingTest {
  private static final String GOOD =
      """
      {"apiVersion": "pypimirror.dev/v1alpha1", "kind": "PypiMirror",
       "metadata": {"name": "good", "namespace": "team", "uid": "u1", "resourceVersion": "1"},
       "spec": {"indexes": [{"url": "https://pypi.example/simple/"}]},
       "status": {"observedGeneration": 1}}""";
  private static final String BAD =
      """
      {"apiVersion": "pypimirror.dev/v1alpha1", "kind": "PypiMirror",
       "metadata": {"name": "bad", "namespace": "team", "uid": "u2", "resourceVersion": "2",
                    "labels": {"a": "b"}},
       "spec": {"indexes": [{"url": "https://pypi.example/simple/"}]},
       "status": {"observedGeneration": "x"}}""";

  private final KubernetesSerialization tolerant = new TolerantDecoding.Serialization();

  @Test
  void aListWithOneUndecodableItemDecodesTheOthersAndKeepsItsMetadata() {
    DefaultKubernetesResourceList<PypiMirror> list =
        tolerant.unmarshal(
            new ByteArrayInputStream(
                ("{\"apiVersion\": \"pypimirror.dev/v1alpha1\", \"kind\": \"PypiMirrorList\","
                        + " \"metadata\": {}, \"items\": ["
                        + GOOD
                        + ", "
                        + BAD
                        + "]}")
                    .getBytes(StandardCharsets.UTF_8)),
            new TypeReference<DefaultKubernetesResourceList<PypiMirror>>() {});

    assertThat(list.getItems()).hasSize(2);
    PypiMirror good = list.getItems().get(0);
    assertThat(Undecodable.is(good)).isFalse();
    assertThat(good.getStatus().getObservedGeneration()).isEqualTo(1L);
    PypiMirror bad = list.getItems().get(1);
    assertThat(bad.getMetadata().getName()).isEqualTo("bad");
    assertThat(bad.getMetadata().getUid()).isEqualTo("u2");
    assertThat(bad.getMetadata().getLabels()).containsEntry("a", "b");
    assertThat(bad.getSpec()).isNull();
    assertThat(bad.getStatus()).isNull();
    assertThat(Undecodable.cause(bad))
        .hasValueSatisfying(
            c -> assertThat(c).startsWith("status.observedGeneration: Cannot deserialize"));
    assertThat(Undecodable.describe(bad))
        .startsWith(
            "PypiMirror team/bad cannot be read by the operator (status.observedGeneration:");
  }

  @Test
  void aCopyOfAnUndecodableObjectStaysUndecodable() {
    PypiMirror bad = tolerant.unmarshal(BAD, PypiMirror.class);

    PypiMirror copy = tolerant.clone(bad);

    assertThat(Undecodable.cause(copy)).isEqualTo(Undecodable.cause(bad));
    assertThat(copy.getSpec()).isNull();
  }

  @Test
  void aMarkOnAnObjectWithASpecIsNotTrusted() {
    PypiMirror forged =
        tolerant.unmarshal(
            GOOD.replace(
                "\"uid\": \"u1\"", "\"uid\": \"u1\", \"pypimirror.dev/undecodable\": \"forged\""),
            PypiMirror.class);

    assertThat(Undecodable.is(forged)).isFalse();
    assertThat(forged.getSpec().getIndexes()).hasSize(1);
  }

  @Test
  void aPolicyDecodesAsTolerantly() {
    PypiMirrorPolicy policy =
        tolerant.unmarshal(
            "{\"apiVersion\": \"pypimirror.dev/v1alpha1\", \"kind\": \"PypiMirrorPolicy\","
                + " \"metadata\": {\"name\": \"corp\"}, \"spec\": {\"priority\": {\"a\": 1}}}",
            PypiMirrorPolicy.class);

    assertThat(Undecodable.cause(policy))
        .hasValueSatisfying(c -> assertThat(c).startsWith("spec.priority: "));
  }

  @Test
  void withoutReadableMetadataTheErrorStands() {
    assertThatThrownBy(
            () ->
                tolerant.unmarshal(
                    BAD.replace("\"labels\": {\"a\": \"b\"}", "\"labels\": \"b\""),
                    PypiMirror.class))
        .hasStackTraceContaining("labels");
  }
}
