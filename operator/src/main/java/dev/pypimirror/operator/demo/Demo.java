package dev.pypimirror.operator.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.admissionpolicy.InjectionPolicies;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.apiserver.AdmissionChain;
import dev.pypimirror.operator.apiserver.AdmittingDispatcher;
import dev.pypimirror.operator.apiserver.WebhookTransport;
import dev.pypimirror.operator.cluster.AdmissionPolicyWriter;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.inspect.PatchDescription;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.webhook.WebhookCertificateManager;
import dev.pypimirror.operator.webhook.WebhookRoutes;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The whole flow in one process, for a newcomer with no cluster: an embedded API server (fabric8's
 * mock server in CRUD mode, with the admission chain of {@link AdmittingDispatcher} in front), the
 * operator (which makes its webhook certificate and creates the webhook configurations with its CA)
 * and its webhook, and the examples applied: each pod is created through the API server, which
 * calls the webhook over HTTPS and stores what it patched. matchConditions are not evaluated here
 * (no CEL engine in the jar); the tests' API server does.
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

  /** Whether kube-apiserver injects from the operator's admission policies (else the webhook). */
  private final boolean admissionPolicies;

  private Demo(PrintWriter out, boolean admissionPolicies) {
    this.out = out;
    this.admissionPolicies = admissionPolicies;
  }

  /** Runs the demo; everything it started is stopped and every file it wrote deleted on return. */
  public static void run(PrintWriter out) throws Exception {
    run(out, false);
  }

  /**
   * @param admissionPolicies admission-policy mode: the operator writes MutatingAdmissionPolicies
   *     and the embedded API server evaluates them (CEL), with no webhook call for a pod
   */
  public static void run(PrintWriter out, boolean admissionPolicies) throws Exception {
    new Demo(out, admissionPolicies).runAll();
  }

  private void runAll() throws Exception {
    AtomicInteger webhookPort = new AtomicInteger();
    List<AdmissionChain.Call> calls = new CopyOnWriteArrayList<>();
    WebhookTransport transport =
        new WebhookTransport(
            (namespace, name, port) ->
                namespace.equals(OPERATOR_NAMESPACE)
                        && name.equals(WebhookCertificateManager.SERVICE)
                    ? "127.0.0.1:" + webhookPort.get()
                    : null);
    KubernetesMockServer apiServer = startApiServer(transport, calls);
    try (KubernetesClient client = apiServer.createClient()) {
      out.printf(
          "pypi-mirror-operator demo: an embedded Kubernetes API server (%s) that calls admission"
              + " webhooks, the operator and its webhook, all in this process.%n",
          client.getMasterUrl());
      installCrd(client);
      ensureNamespace(client, OPERATOR_NAMESPACE); // as an install creates it
      try (OperatorApp app = new OperatorApp(client, settings(), Clock.systemUTC()).start()) {
        webhookPort.set(app.webhookPort());
        await(() -> caBundlesPatched(client) && webhookAnswers(client, transport), () -> null);
        out.printf(
            "The webhook serves https://127.0.0.1:%d%s as Service %s/%s; the operator made its"
                + " certificate and created the webhook configurations with its CA.%n",
            app.webhookPort(),
            WebhookServer.MUTATE_PODS,
            OPERATOR_NAMESPACE,
            WebhookCertificateManager.SERVICE);
        for (String example : EXAMPLES) {
          for (JsonNode object : readExample(example)) {
            apply(client, app, calls, example, object);
          }
        }
      }
    } finally {
      apiServer.destroy();
    }
    out.println();
    out.println(
        "Done: the API server, the operator and the webhook are stopped, and nothing was left on disk.");
    out.flush();
  }

  /**
   * The embedded API server on loopback: CRUD, with the admission chain calling webhooks through
   * {@code transport} (each call told to {@code calls}) and, in admission-policy mode, CEL.
   */
  private KubernetesMockServer startApiServer(
      WebhookTransport transport, List<AdmissionChain.Call> calls) {
    AdmissionChain admission =
        new AdmissionChain(transport, AdmissionChain.MatchConditions.NOT_EVALUATED)
            .observe(calls::add);
    KubernetesMockServer apiServer =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new AdmittingDispatcher(
                new KubernetesCrudDispatcher(List.of()),
                admission,
                AdmittingDispatcher.Strategy.NONE,
                admissionPolicies
                    ? new dev.pypimirror.operator.apiserver.CelAdmissionPolicies()
                    : AdmittingDispatcher.Policies.NONE),
            false);
    apiServer.init(InetAddress.getLoopbackAddress(), 0);
    return apiServer;
  }

  /** The operator's settings: webhook on loopback with its own certificates, the demo's mode. */
  private OperatorSettings settings() {
    return OperatorSettings.defaults()
        .withOperatorNamespace(OPERATOR_NAMESPACE)
        .withWebhook(
            w ->
                w.onLoopback()
                    .withSelfManagedCertificates()
                    .withTlsReloadInterval(Duration.ofSeconds(1)))
        .withInjection(
            admissionPolicies
                ? OperatorSettings.Injection.ADMISSION_POLICY
                : OperatorSettings.Injection.WEBHOOK);
  }

  private void apply(
      KubernetesClient client,
      OperatorApp app,
      List<AdmissionChain.Call> calls,
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
        heading("Pod %s/%s (%s) created through the API server", namespace, name, example);
        create(client, calls, object);
      }
      case "Job" -> {
        client.resource(JSON.treeToValue(object, GenericKubernetesResource.class)).create();
        heading(
            "Job %s/%s (%s): its pod, made from the template as the job controller would, created through the API server",
            namespace, name, example);
        ObjectNode pod = JSON.createObjectNode().put("apiVersion", "v1").put("kind", "Pod");
        ObjectNode metadata = ((ObjectNode) object.at("/spec/template/metadata")).deepCopy();
        metadata
            .put("name", name + "-" + Long.toString(System.nanoTime() % 100000, 36))
            .put("namespace", namespace);
        metadata.putObject("labels").put("job-name", name);
        pod.set("metadata", metadata);
        pod.set("spec", object.at("/spec/template/spec").deepCopy());
        create(client, calls, pod);
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
      reconciled = bindClaim(client, ns, name, claim);
    }
    await(
        () ->
            app.mirrors()
                .get(ns, name)
                .map(m -> m.getStatus() != null && m.getStatus().isReady())
                .orElse(false),
        () -> null);
    if (admissionPolicies) {
      awaitAdmissionPolicy(client, ns, name);
    }
    printStatus(client, ns, reconciled.getStatus());
  }

  /** Plays the storage provisioner: binds the PVC the operator made; the mirror once it saw it. */
  private PypiMirror bindClaim(KubernetesClient client, String ns, String name, String claim)
      throws InterruptedException {
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
    return await(
        () -> cacheBound(client, ns, name),
        () -> client.resources(PypiMirror.class).inNamespace(ns).withName(name).get());
  }

  private void awaitAdmissionPolicy(KubernetesClient client, String ns, String name)
      throws InterruptedException {
    String policy = InjectionPolicies.objectName(ns, name);
    // the leader writes the policy, then its binding (same name): a pod created between the two
    // is not injected, as with kube-apiserver
    await(
        () ->
            Stream.of(InjectionPolicies.POLICY_KIND, InjectionPolicies.BINDING_KIND)
                .allMatch(
                    kind ->
                        client
                                .genericKubernetesResources(AdmissionPolicyWriter.resource(kind))
                                .withName(policy)
                                .get()
                            != null),
        () -> null,
        Duration.ofSeconds(40));
    out.printf(
        "   The operator's leader wrote MutatingAdmissionPolicy %s and its binding: the API"
            + " server injects this mirror itself.%n",
        policy);
  }

  /** The mirror's conditions, index URLs, objects and the pip.conf rendered into its ConfigMap. */
  private void printStatus(KubernetesClient client, String ns, PypiMirrorStatus status) {
    out.printf("   status (observedGeneration %d):%n", status.getObservedGeneration());
    for (Condition c : status.getConditions()) {
      out.printf(
          "     %-23s %-6s %-24s %s%n", c.getType(), c.getStatus(), c.getReason(), c.getMessage());
    }
    out.printf(
        "   pip gets: %s (all of them alike: pip installs the highest version found on any)%n",
        String.join("  ", status.getIndexUrls()));
    out.printf(
        "   ConfigMap %s, PVC %s, config hash %s%n",
        status.getConfigMapName(), status.getClaimName(), status.getConfigHash().substring(0, 12));
    var configMap = client.configMaps().inNamespace(ns).withName(status.getConfigMapName()).get();
    heading("pip.conf rendered into ConfigMap %s/%s", ns, configMap.getMetadata().getName());
    configMap.getData().get("pip.conf").lines().forEach(l -> out.println("   " + l));
  }

  /** Creates a pod; the API server sends it through the webhook; says what came back. */
  private void create(KubernetesClient client, List<AdmissionChain.Call> calls, JsonNode pod)
      throws Exception {
    calls.clear();
    GenericKubernetesResource stored =
        client.resource(JSON.treeToValue(pod, GenericKubernetesResource.class)).create();
    for (AdmissionChain.Call call : calls) {
      JsonNode response = call.response();
      out.printf(
          "   The API server called webhook %s (AdmissionReview uid %s): allowed=%s, %d patch"
              + " operations%n",
          call.webhook(),
          response.path("uid").asText(),
          response.path("allowed").asBoolean(),
          call.patch().size());
      PatchDescription.describe(pod, call.patch()).forEach(line -> out.println("   " + line));
      response.path("warnings").forEach(w -> out.println("   warning: " + w.asText()));
    }
    if (admissionPolicies && calls.isEmpty()) {
      out.println(
          "   No webhook was called: the API server applied the MutatingAdmissionPolicy's JSON"
              + " patch itself.");
    }
    out.printf(
        "   Stored: pod %s with annotation pypimirror.dev/injected=%s%n",
        stored.getMetadata().getName(),
        stored.getMetadata().getAnnotations() == null
            ? null
            : stored.getMetadata().getAnnotations().get("pypimirror.dev/injected"));
  }

  /** The webhook serves the certificate its caBundle trusts (it reloads it from the Secret). */
  private static boolean webhookAnswers(KubernetesClient client, WebhookTransport transport) {
    return client
        .genericKubernetesResources(
            "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration")
        .list()
        .getItems()
        .stream()
        .map(c -> JSON.valueToTree(c.getAdditionalProperties().get("webhooks")))
        .flatMap(
            webhooks ->
                java.util.stream.StreamSupport.stream(((JsonNode) webhooks).spliterator(), false))
        .allMatch(webhook -> transport.answers(webhook.path("clientConfig")));
  }

  private static boolean caBundlesPatched(KubernetesClient client) {
    if (client
            .admissionRegistration()
            .v1()
            .mutatingWebhookConfigurations()
            .withName(WebhookRoutes.CONFIGURATION)
            .get()
        == null) {
      return false;
    }
    return List.of("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration").stream()
        .map(kind -> client.genericKubernetesResources("admissionregistration.k8s.io/v1", kind))
        .flatMap(resources -> resources.list().getItems().stream())
        .map(c -> JSON.valueToTree(c.getAdditionalProperties().get("webhooks")))
        .allMatch(
            webhooks ->
                ((JsonNode) webhooks).findValues("caBundle").size() == ((JsonNode) webhooks).size()
                    && ((JsonNode) webhooks)
                        .findValues("caBundle").stream().noneMatch(b -> b.asText().isEmpty()));
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
    return await(condition, then, WAIT);
  }

  private static <T> T await(
      BooleanSupplier condition, java.util.function.Supplier<T> then, Duration wait)
      throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the demo waited " + wait.toSeconds() + " s in vain");
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
}
