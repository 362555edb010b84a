package dev.pypimirror.operator.webhook;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Pods.directory;
import static dev.pypimirror.operator.testing.Pods.json;
import static dev.pypimirror.operator.testing.Pods.readyMirror;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.LoopbackWebhook;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Enforcement and the PypiMirror validating webhook, through the real HTTPS server. */
class PolicyWebhooksTest {
  @TempDir Path dir;
  LoopbackWebhook webhook;
  WebhookServer server;
  HttpClient client;
  PypiMirrorPolicy policy =
      Policies.policy(
          "corp-builds",
          Map.of("team", "ml"),
          spec(https("https://devpi.corp.example/simple/")),
          true);
  PypiMirror policyMirror;

  @BeforeEach
  void start() throws Exception {
    policy.getSpec().getMirror().setOffline(true);
    policy.getSpec().setPodSelector(Policies.selector(Map.of("role", "image-build")));
    policy.getSpec().setAllowedIndexPrefixes(List.of("https://devpi.corp.example/"));
    policy.getSpec().setAllowInsecureHttp(false);
    policy.getSpec().setAllowPublicIndex(false);
    policyMirror = readyMirror("builds", "corp-builds", policy.getSpec().getMirror());
    policyMirror.getMetadata().setLabels(Map.of("pypimirror.dev/policy", "corp-builds"));
    PolicyDirectory policies = ns -> ns.equals("builds") ? Optional.of(policy) : Optional.empty();
    var pods =
        new PodAdmission(
            directory(policyMirror), policies, "pypi-mirror-system", PodAdmission.Listener.NONE);
    var mirrors = new MirrorAdmission(policies);
    webhook =
        LoopbackWebhook.serve(
            dir,
            Map.of(
                WebhookServer.MUTATE_PODS,
                pods::review,
                WebhookServer.VALIDATE_MIRRORS,
                mirrors::review));
    server = webhook.server;
    client = webhook.client();
  }

  @AfterEach
  void stop() {
    webhook.close();
  }

  JsonNode post(String path, String body) throws Exception {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return json(response.body()).path("response");
  }

  static String podReview(String labels, String annotations) {
    ObjectNode review = (ObjectNode) json(Pods.recordedAdmissionReview());
    ObjectNode metadata = (ObjectNode) review.at("/request/object/metadata");
    metadata.set("labels", Pods.yaml(labels));
    metadata.set("annotations", Pods.yaml(annotations));
    return review.toString();
  }

  static String mirrorReview(String operation, String mirrorSpecYaml) {
    ObjectNode review = (ObjectNode) json(Pods.recordedAdmissionReview());
    ObjectNode request = (ObjectNode) review.path("request");
    request.put("operation", operation);
    ((ObjectNode) request.path("kind"))
        .put("group", "pypimirror.dev")
        .put("version", "v1alpha1")
        .put("kind", "PypiMirror");
    ((ObjectNode) request.path("resource"))
        .put("group", "pypimirror.dev")
        .put("version", "v1alpha1")
        .put("resource", "pypimirrors");
    ObjectNode object =
        Pods.yaml(
            "apiVersion: pypimirror.dev/v1alpha1\nkind: PypiMirror\nmetadata: {name: team, namespace: builds}\nspec: "
                + mirrorSpecYaml);
    request.set("object", object);
    return review.toString();
  }

  @Test
  void aBuildPodIsInjectedWithoutAnyAnnotation() throws Exception {
    JsonNode response = post(WebhookServer.MUTATE_PODS, podReview("{role: image-build}", "{}"));

    assertThat(response.path("allowed").asBoolean()).isTrue();
    String patch = new String(Base64.getDecoder().decode(response.path("patch").asText()));
    assertThat(patch).contains("pypimirror.dev~1injected\",\"value\":\"corp-builds@");
    assertThat(patch).doesNotContain("pypi.org");
  }

  @Test
  void anOptOutIsIgnoredUnderEnforceWithAWarning() throws Exception {
    JsonNode response =
        post(WebhookServer.MUTATE_PODS, podReview("{}", "{pypimirror.dev/inject: \"false\"}"));

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isTrue();
    assertThat(response.path("warnings").get(0).asText())
        .contains("is ignored: PypiMirrorPolicy corp-builds enforces");
  }

