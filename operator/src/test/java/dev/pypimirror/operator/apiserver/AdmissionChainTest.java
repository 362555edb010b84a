package dev.pypimirror.operator.apiserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.CelMatchConditions;
import dev.pypimirror.operator.testing.LoopbackWebhook;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.TestTls;
import dev.pypimirror.operator.tls.CertificateAuthority;
import dev.pypimirror.operator.tls.ReloadingKeyManager;
import dev.pypimirror.operator.webhook.AdmissionResponse;
import dev.pypimirror.operator.webhook.WebhookServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admission chain against a real HTTPS webhook: which webhooks it calls, in which order, how it
 * trusts them, and what it does when they fail, as kube-apiserver documents it.
 */
class AdmissionChainTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SERVICE = "hooks";
  private static final String NAMESPACE = "system";

  @TempDir static Path tls;
  private static CertificateAuthority ca;
  private static WebhookServer server;
  private static final List<String> called = new CopyOnWriteArrayList<>();

  /** Webhooks by path: each adds its name to a label list, or denies, or sleeps. */
  @BeforeAll
  static void startWebhooks() throws Exception {
    ca = TestTls.newCa();
    var issued =
        ca.issue(
            List.of(SERVICE + "." + NAMESPACE + ".svc"),
            List.of(),
            Instant.now(),
            Duration.ofDays(1));
    Files.writeString(tls.resolve("tls.crt"), issued.certificatePem());
    Files.writeString(tls.resolve("tls.key"), issued.keyPem());
    Map<String, Function<byte[], AdmissionResponse>> routes =
        Map.of(
            "/label-a",
            body -> labelling(body, "a"),
            "/label-b",
            body -> labelling(body, "b"),
            "/deny",
            body ->
                answer(
                    body,
                    r ->
                        r.put("allowed", false)
                            .putObject("status")
                            .put("code", 403)
                            .put("message", "no builds on Sundays")),
            "/warn",
            body -> answer(body, r -> r.put("allowed", true).putArray("warnings").add("careful")),
            "/remove-missing",
            body -> patching(body, "[{\"op\": \"remove\", \"path\": \"/metadata/labels/absent\"}]"),
            "/mount-data-again",
            body ->
                patching(
                    body,
                    "[{\"op\": \"add\", \"path\": \"/spec/containers/0/volumeMounts/-\","
                        + " \"value\": {\"name\": \"data\", \"mountPath\": \"/data\"}}]"));
    server = serve(routes);
  }

  private static WebhookServer serve(Map<String, Function<byte[], AdmissionResponse>> routes)
      throws Exception {
    return LoopbackWebhook.server(
            ReloadingKeyManager.Source.files(tls.resolve("tls.crt"), tls.resolve("tls.key")),
            routes,
            () -> true,
            Duration.ofSeconds(10))
        .start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static AdmissionResponse answer(
      byte[] body, java.util.function.Consumer<ObjectNode> fill) {
    try {
      JsonNode review = JSON.readTree(body);
      ObjectNode out =
          JSON.createObjectNode()
              .put("apiVersion", "admission.k8s.io/v1")
              .put("kind", "AdmissionReview");
      ObjectNode response =
          out.putObject("response").put("uid", review.at("/request/uid").asText());
      fill.accept(response);
      return new AdmissionResponse(200, "application/json", JSON.writeValueAsBytes(out));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static AdmissionResponse patching(byte[] body, String patch) {
    return answer(
        body,
        r ->
            r.put("allowed", true)
                .put("patchType", "JSONPatch")
                .put(
                    "patch",
                    Base64.getEncoder().encodeToString(patch.getBytes(StandardCharsets.UTF_8))));
  }

  /** Appends its name to the pod's "order" annotation, once per call (so a reinvocation shows). */
  private static AdmissionResponse labelling(byte[] body, String name) {
    try {
      JsonNode pod = JSON.readTree(body).at("/request/object");
      called.add(name + ":" + pod.at("/metadata/annotations/order").asText(""));
      String order = pod.at("/metadata/annotations/order").asText("") + name;
      String patch =
          JSON.createArrayNode()
              .add(
                  JSON.createObjectNode()
                      .put("op", "add")
                      .put("path", "/metadata/annotations/order")
                      .put("value", order))
              .toString();
      return patching(body, patch);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static AdmissionChain chain() {
    return chain(server);
  }

  private static AdmissionChain chain(WebhookServer serving) {
    return new AdmissionChain(
        new WebhookTransport(
            (ns, name, port) ->
                ns.equals(NAMESPACE) && name.equals(SERVICE) && port == 443
                    ? "127.0.0.1:" + serving.port()
                    : null),
        new CelMatchConditions());
  }

  private static ObjectNode webhook(String name, String path, String failurePolicy) {
    ObjectNode webhook =
        Pods.yaml(
            """
            name: %s
            failurePolicy: %s
            timeoutSeconds: 10
            clientConfig:
              service: {namespace: %s, name: %s, path: %s}
            rules:
              - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods], scope: Namespaced}
            """
                .formatted(name, failurePolicy, NAMESPACE, SERVICE, path));
    ((ObjectNode) webhook.at("/clientConfig"))
        .put(
            "caBundle",
            Base64.getEncoder()
                .encodeToString(ca.certificatePem().getBytes(StandardCharsets.UTF_8)));
    return webhook;
  }

  private static JsonNode configuration(String name, JsonNode... webhooks) {
    ObjectNode config = JSON.createObjectNode();
    config.putObject("metadata").put("name", name);
    var list = config.putArray("webhooks");
    for (JsonNode w : webhooks) {
      list.add(w);
    }
    return config;
  }

  private static AdmissionChain.Request podCreate(
      Map<String, String> labels, Map<String, String> namespaceLabels) {
    ObjectNode pod =
        Pods.yaml(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns, annotations: {}}\nspec: {containers: [{name: c, image: i}]}");
    labels.forEach((k, v) -> pod.withObject("/metadata").withObject("/labels").put(k, v));
    return new AdmissionChain.Request(
        "CREATE", "", "v1", "pods", "", "Pod", "ns", "p", pod, null, namespaceLabels);
  }

  @Test
  void mutatingWebhooksRunInNameOrderAndAnIfNeededOneIsCalledAgainAfterALaterChange() {
    called.clear();
    ObjectNode first =
        webhook("a.example", "/label-a", "Fail").put("reinvocationPolicy", "IfNeeded");
    ObjectNode second = webhook("b.example", "/label-b", "Fail");

    AdmissionChain.Outcome outcome =
        chain()
            .mutate(
                podCreate(Map.of(), Map.of()),
                List.of(configuration("z-second", second), configuration("a-first", first)));

    assertThat(outcome.allowed()).isTrue();
    assertThat(called).containsExactly("a:", "b:a", "a:ab");
    assertThat(outcome.object().at("/metadata/annotations/order").asText()).isEqualTo("aba");
  }

  @Test
  void selectorsAndMatchConditionsChooseTheWebhooksCalled() {
    called.clear();
    ObjectNode byNamespace = webhook("ns.example", "/label-a", "Fail");
    byNamespace.set("namespaceSelector", Pods.yaml("matchLabels: {team: ml}"));
    ObjectNode byObject = webhook("obj.example", "/label-b", "Fail");
    byObject.set("objectSelector", Pods.yaml("matchExpressions: [{key: build, operator: Exists}]"));
    ObjectNode byCondition = webhook("cel.example", "/label-a", "Fail");
    byCondition.set(
        "matchConditions",
        JSON.createArrayNode()
            .add(Pods.yaml("{name: named-x, expression: \"object.metadata.name == 'x'\"}")));
    ObjectNode otherResource = webhook("svc.example", "/label-a", "Fail");
    ((ObjectNode) otherResource.at("/rules/0")).putArray("resources").add("services");
    List<JsonNode> configs =
        List.of(configuration("c", byNamespace, byObject, byCondition, otherResource));

    chain().mutate(podCreate(Map.of("build", "yes"), Map.of("team", "web")), configs);
    assertThat(called).containsExactly("b:");

    called.clear();
    chain().mutate(podCreate(Map.of(), Map.of("team", "ml")), configs);
    assertThat(called).containsExactly("a:");
  }

  @Test
  void aSelectorThatDoesNotConvertRefusesWith500WhateverTheFailurePolicy() {
    called.clear();
    ObjectNode badNamespaceSelector = webhook("ns.example", "/label-a", "Ignore");
    badNamespaceSelector.set(
        "namespaceSelector",
        Pods.yaml("matchExpressions: [{key: team, operator: Within, values: [ml]}]"));
    ObjectNode badObjectSelector = webhook("obj.example", "/label-a", "Ignore");
    badObjectSelector.set(
        "objectSelector", Pods.yaml("matchExpressions: [{key: build, operator: In}]"));

    for (ObjectNode bad : List.of(badNamespaceSelector, badObjectSelector)) {
      AdmissionChain.Outcome outcome =
          chain().mutate(podCreate(Map.of(), Map.of()), List.of(configuration("c", bad)));
      assertThat(outcome.refusal())
          .as("kube-apiserver's ShouldCallHook: NewInternalError, not a call failure")
          .satisfies(
              r -> {
                assertThat(r.code()).isEqualTo(500);
                assertThat(r.reason()).isEqualTo("InternalError");
                assertThat(r.message())
                    .startsWith("Internal error occurred: invalid label selector: ");
              });
      assertThat(
              chain()
                  .validate(podCreate(Map.of(), Map.of()), List.of(configuration("c", bad)))
                  .allowed())
          .isFalse();
    }
    assertThat(called).as("no webhook was called").isEmpty();
  }

  @Test
  void aSelectorThatDoesNotConvertIsNoErrorWhereTheWebhookIsSkippedAnyway() {
    called.clear();
    ObjectNode otherResource = webhook("svc.example", "/label-a", "Fail");
    ((ObjectNode) otherResource.at("/rules/0")).putArray("resources").add("services");
    otherResource.set(
        "namespaceSelector", Pods.yaml("matchExpressions: [{key: team, operator: Within}]"));
    ObjectNode excludedByNamespace = webhook("ns.example", "/label-a", "Fail");
    excludedByNamespace.set("namespaceSelector", Pods.yaml("matchLabels: {team: ml}"));
    excludedByNamespace.set("objectSelector", Pods.yaml("matchLabels: {\"not a key\": x}"));

    AdmissionChain.Outcome outcome =
        chain()
            .mutate(
                podCreate(Map.of(), Map.of("team", "web")),
                List.of(configuration("c", otherResource, excludedByNamespace)));

    assertThat(outcome.allowed()).isTrue();
    assertThat(called).isEmpty();
  }

  @Test
  void aPolicysSelectorThatDoesNotConvertIsAnErrorForItsFailurePolicy() {
    JsonNode bad =
        Pods.yaml(
            "namespaceSelector: {matchExpressions: [{key: team, operator: Exists, values: [x]}]}");
    assertThatThrownBy(() -> AdmissionChain.matchResources(bad, podCreate(Map.of(), Map.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid label selector");
    JsonNode otherResource =
        ((ObjectNode) bad.deepCopy())
            .set(
                "resourceRules",
                JSON.createArrayNode()
                    .add(
                        Pods.yaml(
                            "{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE],"
                                + " resources: [services]}")));
    assertThat(AdmissionChain.matchResources(otherResource, podCreate(Map.of(), Map.of())))
        .isFalse();
  }

  @Test
  void aMatchConditionReadingNamespaceObjectErrorsAndTheFailurePolicyDecides() {
    String expression = "has(namespaceObject.metadata.labels)";
    ObjectNode failing = webhook("closed.example", "/label-a", "Fail");
    failing.set(
        "matchConditions",
        JSON.createArrayNode()
            .add(JSON.createObjectNode().put("name", "ns").put("expression", expression)));
    ObjectNode ignoring =
        failing.deepCopy().put("name", "open.example").put("failurePolicy", "Ignore");

    assertThat(
            chain()
                .mutate(podCreate(Map.of(), Map.of()), List.of(configuration("c", ignoring)))
                .allowed())
        .isTrue();
    AdmissionChain.Outcome refused =
        chain().mutate(podCreate(Map.of(), Map.of()), List.of(configuration("c", failing)));
    assertThat(refused.refusal().code()).isEqualTo(500);
    assertThat(refused.refusal().message())
        .contains("failed calling webhook \"closed.example\"", "matchCondition ns errored");
  }

  @Test
  void aWebhookIsTrustedOnlyThroughItsCaBundleAndForItsServiceName() {
    ObjectNode otherCa = webhook("ca.example", "/label-a", "Fail");
    ((ObjectNode) otherCa.at("/clientConfig"))
        .put(
            "caBundle",
            Base64.getEncoder()
                .encodeToString(TestTls.newCa().certificatePem().getBytes(StandardCharsets.UTF_8)));
    ObjectNode byUrl = webhook("url.example", "/label-a", "Fail");
    ((ObjectNode) byUrl.at("/clientConfig")).remove("service");
    ((ObjectNode) byUrl.at("/clientConfig"))
        .put("url", "https://127.0.0.1:" + server.port() + "/label-a");

    assertThat(
            chain()
                .mutate(podCreate(Map.of(), Map.of()), List.of(configuration("c", otherCa)))
                .refusal()
                .message())
        .contains("failed calling webhook \"ca.example\"");
    assertThat(
            chain()
                .mutate(podCreate(Map.of(), Map.of()), List.of(configuration("c", byUrl)))
                .refusal()
                .message())
        .as("the certificate names the service, not 127.0.0.1")
        .contains("failed calling webhook \"url.example\"");
  }

  @Test
  void aSlowWebhookTimesOutAndTheFailurePolicyDecides() throws Exception {
    Function<byte[], AdmissionResponse> slowly =
        body -> {
          try {
            Thread.sleep(2500);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return answer(body, r -> r.put("allowed", true));
        };
    try (WebhookServer slowServer = serve(Map.of("/slow", slowly))) {
      List<JsonNode> ignoring =
          List.of(
              configuration(
                  "c", webhook("slow.example", "/slow", "Ignore").put("timeoutSeconds", 1)));
      List<JsonNode> failing =
          List.of(
              configuration(
                  "c", webhook("slow.example", "/slow", "Fail").put("timeoutSeconds", 1)));
      assertThat(chain(slowServer).mutate(podCreate(Map.of(), Map.of()), ignoring).allowed())
          .isTrue();
      assertThat(
              chain(slowServer).mutate(podCreate(Map.of(), Map.of()), failing).refusal().message())
          .contains("failed calling webhook \"slow.example\"", "timed out");
    }
  }

  @Test
  void aDenialRefusesWithTheWebhooksCodeAndMessageAndWarningsAreKept() {
    List<JsonNode> configs =
        List.of(
            configuration(
                "c",
                webhook("warn.example", "/warn", "Fail"),
                webhook("deny.example", "/deny", "Ignore")));

    AdmissionChain.Outcome outcome = chain().validate(podCreate(Map.of(), Map.of()), configs);

    assertThat(outcome.refusal())
        .isEqualTo(
            new AdmissionChain.Refusal(
                403,
                "",
                "admission webhook \"deny.example\" denied the request: no builds on Sundays"));
    assertThat(outcome.warnings()).containsExactly("careful");
  }

  @Test
  void ruleResourcesMatchAsTheApiServerDocumentsThem() {
    var status =
        new AdmissionChain.Request(
            "UPDATE", "", "v1", "pods", "status", "Pod", "ns", "p", null, null, Map.of());
    List<String> matching = new ArrayList<>();
    for (String resources : List.of("pods", "*", "pods/status", "pods/*", "*/status", "*/*")) {
      ObjectNode w = webhook("w", "/x", "Fail");
      ((ObjectNode) w.at("/rules/0")).putArray("resources").add(resources);
      ((ObjectNode) w.at("/rules/0")).putArray("operations").add("*");
      if (AdmissionChain.rulesMatch(w, status)) {
        matching.add(resources);
      }
    }
    assertThat(matching).containsExactly("pods/status", "pods/*", "*/status", "*/*");
  }

  @Test
  void aPatchThatFailsToApplyIsA500WhateverTheFailurePolicy() {
    AdmissionChain.Outcome outcome =
        chain()
            .mutate(
                podCreate(Map.of(), Map.of()),
                List.of(
                    configuration("c", webhook("remove.example", "/remove-missing", "Ignore"))));

    assertThat(outcome.refusal())
        .as("evanphx/json-patch refuses to remove a missing member; Ignore covers calls only")
        .isEqualTo(
            new AdmissionChain.Refusal(
                500,
                "InternalError",
                "Internal error occurred: unable to remove nonexistent key:"
                    + " /metadata/labels/absent: missing value"));
  }

  @Test
  void theApiServerRefusesAPodItsWebhookMadeInvalidWhateverTheFailurePolicy() throws Exception {
    try (ApiServer api = ApiServer.start()) {
      api.routeService(NAMESPACE, SERVICE, 443, "127.0.0.1:" + server.port());
      ObjectNode hook = webhook("mounts.example.dev", "/mount-data-again", "Ignore");
      hook.put("sideEffects", "None").putArray("admissionReviewVersions").add("v1");
      ObjectNode config = (ObjectNode) configuration("mounts", hook);
      config
          .put("apiVersion", "admissionregistration.k8s.io/v1")
          .put("kind", "MutatingWebhookConfiguration");
      KubernetesClient client = api.client();
      client
          .resource(
              client
                  .getKubernetesSerialization()
                  .convertValue(config, GenericKubernetesResource.class))
          .create();
      MockCluster.namespace(client, "ns", Map.of());
      Pod pod =
          client
              .getKubernetesSerialization()
              .unmarshal(
                  """
                  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"},
                   "spec": {"volumes": [{"name": "data", "emptyDir": {}}],
                            "containers": [{"name": "c", "image": "i",
                                            "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}}
                  """,
                  Pod.class);

      assertThatThrownBy(() -> client.resource(pod).create())
          .isInstanceOf(KubernetesClientException.class)
          .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(422))
          .hasMessageContaining(
              "Pod \"p\" is invalid: spec.containers[0].volumeMounts[1].mountPath: Invalid value:"
                  + " \"/data\": must be unique");
      assertThat(client.pods().inNamespace("ns").withName("p").get()).isNull();
    }
  }
}
