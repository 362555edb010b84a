package dev.pypimirror.operator.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.tls.CertificateAuthority;
import dev.pypimirror.operator.webhook.WebhookServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimStatusBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The whole flow in one process, for a newcomer with no cluster: an embedded API server (fabric8's
 * mock server in CRUD mode), the operator and its webhook against it, the examples applied, and
 * each pod sent through the webhook over HTTPS as an API server would send it.
 */
public final class Demo {
  static final List<String> EXAMPLES =
      List.of("pypimirror.yaml", "build-pod.yaml", "build-job.yaml");
  static final String OPERATOR_NAMESPACE = "pypi-mirror-system";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final PrintWriter out;
  private int step;

  private Demo(PrintWriter out) {
    this.out = out;
  }

  /** Runs the demo; everything it started is stopped and every file it wrote deleted on return. */
  public static void run(PrintWriter out) throws Exception {
    new Demo(out).runAll();
  }

  private void runAll() throws Exception {
    KubernetesMockServer apiServer =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(List.of()),
            false);
    apiServer.init(InetAddress.getLoopbackAddress(), 0);
    Path tls = Files.createTempDirectory("pypi-mirror-demo-");
    try (KubernetesClient client = apiServer.createClient()) {
      out.printf(
          "pypi-mirror-operator demo: an embedded Kubernetes API server (%s), the operator and its"
              + " admission webhook, all in this process.%n",
          client.getMasterUrl());
      installCrd(client);
      CertificateAuthority ca =
          CertificateAuthority.create("pypi-mirror-demo CA", Instant.now(), Duration.ofDays(1));
      var serving =
          ca.issue(List.of("localhost"), List.of("127.0.0.1"), Instant.now(), Duration.ofDays(1));
      Files.writeString(tls.resolve("tls.crt"), serving.certificatePem());
      Files.writeString(tls.resolve("tls.key"), serving.keyPem());
      var settings =
          new OperatorApp.Settings(
              Set.of(),
              OPERATOR_NAMESPACE,
              new WebhookServer.Settings(
                  "127.0.0.1",
                  0,
                  tls.resolve("tls.crt"),
                  tls.resolve("tls.key"),
                  Duration.ofSeconds(10)));
      try (OperatorApp app = OperatorApp.start(client, settings, Clock.systemUTC())) {
        var webhook = new WebhookClient(ca, app.webhookPort());
        out.printf(
            "The webhook serves %s with a certificate from a CA made for this run.%n", webhook.url);
        for (String example : EXAMPLES) {
          for (JsonNode object : readExample(example)) {
            apply(client, app, webhook, example, object);
          }
        }
      }
    } finally {
      apiServer.destroy();
      deleteTree(tls);
    }
    out.println();
    out.println(
        "Done: the API server, the operator and the webhook are stopped, and nothing was left on disk.");
    out.flush();
  }

  private void apply(
      KubernetesClient client,
      OperatorApp app,
      WebhookClient webhook,
      String example,
      JsonNode object)
      throws Exception {
    String kind = object.path("kind").asText();
    String namespace = object.at("/metadata/namespace").asText("default");
    String name = object.at("/metadata/name").asText();
    ensureNamespace(client, namespace);
    switch (kind) {
      case "PypiMirror" ->
          applyMirror(client, app, example, JSON.treeToValue(object, PypiMirror.class));
      case "Pod" -> {
        heading("Pod %s/%s (%s) through the webhook", namespace, name, example);
        admitAndCreate(client, webhook, namespace, object);
      }
      case "Job" -> {
        client.resource(JSON.treeToValue(object, GenericKubernetesResource.class)).create();
        heading(
            "Job %s/%s (%s): its pod, made from the template as the job controller would, through the webhook",
            namespace, name, example);
        ObjectNode pod = JSON.createObjectNode().put("apiVersion", "v1").put("kind", "Pod");
        ObjectNode metadata = ((ObjectNode) object.at("/spec/template/metadata")).deepCopy();
        metadata
            .put("name", name + "-" + Long.toString(System.nanoTime() % 100000, 36))
            .put("namespace", namespace);
        metadata.putObject("labels").put("job-name", name);
        pod.set("metadata", metadata);
        pod.set("spec", object.at("/spec/template/spec").deepCopy());
        admitAndCreate(client, webhook, namespace, pod);
      }
      default -> {
        client.resource(JSON.treeToValue(object, GenericKubernetesResource.class)).create();
        heading("%s %s/%s applied (%s)", kind, namespace, name, example);
      }
    }
  }

  private void applyMirror(
      KubernetesClient client, OperatorApp app, String example, PypiMirror mirror)
      throws Exception {
    String ns = mirror.getMetadata().getNamespace();
    String name = mirror.getMetadata().getName();
    heading("PypiMirror %s/%s (%s)", ns, name, example);
    client.resource(mirror).create();
    PypiMirror reconciled =
        await(
            () -> ready(client, ns, name),
            () -> client.resources(PypiMirror.class).inNamespace(ns).withName(name).get());
    String claim = reconciled.getStatus().getClaimName();
    if (claim != null && MirrorObjects.createsClaim(reconciled)) {
      out.printf(
          "   The operator created PVC %s; the demo plays the storage provisioner and binds it.%n",
          claim);
      client
          .persistentVolumeClaims()
          .inNamespace(ns)
          .withName(claim)
          .editStatus(
              pvc -> {
                pvc.setStatus(new PersistentVolumeClaimStatusBuilder().withPhase("Bound").build());
                return pvc;
              });
      reconciled =
          await(
              () -> cacheBound(client, ns, name),
              () -> client.resources(PypiMirror.class).inNamespace(ns).withName(name).get());
    }
    await(
        () ->
            app.mirrors()
                .get(ns, name)
                .map(m -> m.getStatus() != null && m.getStatus().isReady())
                .orElse(false),
        () -> null);
    var status = reconciled.getStatus();
    out.printf("   status (observedGeneration %d):%n", status.getObservedGeneration());
    for (Condition c : status.getConditions()) {
      out.printf(
          "     %-15s %-6s %-14s %s%n", c.getType(), c.getStatus(), c.getReason(), c.getMessage());
    }
    out.printf("   pip tries, in order: %s%n", String.join("  ", status.getIndexUrls()));
    out.printf(
        "   ConfigMap %s, PVC %s, config hash %s%n",
        status.getConfigMapName(), status.getClaimName(), status.getConfigHash().substring(0, 12));
    var configMap = client.configMaps().inNamespace(ns).withName(status.getConfigMapName()).get();
    heading("pip.conf rendered into ConfigMap %s/%s", ns, configMap.getMetadata().getName());
    configMap.getData().get("pip.conf").lines().forEach(l -> out.println("   " + l));
  }

  private void admitAndCreate(
      KubernetesClient client, WebhookClient webhook, String namespace, JsonNode pod)
      throws Exception {
    JsonNode response = webhook.review(namespace, pod);
    JsonNode patch =
        response.has("patch")
            ? JSON.readTree(Base64.getDecoder().decode(response.path("patch").asText()))
            : JSON.createArrayNode();
    out.printf(
        "   AdmissionReview uid %s: allowed=%s, %d patch operations%n",
        response.path("uid").asText(), response.path("allowed").asBoolean(), patch.size());
    PatchDescription.describe(pod, patch).forEach(line -> out.println("   " + line));
    response.path("warnings").forEach(w -> out.println("   warning: " + w.asText()));
    JsonNode injected = JsonPatch.apply(patch, pod);
    client.resource(JSON.treeToValue(injected, GenericKubernetesResource.class)).create();
  }

  private void heading(String format, Object... args) {
    out.println();
    out.printf("%d. %s%n", ++step, format.formatted(args));
  }

  private static boolean ready(KubernetesClient client, String ns, String name) {
    PypiMirror m = client.resources(PypiMirror.class).inNamespace(ns).withName(name).get();
    return m != null && m.getStatus() != null && m.getStatus().isReady();
  }

  private static boolean cacheBound(KubernetesClient client, String ns, String name) {
    PypiMirror m = client.resources(PypiMirror.class).inNamespace(ns).withName(name).get();
    return m != null
        && m.getStatus() != null
        && m.getStatus()
            .condition("CacheReady")
            .map(c -> "True".equals(c.getStatus()))
            .orElse(false);
  }

  private static <T> T await(BooleanSupplier condition, java.util.function.Supplier<T> then)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the demo waited " + WAIT.toSeconds() + " s in vain");
      }
      Thread.sleep(50);
    }
    return then.get();
  }

  private static void installCrd(KubernetesClient client) throws IOException {
    try (InputStream in =
        Demo.class.getResourceAsStream("/META-INF/fabric8/pypimirrors.pypimirror.dev-v1.yml")) {
      client
          .resource(
              client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class))
          .create();
    }
  }

  private static void ensureNamespace(KubernetesClient client, String namespace) {
    if (client.namespaces().withName(namespace).get() == null) {
      client
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .create();
    }
  }

  static List<JsonNode> readExample(String name) throws IOException {
    try (InputStream in = Demo.class.getResourceAsStream("/examples/" + name)) {
      if (in == null) {
        throw new IOException("example " + name + " is not in the jar");
      }
      List<JsonNode> documents = new ArrayList<>();
      var it =
          YAML.readerFor(JsonNode.class)
              .readValues(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      while (it.hasNext()) {
        documents.add((JsonNode) it.next());
      }
      return documents;
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Sends AdmissionReviews as the API server does: POST over HTTPS, trusting the webhook's CA. */
  private static final class WebhookClient {
    final String url;
    final HttpClient http;

    WebhookClient(CertificateAuthority ca, int port) throws Exception {
      this.url = "https://127.0.0.1:" + port + WebhookServer.MUTATE_PODS;
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("ca", ca.certificate());
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      this.http =
          HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5)).build();
    }

    JsonNode review(String namespace, JsonNode pod) throws Exception {
      ObjectNode review =
          JSON.createObjectNode()
              .put("apiVersion", "admission.k8s.io/v1")
              .put("kind", "AdmissionReview");
      ObjectNode request = review.putObject("request").put("uid", UUID.randomUUID().toString());
      request.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
      request.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
      request.putObject("requestKind").put("group", "").put("version", "v1").put("kind", "Pod");
      request
          .putObject("requestResource")
          .put("group", "")
          .put("version", "v1")
          .put("resource", "pods");
      request
          .put("name", pod.at("/metadata/name").asText())
          .put("namespace", namespace)
          .put("operation", "CREATE");
      request.putObject("userInfo").put("username", "demo-user");
      request.set("object", pod);
      request.putNull("oldObject");
      request.put("dryRun", false);
      request.putObject("options").put("apiVersion", "meta.k8s.io/v1").put("kind", "CreateOptions");
      HttpResponse<byte[]> response =
          http.send(
              HttpRequest.newBuilder(URI.create(url))
                  .timeout(Duration.ofSeconds(10))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(review.toString()))
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() != 200) {
        throw new IOException(
            "webhook answered "
                + response.statusCode()
                + ": "
                + new String(response.body(), StandardCharsets.UTF_8));
      }
      return JSON.readTree(response.body()).path("response");
    }
  }
}