  @Test
  void aPodThatCannotBeInjectedIsDeniedWithAMessageNamingThePolicy() throws Exception {
    policyMirror.setStatus(Pods.notReady(policyMirror, "Pending").getStatus());

    JsonNode response = post(WebhookServer.MUTATE_PODS, podReview("{role: image-build}", "{}"));

    assertThat(response.path("allowed").asBoolean()).isFalse();
    assertThat(response.at("/status/code").asInt()).isEqualTo(403);
    assertThat(response.at("/status/message").asText())
        .startsWith(
            "PypiMirrorPolicy corp-builds enforces a PyPI mirror here, and it cannot be injected: PypiMirror builds/corp-builds is not Ready");
    assertThat(response.has("patch")).isFalse();
  }

  @Test
  void theValidatingWebhookRefusesEachRuleWithItsMessage() throws Exception {
    JsonNode outside =
        post(
            WebhookServer.VALIDATE_MIRRORS,
            mirrorReview(
                "CREATE", "{indexes: [{url: 'https://pypi.example/simple/'}], offline: true}"));
    JsonNode insecure =
        post(
            WebhookServer.VALIDATE_MIRRORS,
            mirrorReview(
                "UPDATE",
                "{indexes: [{url: 'http://devpi.corp.example/x/', trustedHost: true}], offline: true}"));
    JsonNode publicIndex =
        post(
            WebhookServer.VALIDATE_MIRRORS,
            mirrorReview("CREATE", "{indexes: [{url: 'https://devpi.corp.example/simple/'}]}"));
    JsonNode fine =
        post(
            WebhookServer.VALIDATE_MIRRORS,
            mirrorReview(
                "CREATE",
                "{indexes: [{url: 'https://devpi.corp.example/simple/'}], offline: true}"));
    JsonNode invalid =
        post(
            WebhookServer.VALIDATE_MIRRORS,
            mirrorReview(
                "CREATE", "{indexes: [{url: 'ftp://devpi.corp.example/'}], offline: true}"));

    assertThat(outside.path("allowed").asBoolean()).isFalse();
    assertThat(outside.at("/status/message").asText())
        .isEqualTo(
            "PypiMirror builds/team refused: PypiMirrorPolicy corp-builds: spec.indexes[0].url https://pypi.example/simple/ is not under allowedIndexPrefixes [https://devpi.corp.example/]");
    assertThat(insecure.at("/status/message").asText())
        .contains(
            "PypiMirrorPolicy corp-builds: allowInsecureHttp is false, but spec.indexes[0].url is plain http");
    assertThat(publicIndex.at("/status/message").asText())
        .contains("PypiMirrorPolicy corp-builds: allowPublicIndex is false");
    assertThat(fine.path("allowed").asBoolean()).isTrue();
    assertThat(invalid.path("allowed").asBoolean()).isFalse();
    assertThat(invalid.at("/status/message").asText())
        .contains("scheme must be https, http or file");
  }

  @Test
  void theValidatingWebhookRefusesAForbiddenSyncUpstreamAndOptionLines() throws Exception {
    JsonNode upstream =
        post(
            WebhookServer.VALIDATE_MIRRORS,
            mirrorReview(
                "CREATE",
                "{indexes: [{url: 'https://devpi.corp.example/simple/'}], offline: true, cache:"
                    + " {enabled: true, packages: [six], sync: {upstream:"
                    + " 'https://elsewhere.example/simple/'}}}"));
    JsonNode option =
        post(
            WebhookServer.VALIDATE_MIRRORS,
            mirrorReview(
                "CREATE",
                "{indexes: [{url: 'https://devpi.corp.example/simple/'}], offline: true, cache:"
                    + " {enabled: true, packages: ['six --extra-index-url=https://elsewhere.example/simple/']}}"));

    assertThat(upstream.path("allowed").asBoolean()).isFalse();
    assertThat(upstream.at("/status/message").asText())
        .contains(
            "PypiMirrorPolicy corp-builds: spec.cache.sync.upstream https://elsewhere.example/simple/ is not under allowedIndexPrefixes");
    assertThat(option.path("allowed").asBoolean()).isFalse();
    assertThat(option.at("/status/message").asText())
        .contains(
            "spec.cache.packages[0]: only requirement specifiers and --hash=sha256:<64 hex> are allowed");
  }

