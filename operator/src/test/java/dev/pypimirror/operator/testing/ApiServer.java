package dev.pypimirror.operator.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.apiserver.AdmissionChain;
import dev.pypimirror.operator.apiserver.AdmittingDispatcher;
import dev.pypimirror.operator.apiserver.CelAdmissionPolicies;
import dev.pypimirror.operator.apiserver.WebhookTransport;
import dev.pypimirror.operator.webhook.WebhookCertificateManager;
import dev.pypimirror.operator.webhook.WebhookConfigurations;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Kubernetes API server for tests that admits as kube-apiserver does: fabric8's mock server in
 * CRUD mode stores, and in front of it every write goes through NamespaceLifecycle (the namespaces
 * default, kube-system, kube-public and kube-node-lease exist from the start), CRD schema
 * validation with defaults and CEL rules (422 with the rule's message), pod validation after
 * mutation, webhook configuration validation, and the admission webhooks chosen from the
 * MutatingWebhookConfigurations and ValidatingWebhookConfigurations in the store, called over HTTPS
 * with their caBundle (see {@link AdmittingDispatcher}, {@link AdmissionChain}, {@link
 * CustomResourceSchemas}, {@link CelMatchConditions} for what is emulated and what is not).
 *
 * <pre>{@code
 * try (ApiServer api = ApiServer.start()) {
 *   KubernetesClient client = api.client();
 *   api.installCrds();                    // the generated CRDs: their schemas now apply
 *   api.installWebhookConfigurations();   // as the leader makes them (the operator would too)
 *   try (OperatorApp app = new OperatorApp(client, selfManagedSettings, clock).start()) {
 *     api.routeWebhookService(app.webhookPort()); // the webhook Service's endpoint
 *     api.awaitCaBundles();                // the leader patched its CA into both configurations
 *     client.resource(pod).create();       // API server -> webhook over HTTPS -> stored, injected
 *   }
 * }
 * }</pre>
 */
public final class ApiServer implements AutoCloseable {
  /** The webhook Service deploy/webhook/service.yaml defines. */
  public static final String WEBHOOK_NAMESPACE = "pypi-mirror-system";

  private static final ObjectMapper RAW = new ObjectMapper();

  private final KubernetesMockServer server;
  private final KubernetesMixedDispatcher storage;
  private final KubernetesClient client;
  private final AdmittingDispatcher dispatcher;
  private final WebhookTransport transport;
  private final Map<String, String> endpoints = new ConcurrentHashMap<>();
  private final List<AdmissionChain.Call> calls = new CopyOnWriteArrayList<>();
  private final CelAdmissionPolicies policies = new CelAdmissionPolicies();

  private ApiServer() {
    Map<ServerRequest, Queue<ServerResponse>> expectations = new HashMap<>();
    transport =
        new WebhookTransport(
            (namespace, name, port) -> endpoints.get(namespace + "/" + name + ":" + port));
    AdmissionChain chain =
        new AdmissionChain(transport, new CelMatchConditions()).observe(calls::add);
    storage = new KubernetesMixedDispatcher(expectations);
    dispatcher = new AdmittingDispatcher(storage, chain, new CustomResourceSchemas(), policies);
    server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), expectations, dispatcher, false);
    server.init();
    client = server.createClient();
    // the namespaces kube-apiserver itself keeps (NamespaceLifecycle refuses writes elsewhere)
    for (String namespace : List.of("default", "kube-system", "kube-public", "kube-node-lease")) {
      ensureNamespace(namespace);
    }
  }

  private void ensureNamespace(String name) {
    if (client.namespaces().withName(name).get() == null) {
      client
          .namespaces()
          .resource(
              new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                  .withNewMetadata()
                  .withName(name)
                  .endMetadata()
                  .build())
          .create();
    }
  }

  public static ApiServer start() {
    return new ApiServer();
  }

  public KubernetesClient client() {
    return client;
  }

  public KubernetesMockServer server() {
    return server;
  }

  /** Creates the CRDs this build generated. */
  public ApiServer installCrds() throws IOException {
    MockCluster.installCrds(client);
    return this;
  }

  /**
   * Creates the operator's namespace (as an install does) and the webhook configurations as the
   * operator's leader creates them before it knows of any policy (the opt-in entry, no caBundle
   * yet): for a cluster where the operator has run once.
   */
  public ApiServer installWebhookConfigurations() {
    ensureNamespace(WEBHOOK_NAMESPACE);
    new WebhookConfigurations(client, WEBHOOK_NAMESPACE, () -> Optional.of(List.of())).sync();
    return this;
  }

  /** Where Service namespace/name:port is served (as kube-proxy would route it). */
  public ApiServer routeService(String namespace, String name, int port, String hostPort) {
    endpoints.put(namespace + "/" + name + ":" + port, hostPort);
    return this;
  }

  /** The operator's webhook Service, served by a webhook on this local port. */
  public ApiServer routeWebhookService(int localPort) {
    return routeService(
        WEBHOOK_NAMESPACE, WebhookCertificateManager.SERVICE, 443, "127.0.0.1:" + localPort);
  }

  /** The webhook Service has no endpoints any more (the operator is down). */
  public ApiServer unrouteWebhookService() {
    endpoints.remove(WEBHOOK_NAMESPACE + "/" + WebhookCertificateManager.SERVICE + ":443");
    return this;
  }

  /**
   * Waits until every webhook of both configurations carries a caBundle (the leader's CA) and
   * answers over TLS that it trusts (each replica reloads the certificate from the Secret). The
   * validating configuration may have no entry at all (the leader adds one per policy).
   */
  public ApiServer awaitCaBundles() {
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(20))
        .until(
            () -> {
              List<JsonNode> webhooks = new java.util.ArrayList<>();
              boolean mutatingHasEntries = false;
              for (String kind :
                  List.of("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")) {
                client
                    .genericKubernetesResources("admissionregistration.k8s.io/v1", kind)
                    .list()
                    .getItems()
                    .forEach(
                        c ->
                            client
                                .getKubernetesSerialization()
                                .convertValue(c, JsonNode.class)
                                .path("webhooks")
                                .forEach(webhooks::add));
                mutatingHasEntries |= kind.startsWith("Mutating") && !webhooks.isEmpty();
              }
              return mutatingHasEntries
                  && webhooks.stream()
                      .allMatch(
                          w ->
                              !w.at("/clientConfig/caBundle").asText("").isEmpty()
                                  && transport.answers(w.path("clientConfig")));
            });
    return this;
  }

  /**
   * Stores {@code json} at {@code objectPath} (e.g. {@code
   * /apis/pypimirror.dev/v1alpha1/namespaces/team/pypimirrors/old}) exactly as given, past
   * admission, schema validation, defaulting and pruning: the test's way of writing etcd directly,
   * for what a real API server can hold but no longer accepts (an object stored before a schema
   * change). Creates the object or replaces it, its status included; watchers are told as for any
   * write. Returns the object as stored.
   */
  public JsonNode storeUnchecked(String objectPath, String json) {
    try {
      var object = (ObjectNode) RAW.readTree(json);
      boolean exists = raw(HttpMethod.GET, objectPath, null).code() == 200;
      String collection = objectPath.substring(0, objectPath.lastIndexOf('/'));
      var written =
          exists
              ? raw(HttpMethod.PUT, objectPath, object)
              : raw(HttpMethod.POST, collection, object);
      if (written.code() >= 300) {
        throw new IllegalStateException("not stored: " + written.getBody().readUtf8());
      }
      if (object.has("status")) {
        var stored = (ObjectNode) RAW.readTree(written.getBody().readUtf8());
        stored.set("status", object.get("status"));
        written = raw(HttpMethod.PUT, objectPath + "/status", stored);
        if (written.code() >= 300) {
          throw new IllegalStateException("status not stored: " + written.getBody().readUtf8());
        }
      }
      return RAW.readTree(written.getBody().readUtf8());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private MockResponse raw(HttpMethod method, String path, JsonNode body) throws IOException {
    return storage.dispatch(
        new RecordedRequest(
            "HTTP/1.1",
            method,
            path,
            Headers.builder().add("Content-Type", "application/json").build(),
            new Buffer(body == null ? new byte[0] : RAW.writeValueAsBytes(body))));
  }

  /** The admission policies this API server evaluates. */
  public CelAdmissionPolicies policies() {
    return policies;
  }

  /** Every webhook call that got an answer, in order. */
  public List<AdmissionChain.Call> calls() {
    return List.copyOf(calls);
  }

  /** Every warning the webhooks returned. */
  public List<String> warnings() {
    return dispatcher.warnings();
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
