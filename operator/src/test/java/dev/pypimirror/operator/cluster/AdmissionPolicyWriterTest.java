package dev.pypimirror.operator.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.admissionpolicy.InjectionPolicies;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.Pods;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The leader's writer of admission policies, against the test API server. */
class AdmissionPolicyWriterTest {
  static List<String> names(KubernetesClient client, String kind) {
    return client
        .genericKubernetesResources(AdmissionPolicyWriter.resource(kind))
        .list()
        .getItems()
        .stream()
        .map(r -> r.getMetadata().getName())
        .sorted()
        .toList();
  }

  @Test
  void writesWhatTheMirrorsNeedInjectsThroughItAndDeletesWhatNoMirrorNeeds() {
    try (ApiServer api = ApiServer.start()) {
      KubernetesClient client = api.client();
      client
          .namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName("builds").endMetadata().build())
          .create();
      PypiMirror corp =
          Pods.readyMirror(
              "builds", "corp", Mirrors.spec(Mirrors.https("https://devpi.example/simple/")));
      List<PypiMirror> mirrors = new ArrayList<>(List.of(corp));
      AdmissionPolicyWriter writer =
          new AdmissionPolicyWriter(
              client,
              "pypi-mirror-system",
              Pods.directory(corp),
              () -> List.copyOf(mirrors),
              PolicyDirectory.NONE,
              () -> java.util.Optional.of(List.of()));

      var owner =
          new io.fabric8.kubernetes.api.model.OwnerReferenceBuilder()
              .withApiVersion("rbac.authorization.k8s.io/v1")
              .withKind("ClusterRole")
              .withName("pypi-mirror-operator")
              .withUid("0f6c1c2e-0000-4000-8000-000000000001")
              .build();
      writer.ownedBy(() -> java.util.Optional.of(owner));
      writer.sync();
      writer.sync();

      assertThat(names(client, InjectionPolicies.POLICY_KIND))
          .containsExactly("pypi-mirror-skipped.builds", "pypi-mirror.builds.corp");
      assertThat(names(client, InjectionPolicies.BINDING_KIND))
          .containsExactly("pypi-mirror-skipped.builds", "pypi-mirror.builds.corp");
      assertThat(
              client
                  .genericKubernetesResources(
                      AdmissionPolicyWriter.resource(InjectionPolicies.POLICY_KIND))
                  .withName("pypi-mirror.builds.corp")
                  .get()
                  .getMetadata()
                  .getOwnerReferences())
          .as("owned by the install's ClusterRole, as the webhook configurations are")
          .containsExactly(owner);
      GenericKubernetesResource pod =
          client
              .genericKubernetesResources("v1", "Pod")
              .inNamespace("builds")
              .resource(
                  client
                      .getKubernetesSerialization()
                      .convertValue(
                          Pods.yaml(
                              """
                              apiVersion: v1
                              kind: Pod
                              metadata: {name: build, annotations: {pypimirror.dev/mirror: corp}}
                              spec: {containers: [{name: c, image: python}]}
                              """),
                          GenericKubernetesResource.class))
              .create();
      assertThat(pod.getMetadata().getAnnotations()).containsKey("pypimirror.dev/injected");

      mirrors.clear();
      writer.sync();

      assertThat(names(client, InjectionPolicies.POLICY_KIND)).isEmpty();
      assertThat(names(client, InjectionPolicies.BINDING_KIND)).isEmpty();
    }
  }
}