  @Test
  void aMirrorGivingPipThePublicIndexBesideAPrivateOneIsAdmittedWithAWarning() throws Exception {
    ObjectNode mixed =
        (ObjectNode)
            json(
                mirrorReview("CREATE", "{indexes: [{url: 'https://devpi.corp.example/simple/'}]}"));
    ((ObjectNode) mixed.path("request")).put("namespace", "ungoverned");
    ObjectNode offline =
        (ObjectNode)
            json(
                mirrorReview(
                    "CREATE",
                    "{indexes: [{url: 'https://devpi.corp.example/simple/'}, {url: 'https://b.corp.example/simple/'}], offline: true}"));
    ((ObjectNode) offline.path("request")).put("namespace", "ungoverned");
    ObjectNode proxied =
        (ObjectNode)
            json(
                mirrorReview(
                    "CREATE",
                    "{indexes: [{url: 'https://devpi.corp.example/simple/'}], cache: {enabled: true, serve: Proxy}}"));
    ((ObjectNode) proxied.path("request")).put("namespace", "ungoverned");

    JsonNode warned = post(WebhookServer.VALIDATE_MIRRORS, mixed.toString());
    JsonNode quiet = post(WebhookServer.VALIDATE_MIRRORS, offline.toString());
    JsonNode proxy = post(WebhookServer.VALIDATE_MIRRORS, proxied.toString());

    assertThat(warned.path("allowed").asBoolean()).isTrue();
    assertThat(warned.path("warnings")).hasSize(1);
    assertThat(warned.path("warnings").get(0).asText())
        .startsWith(
            "pypi-mirror: PypiMirror ungoverned/team: pip gets the public index https://pypi.org/simple beside https://devpi.corp.example/simple/")
        .contains("dependency confusion")
        .contains("serve: Proxy");
    assertThat(quiet.path("allowed").asBoolean()).isTrue();
    assertThat(quiet.path("warnings").isMissingNode() || quiet.path("warnings").isEmpty()).isTrue();
    assertThat(proxy.path("allowed").asBoolean()).as(proxy.toString()).isTrue();
    assertThat(proxy.path("warnings").isMissingNode() || proxy.path("warnings").isEmpty())
        .as(proxy.toString())
        .isTrue();
  }

  @Test
  void theValidatingWebhookLetsDeletesAndOtherNamespacesThroughAndRefusesGarbage()
      throws Exception {
    JsonNode delete =
        post(
            WebhookServer.VALIDATE_MIRRORS,
            mirrorReview("DELETE", "{indexes: [{url: 'https://pypi.example/'}]}"));
    ObjectNode elsewhere =
        (ObjectNode) json(mirrorReview("CREATE", "{indexes: [{url: 'https://pypi.example/'}]}"));
    ((ObjectNode) elsewhere.path("request")).put("namespace", "ungoverned");
    JsonNode ungoverned = post(WebhookServer.VALIDATE_MIRRORS, elsewhere.toString());
    ObjectNode garbage =
        (ObjectNode)
            json(mirrorReview("CREATE", "{indexes: [{url: 'https://devpi.corp.example/'}]}"));
    ((ObjectNode) garbage.at("/request/object")).put("spec", "not an object");
    JsonNode refused = post(WebhookServer.VALIDATE_MIRRORS, garbage.toString());

    assertThat(delete.path("allowed").asBoolean()).isTrue();
    assertThat(ungoverned.path("allowed").asBoolean()).isTrue();
    assertThat(refused.path("allowed").asBoolean()).isFalse();
    assertThat(refused.at("/status/message").asText()).startsWith("not a PypiMirror");

    HttpResponse<String> malformed =
        client.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "https://127.0.0.1:" + server.port() + WebhookServer.VALIDATE_MIRRORS))
                .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(malformed.statusCode()).isEqualTo(400);
  }
}
