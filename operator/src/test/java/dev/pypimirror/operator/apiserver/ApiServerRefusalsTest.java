package dev.pypimirror.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.CustomResourceSchemas;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Pods;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the test API server refuses that fabric8's mock server alone would store, answered as
 * kube-apiserver answers it: namespaces that do not exist or are being deleted, invalid webhook
 * configurations, custom resources with a name that is not a DNS subdomain, a /status write that
 * breaks the schema, an object over its schema's maxProperties, a cache mounted where the
 * configuration goes.
 */
class ApiServerRefusalsTest {
  static ApiServer api;
  static KubernetesClient client;

  @BeforeAll
  static void start() throws Exception {
    api = ApiServer.start().installCrds();
    client = api.client();
    MockCluster.namespace(client, "team", Map.of());
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  private static void refused(ThrowingCallable write, int code, String message) {
    assertThatThrownBy(write)
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(
            e ->
                assertThat(((KubernetesClientException) e).getCode())
                    .as(e.getMessage())
                    .isEqualTo(code))
        .hasMessageContaining(message);
  }

  private static Pod pod(String namespace) {
    return client
        .getKubernetesSerialization()
        .convertValue(
            Pods.yaml(
                "{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: %s}, spec: {containers: [{name: c, image: i}]}}"
                    .formatted(namespace)),
            Pod.class);
  }

  @Test
  void nothingIsWrittenIntoANamespaceThatDoesNotExist() {
    refused(
        () -> client.resource(pod("nowhere")).create(), 404, "namespaces \"nowhere\" not found");
    refused(
        () ->
            client
                .resource(Mirrors.mirror("nowhere", "m", Mirrors.spec(Mirrors.https("https://a/"))))
                .create(),
        404,
        "namespaces \"nowhere\" not found");
    assertThat(client.pods().inNamespace("default").resource(pod("default")).create()).isNotNull();
  }

  @Test
  void nothingIsCreatedInANamespaceBeingDeleted() {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName("leaving")
                .endMetadata()
                .withNewStatus()
                .withPhase("Terminating")
                .endStatus()
                .build())
        .create();

    refused(
        () -> client.resource(pod("leaving")).create(),
        403,
        "pods \"p\" is forbidden: unable to create new content in namespace leaving because it is"
            + " being terminated");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          duplicate names   | {name: a.example.dev}                       | {name: a.example.dev}                | webhooks[1].name: Duplicate value: "a.example.dev"
          timeout 31        | {name: a.example.dev}                       | {name: b.example.dev, timeoutSeconds: 31} | webhooks[1].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds
          side effects      | {name: a.example.dev}                       | {name: b.example.dev, sideEffects: Some} | webhooks[1].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"
          review version    | {name: a.example.dev}                       | {name: b.example.dev, admissionReviewVersions: [v9]} | webhooks[1].admissionReviewVersions: Invalid value: ["v9"]: must include at least one of v1, v1beta1
          plain http        | {name: a.example.dev}                       | {name: b.example.dev, clientConfig: {url: "http://hooks.example/"}} | webhooks[1].clientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme; desired format: https://host[/path]
          query in url      | {name: a.example.dev}                       | {name: b.example.dev, clientConfig: {url: "https://hooks.example/?a=b"}} | webhooks[1].clientConfig.url: Invalid value: "a=b": query parameters are not permitted in the URL
          two segments      | {name: a.example.dev}                       | {name: b.example}                    | webhooks[1].name: Invalid value: "b.example": should be a domain with at least three segments separated by dots
          not a subdomain   | {name: a.example.dev}                       | {name: B.example.dev}                | webhooks[1].name: Invalid value: "B.example.dev": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')
          invalid twice     | {name: b.example}                           | {name: b.example, timeoutSeconds: 0} | [webhooks[0].name: Invalid value: "b.example": should be a domain with at least three segments separated by dots, webhooks[1].name: Invalid value: "b.example": should be a domain with at least three segments separated by dots, webhooks[1].timeoutSeconds: Invalid value: 0: the timeout value must be between 1 and 30 seconds, webhooks[1].name: Duplicate value: "b.example"]
          """)
  void anInvalidWebhookConfigurationIsRefused(
      String why, String first, String second, String problem) {
    for (String kind : List.of("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")) {
      ObjectNode config =
          Pods.yaml(
              "{apiVersion: admissionregistration.k8s.io/v1, kind: %s, metadata: {name: hooks}, webhooks: []}"
                  .formatted(kind));
      for (String entry : List.of(first, second)) {
        ObjectNode webhook =
            Pods.yaml(
                "{sideEffects: None, admissionReviewVersions: [v1], clientConfig: {service: {namespace: s, name: h}}}");
        webhook.setAll(Pods.yaml(entry));
        config.withArray("webhooks").add(webhook);
      }
      GenericKubernetesResource resource =
          client.getKubernetesSerialization().convertValue(config, GenericKubernetesResource.class);

      refused(
          () -> client.resource(resource).create(),
          422,
          kind + ".admissionregistration.k8s.io \"hooks\" is invalid: " + problem);
      assertThat(
              client
                  .genericKubernetesResources("admissionregistration.k8s.io/v1", kind)
                  .withName("hooks")
                  .get())
          .as(why)
          .isNull();
    }
  }

  @Test
  void aCustomResourceNameMustBeADnsSubdomain() {
    refused(
        () ->
            client
                .resource(
                    Mirrors.mirror(
                        "team", "Not_A_DNS_Name", Mirrors.spec(Mirrors.https("https://a/"))))
                .create(),
        422,
        "PypiMirror.pypimirror.dev \"Not_A_DNS_Name\" is invalid: metadata.name: Invalid value:"
            + " \"Not_A_DNS_Name\": a lowercase RFC 1123 subdomain must consist of lower case"
            + " alphanumeric characters, '-' or '.', and must start and end with an alphanumeric"
            + " character");
  }

  @Test
  void aStatusWriteIsCheckedAgainstTheSchema() {
    PypiMirror mirror =
        client
            .resource(Mirrors.mirror("team", "status", Mirrors.spec(Mirrors.https("https://a/"))))
            .create();
    JsonNode bad = Pods.yaml("{status: {observedGeneration: x}}");
    GenericKubernetesResource stored =
        client
            .genericKubernetesResources("pypimirror.dev/v1alpha1", "PypiMirror")
            .inNamespace("team")
            .withName("status")
            .get();
    stored.setAdditionalProperty(
        "status", client.getKubernetesSerialization().convertValue(bad.get("status"), Map.class));

    refused(
        () ->
            client
                .genericKubernetesResources("pypimirror.dev/v1alpha1", "PypiMirror")
                .inNamespace("team")
                .resource(stored)
                .updateStatus(),
        422,
        "PypiMirror.pypimirror.dev \"status\" is invalid: status.observedGeneration: Invalid value:"
            + " \"x\": status.observedGeneration in body must be of type integer");
    assertThat(mirror.getStatus()).isNull();
  }

  @Test
  void maxPropertiesIsChecked() {
    JsonNode crd =
        Pods.yaml(
            """
            {spec: {versions: [{name: v1, schema: {openAPIV3Schema: {type: object, properties: {
              spec: {type: object, maxProperties: 2, additionalProperties: {type: string}}}}}}]}}
            """);
    AdmittingDispatcher.Resource resource =
        new AdmittingDispatcher.Resource("example.dev", "v1", "things", "", "team", "t");
    JsonNode thing = Pods.yaml("{kind: Thing, metadata: {name: t}, spec: {a: x, b: y, c: z}}");

    assertThat(new CustomResourceSchemas().validate(resource, thing, null, path -> crd))
        .containsExactly("spec: Too many: 3: must have at most 2 items");
  }

  private static PypiMirror cachedAt(String name, String mountPath) {
    return Mirrors.mirror(
        "team",
        name,
        Mirrors.withCache(Mirrors.spec(Mirrors.https("https://a.example/")), mountPath));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"/etc/pypi-mirror", "/etc/pypi-mirror/x", "/etc", "/etc/pip.conf", "/root"})
  void aCacheMountedWhereTheConfigurationGoesIsRefusedByTheCrd(String mountPath) {
    assertThatThrownBy(() -> client.resource(cachedAt("clash", mountPath)).create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining(
            "PypiMirror.pypimirror.dev \"clash\" is invalid: spec: Invalid value: \"object\":"
                + " cache.mountPath may not be at, above or below a path the mirror's"
                + " configuration is mounted at");
    assertThat(client.resources(PypiMirror.class).inNamespace("team").withName("clash").get())
        .isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/tmp/pypi/", "/tmp//pypi", "/tmp/./pypi", "/tmp/../etc"})
  void aCachePathWrittenOtherThanPlainlyIsRefusedByTheCrd(String mountPath) {
    assertThatThrownBy(() -> client.resource(cachedAt("unclean", mountPath)).create())
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
        .hasMessageContaining("spec.cache.mountPath: Invalid value: \"" + mountPath + "\"");
  }
}
