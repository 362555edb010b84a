package dev.pypimirror.operator.cluster;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.fuzz.AdmissionFuzzTest;
import dev.pypimirror.operator.policy.PolicyMirrors;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.webhook.PodAdmission;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The webhook knows which entry the API server chose from the path it called, and where its own
 * caches cannot tell, the Enforce entry fails closed: a namespace the informer has not seen yet is
 * read from the API server (never taken for ungoverned), a failed read refuses, and a request with
 * no readable pod is refused.
 */
@EnableKubernetesMockClient(crud = true)
class PolicyEntryTest {
  static final ObjectMapper JSON = new ObjectMapper();
  KubernetesMockServer server;
  KubernetesClient client;
  InformerPolicyDirectory policies;
  PodAdmission webhook;

  @BeforeEach
  void setUp() throws Exception {
    MockCluster.installCrds(client);
    PypiMirrorPolicy policy =
        Policies.policy("corp-builds", Map.of("team", "ml"), mirror("ml").getSpec(), true);
    policy.getSpec().setPodSelector(Policies.selector(Map.of()));
    client.resource(policy).create();
    // this replica's namespace informer has seen only the namespaces labelled seen=true: a
    // namespace created a moment ago is missing from it, as it is until the watch delivers it
    policies =
        new InformerPolicyDirectory(
            client,
            client.namespaces().withLabel("seen", "true").runnableInformer(0),
            client.resources(PypiMirrorPolicy.class).runnableInformer(0),
            MockCluster.OPERATOR_NAMESPACE);
    policies.start();
    await().atMost(Duration.ofSeconds(10)).until(policies::hasSynced);
    webhook =
        new PodAdmission(
            Pods.directory(mirror("ml"), mirror("late")),
            policies,
            MockCluster.OPERATOR_NAMESPACE,
            PodAdmission.Listener.NONE);
  }

  @AfterEach
  void tearDown() {
    policies.close();
  }

  static PypiMirror mirror(String namespace) {
    PypiMirror m =
        Pods.readyMirror(
            namespace, "corp-builds", spec(https("https://devpi.corp.example/simple/")));
    m.getMetadata().setLabels(Map.of(PolicyMirrors.MADE_BY_POLICY_LABEL, "corp-builds"));
    return m;
  }

  JsonNode admit(String path, String namespace, JsonNode pod) throws Exception {
    ObjectNode review = AdmissionFuzzTest.review(pod);
    review.with("request").put("namespace", namespace);
    byte[] body = review.toString().getBytes(StandardCharsets.UTF_8);
    var answer = path == null ? webhook.review(body) : webhook.review(path, body);
    assertThat(answer.status()).as(answer.bodyText()).isEqualTo(200);
    return JSON.readTree(answer.body()).path("response");
  }

  static JsonNode pod() {
    return Pods.yaml("metadata: {name: p}\nspec: {containers: [{name: c}]}");
  }

  @Test
  void aNamespaceCreatedAfterTheInformerSyncedIsLookedUpLiveThroughTheEnforceEntry()
      throws Exception {
    MockCluster.namespace(client, "late", Map.of("team", "ml"));

    JsonNode throughEnforce = admit("enforce/corp-builds", "late", pod());
    JsonNode throughOptIn = admit(null, "late", pod());

    assertThat(throughEnforce.path("allowed").asBoolean()).isTrue();
    assertThat(throughEnforce.has("patch")).as("injected, not admitted untouched").isTrue();
    // the opt-in entry asks its caches only: the namespace is unknown there, the pod untouched
    assertThat(throughOptIn.has("patch")).isFalse();
  }

  @Test
  void aNamespaceTheApiServerDoesNotKnowEitherIsRefused() throws Exception {
    JsonNode answer = admit("enforce/corp-builds", "nowhere", pod());

    assertThat(answer.path("allowed").asBoolean()).isFalse();
    assertThat(answer.at("/status/message").asText())
        .startsWith(
            "pypi-mirror: PypiMirrorPolicy corp-builds enforces a PyPI mirror in namespace nowhere and the webhook could not decide, so the pod is refused: namespace nowhere is not known");
  }

  @Test
  void aRequestWithNoReadablePodIsRefusedThroughAnEnforceEntryOnly() throws Exception {
    MockCluster.namespace(client, "late", Map.of("team", "ml"));
    for (JsonNode object :
        List.of(
            JSON.nullNode(),
            JSON.getNodeFactory().textNode("pod"),
            Pods.yaml("metadata: {name: p}\nspec: {containers: {name: c}}"),
            Pods.yaml("metadata: {name: p}\nspec: {initContainers: c, containers: []}"),
            Pods.yaml("metadata: {name: p}"))) {
      JsonNode enforced = admit("enforce/corp-builds", "late", object);
      JsonNode optIn = admit(null, "late", object);

      assertThat(enforced.path("allowed").asBoolean()).as("%s", object).isFalse();
      assertThat(enforced.at("/status/message").asText())
          .startsWith("pypi-mirror: PypiMirrorPolicy corp-builds enforces a PyPI mirror");
      assertThat(optIn.path("allowed").asBoolean()).as("%s", object).isTrue();
    }
  }

  @Test
  void aPathThatNamesNoEntryIsABadRequest() {
    byte[] body = AdmissionFuzzTest.review(pod()).toString().getBytes(StandardCharsets.UTF_8);

    assertThat(webhook.review("sideways/corp-builds", body).status()).isEqualTo(400);
    assertThat(webhook.review("enforce/", body).status()).isEqualTo(400);
  }

  @Test
  void theLiveLookupRunsOnTheWorkerAndTheCachedAnswerOnTheCallersThread() throws Exception {
    MockCluster.namespace(client, "late", Map.of("team", "ml"));
    MockCluster.namespace(client, "seen-ml", Map.of("team", "ml", "seen", "true"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> policies.answersAtOnce("seen-ml", "corp-builds"));
    List<String> workerThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
    PodAdmission async =
        new PodAdmission(
            Pods.directory(mirror("late"), mirror("seen-ml")),
            policies,
            MockCluster.OPERATOR_NAMESPACE,
            PodAdmission.Listener.NONE,
            new PodAdmission.LiveLookups(
                task ->
                    new Thread(
                            () -> {
                              workerThreads.add(Thread.currentThread().getName());
                              task.run();
                            },
                            "lookup-worker")
                        .start(),
                Duration.ofSeconds(30)));

    assertThat(policies.answersAtOnce("late", "corp-builds")).isFalse();
    JsonNode late = answer(async.reviewLater("enforce/corp-builds", body("late", pod())));
    assertThat(late.has("patch")).as("injected after a live lookup").isTrue();
    assertThat(workerThreads).containsExactly("lookup-worker");

    JsonNode cached = answer(async.reviewLater("enforce/corp-builds", body("seen-ml", pod())));
    assertThat(cached.has("patch")).isTrue();
    assertThat(workerThreads).as("the cache answered: no worker").hasSize(1);
  }

  @Test
  void aLiveLookupThatTakesTooLongFailsOrIsNotTakenRefusesThePod() throws Exception {
    java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
    dev.pypimirror.operator.policy.PolicyDirectory hanging =
        liveOnly(
            () -> {
              try {
                never.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return java.util.Optional.empty();
            });
    dev.pypimirror.operator.policy.PolicyDirectory failing =
        liveOnly(
            () -> {
              throw new io.fabric8.kubernetes.client.KubernetesClientException(
                  "connection refused");
            });
    var worker = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      var timesOut = admission(hanging, worker, Duration.ofMillis(100));
      var fails = admission(failing, worker, Duration.ofSeconds(30));
      var refusesWork =
          admission(
              failing,
              task -> {
                throw new java.util.concurrent.RejectedExecutionException("full");
              },
              Duration.ofSeconds(30));

      JsonNode failed = answer(fails.reviewLater("enforce/corp-builds", body("late", pod())));
      JsonNode notTaken =
          answer(refusesWork.reviewLater("enforce/corp-builds", body("late", pod())));
      // last: the hanging lookup holds the one worker thread until the test ends
      JsonNode timedOut = answer(timesOut.reviewLater("enforce/corp-builds", body("late", pod())));

      String refused =
          "pypi-mirror: PypiMirrorPolicy corp-builds enforces a PyPI mirror in namespace late and the webhook could not decide, so the pod is refused: ";
      assertThat(timedOut.path("allowed").asBoolean()).isFalse();
      assertThat(timedOut.at("/status/message").asText())
          .isEqualTo(
              refused + "the API server did not answer the lookup of the namespace within 100 ms");
      assertThat(failed.path("allowed").asBoolean()).isFalse();
      assertThat(failed.at("/status/message").asText())
          .startsWith(refused)
          .contains("connection refused");
      assertThat(notTaken.path("allowed").asBoolean()).isFalse();
      assertThat(notTaken.at("/status/message").asText())
          .isEqualTo(refused + "too many lookups of namespaces at the API server under way");
    } finally {
      never.countDown();
      worker.shutdownNow();
    }
  }

  static byte[] body(String namespace, JsonNode pod) {
    ObjectNode review = AdmissionFuzzTest.review(pod);
    review.with("request").put("namespace", namespace);
    return review.toString().getBytes(StandardCharsets.UTF_8);
  }

  static JsonNode answer(
      java.util.concurrent.CompletionStage<dev.pypimirror.operator.webhook.AdmissionResponse> later)
      throws Exception {
    var answer = later.toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(answer.status()).as(answer.bodyText()).isEqualTo(200);
    return JSON.readTree(answer.body()).path("response");
  }

  /** A directory that answers nothing from memory: every Enforce admission asks {@code lookup}. */
  static dev.pypimirror.operator.policy.PolicyDirectory liveOnly(
      java.util.function.Supplier<java.util.Optional<PypiMirrorPolicy>> lookup) {
    return new dev.pypimirror.operator.policy.PolicyDirectory() {
      @Override
      public java.util.Optional<PypiMirrorPolicy> governing(String namespace) {
        return java.util.Optional.empty();
      }

      @Override
      public java.util.Optional<PypiMirrorPolicy> governing(String namespace, String routedBy) {
        return lookup.get();
      }

      @Override
      public boolean answersAtOnce(String namespace, String routedBy) {
        return false;
      }
    };
  }

  /** The webhook for namespace late, its live lookups on {@code worker}. */
  static PodAdmission admission(
      dev.pypimirror.operator.policy.PolicyDirectory policies,
      java.util.concurrent.Executor worker,
      Duration timeLimit) {
    return new PodAdmission(
        Pods.directory(mirror("late")),
        policies,
        MockCluster.OPERATOR_NAMESPACE,
        PodAdmission.Listener.NONE,
        new PodAdmission.LiveLookups(worker, timeLimit));
  }
}
