package dev.pypimirror.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.ProxyCannotStart;
import dev.pypimirror.operator.proxy.ProxyApp;
import dev.pypimirror.operator.proxy.ProxySettings;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.simple.Resolution;
import dev.pypimirror.operator.testing.DeploymentController;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.Pods;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ProxyCacheFull: what a Ready caching proxy says of its volume, asked at its Service, becomes a
 * condition (Unknown when it cannot be asked) and a Warning event when the volume fills.
 */
@EnableKubernetesMockClient(crud = true)
class ProxyCacheFullTest {
  KubernetesClient client;

  @Test
  void theProxysWordOnItsVolumeBecomesTheConditionAndAFullVolumeAWarning() throws Exception {
    MockCluster.installCrds(client);
    AtomicReference<ProxyProbe.Answer> answer =
        new AtomicReference<>(ProxyProbe.Answer.unknown("cannot ask it (ConnectException)"));
    List<URI> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
    ProxyProbe probe =
        url -> {
          asked.add(url);
          return answer.get();
        };
    MockCluster.namespace(client, "builds", Map.of());
    try (MirrorOperator operator =
        OperatorApp.reconcilers(
                client,
                OperatorSettings.defaults().withOperatorNamespace("pypi-mirror-system"),
                Clock.systemUTC(),
                probe)
            .start()) {
      client
          .resource(
              Mirrors.mirror(
                  "builds",
                  "corp",
                  Mirrors.withProxy(Mirrors.spec(Mirrors.https("https://devpi.corp.example/")))))
          .create();
      Deployment deployment = proxyDeployment();
      assertThat(condition()).isEmpty(); // not asked before the proxy is Available

      DeploymentController.makeAvailable(client, deployment);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> condition().map(Condition::getStatus).orElse(""), "Unknown"::equals);
      assertThat(condition().orElseThrow().getReason()).isEqualTo("Unreachable");
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  assertThat(asked)
                      .contains(
                          URI.create("http://pypi-mirror-corp-proxy.builds.svc:8080/simple/")));

      answer.set(new ProxyProbe.Answer(Optional.of(true), ""));
      touch(); // a new generation makes it look again (else at the next minute)
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> condition().map(Condition::getStatus).orElse(""), "True"::equals);
      assertThat(condition().orElseThrow().getReason()).isEqualTo("VolumeFull");
      assertThat(condition().orElseThrow().getMessage()).contains("spec.cache.size");
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  assertThat(client.v1().events().inNamespace("builds").list().getItems())
                      .extracting(Event::getReason, Event::getType)
                      .contains(org.assertj.core.groups.Tuple.tuple("VolumeFull", "Warning")));

      answer.set(new ProxyProbe.Answer(Optional.of(false), ""));
      touch();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> condition().map(Condition::getStatus).orElse(""), "False"::equals);
      assertThat(condition().orElseThrow().getReason()).isEqualTo("HasRoom");
    }
  }

  @Test
  void theHttpProbeReadsARealProxysStatusAndSaysUnknownWhenNoneAnswers(@TempDir Path scratch)
      throws Exception {
    ProxyApp proxy =
        new ProxyApp(
            new ProxySettings(
                Files.createDirectories(scratch.resolve("cache")),
                List.of(),
                "127.0.0.1",
                0,
                true,
                Duration.ofSeconds(600),
                Resolution.FirstMatch,
                0.9,
                ProxySettings.Limits.DEFAULTS),
            Map.of());
    int port;
    try (proxy) {
      port = proxy.start();
      ProxyProbe.Answer answer =
          ProxyProbe.http(Duration.ofSeconds(30))
              .ask(URI.create("http://127.0.0.1:" + port + "/simple/"));
      assertThat(answer.full()).as(answer.detail()).hasValue(false);
    }
    ProxyProbe.Answer gone =
        ProxyProbe.http().ask(URI.create("http://127.0.0.1:" + port + "/simple/"));
    assertThat(gone.full()).isEmpty();
    assertThat(gone.detail()).startsWith("cannot ask it");
  }

  @Test
  void aPodThatSendsAHeadThenStallsCannotHoldTheReconcileThread() throws Exception {
    try (java.net.ServerSocket server =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Thread stalling =
          new Thread(
              () -> {
                try (java.net.Socket socket = server.accept()) {
                  socket.getInputStream().read(new byte[1024]);
                  socket
                      .getOutputStream()
                      .write(
                          "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"
                              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                  socket.getOutputStream().flush();
                  Thread.sleep(600_000);
                } catch (Exception e) {
                  // the test is over
                }
              });
      stalling.setDaemon(true);
      stalling.start();

      ProxyProbe.Answer answer =
          org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
              Duration.ofSeconds(60),
              () ->
                  ProxyProbe.http(Duration.ofSeconds(1))
                      .ask(URI.create("http://127.0.0.1:" + server.getLocalPort() + "/simple/")));

      assertThat(answer.full()).isEmpty();
      assertThat(answer.detail()).startsWith("no whole answer within");
      stalling.interrupt();
    }
  }

  private Optional<Condition> condition() {
    return condition(Conditions.PROXY_CACHE_FULL);
  }

  private Optional<Condition> condition(String type) {
    PypiMirror mirror =
        client.resources(PypiMirror.class).inNamespace("builds").withName("corp").get();
    return mirror == null || mirror.getStatus() == null
        ? Optional.empty()
        : mirror.getStatus().condition(type);
  }

  private int ttl = 600;

  /** Changes the mirror's spec; its new generation. */
  private long touch() {
    ttl++;
    return client
        .resources(PypiMirror.class)
        .inNamespace("builds")
        .withName("corp")
        .patch(
            io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
            "{\"spec\":{\"cache\":{\"proxy\":{\"indexTTLSeconds\":" + ttl + "}}}}")
        .getMetadata()
        .getGeneration();
  }

  @Test
  void answersAreAskedOffTheCallersThreadOncePerGenerationAndKeptUntilTheNext() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger asks =
        new java.util.concurrent.atomic.AtomicInteger();
    ProxyProbe blocking =
        url -> {
          asks.incrementAndGet();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return new ProxyProbe.Answer(Optional.of(true), "");
        };
    URI url = URI.create("http://pypi-mirror-corp-proxy.builds.svc:8080/simple/");
    try (ProxyAnswers answers =
        new ProxyAnswers(blocking, Clock.systemUTC(), Duration.ofMinutes(30))) {
      ProxyAnswers.Look first = answers.look(url, 1); // returns while the proxy has not answered
      assertThat(first.answer()).isEmpty();
      assertThat(first.asking()).isTrue();
      assertThat(answers.look(url, 1).asking()).isTrue(); // one ask at a time
      release.countDown();

      await().atMost(Duration.ofSeconds(20)).until(() -> answers.look(url, 1).answer().isPresent());
      ProxyAnswers.Look answered = answers.look(url, 1);
      assertThat(answered.answer().orElseThrow().full()).hasValue(true);
      assertThat(answered.asking()).isFalse(); // fresh for this generation: not asked again
      assertThat(asks).hasValue(1);

      ProxyAnswers.Look newGeneration = answers.look(url, 2);
      assertThat(newGeneration.asking()).isTrue();
      assertThat(newGeneration.answer()).isPresent(); // the last answer meanwhile
      await().atMost(Duration.ofSeconds(20)).until(() -> asks.get() == 2);
    }
  }

  @Test
  void aProxyThatCannotStartSaysWhyInProxyReadyAndOnlyItsOwnPodsCount() throws Exception {
    MockCluster.installCrds(client);
    MockCluster.namespace(client, "builds", Map.of());
    ProxyProbe never = url -> ProxyProbe.Answer.unknown("not asked in this test");
    try (MirrorOperator operator =
        OperatorApp.reconcilers(
                client,
                OperatorSettings.defaults().withOperatorNamespace("pypi-mirror-system"),
                Clock.systemUTC(),
                never)
            .start()) {
      var spec = Mirrors.spec(Mirrors.https("https://corp.jfrog.example/simple/"));
      Mirrors.withCredentials(spec.getIndexes().get(0), "jfrog-pull");
      client.resource(Mirrors.mirror("builds", "corp", Mirrors.withProxy(spec))).create();
      Deployment deployment = proxyDeployment();
      Map<String, String> labels = deployment.getSpec().getTemplate().getMetadata().getLabels();
      // what the Deployment controller makes: a ReplicaSet it controls, with the template's labels
      ReplicaSet replicaSet = replicaSetOf(deployment, "pypi-mirror-corp-proxy-7d9f", labels);
      Deployment decoy =
          client
              .resource(
                  new io.fabric8.kubernetes.api.model.apps.DeploymentBuilder(deployment)
                      .withNewMetadata()
                      .withNamespace("builds")
                      .withName("decoy")
                      .endMetadata()
                      .withStatus(null)
                      .build())
              .create();
      ReplicaSet decoys = replicaSetOf(decoy, "decoy-6c8e", labels);

      // pods anyone who can create pods in the namespace can make: the proxy's labels and prefix
      String forged = ProxySettings.TERMINATION_PREFIX + "forged words";
      Map<String, List<OwnerReference>> forgeries =
          Map.of(
              "no-owner",
              List.of(),
              "another-deployments-replicaset",
              List.of(MirrorObjects.ownerReference(decoys)),
              "the-deployment-itself",
              List.of(MirrorObjects.ownerReference(deployment)),
              "not-the-controller",
              List.of(
                  new OwnerReferenceBuilder(MirrorObjects.ownerReference(replicaSet))
                      .withController(false)
                      .build()));
      forgeries.forEach(
          (name, owners) ->
              client
                  .resource(Pods.exitedAtStart("builds", "forged-" + name, labels, owners, forged))
                  .create());
      long generation = touch();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> proxyReady().map(Condition::getObservedGeneration).orElse(0L),
              observed -> observed == generation);
      assertThat(proxyReady().orElseThrow().getReason()).isEqualTo(Conditions.REASON_UNAVAILABLE);
      assertThat(proxyReady().orElseThrow().getMessage()).doesNotContain("forged");

      String why =
          ProxySettings.TERMINATION_PREFIX
              + "upstream 0's credentials give a token and a user name or password";
      client
          .resource(
              Pods.exitedAtStart(
                  "builds",
                  "pypi-mirror-corp-proxy-7d9f-abcde",
                  labels,
                  List.of(MirrorObjects.ownerReference(replicaSet)),
                  why + "\nsecond line"))
          .create();

      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> proxyReady().map(Condition::getReason).orElse(""),
              ProxyCannotStart.REASON::equals);
      assertThat(proxyReady().orElseThrow().getStatus()).isEqualTo("False");
      assertThat(proxyReady().orElseThrow().getMessage()).isEqualTo(why);
    }
  }

  /** A ReplicaSet {@code owner} controls, as the Deployment controller writes one. */
  private ReplicaSet replicaSetOf(Deployment owner, String name, Map<String, String> labels) {
    return client
        .resource(
            new ReplicaSetBuilder()
                .withNewMetadata()
                .withNamespace("builds")
                .withName(name)
                .withLabels(labels)
                .addToLabels("pod-template-hash", name.substring(name.lastIndexOf('-') + 1))
                .withOwnerReferences(MirrorObjects.ownerReference(owner))
                .endMetadata()
                .withNewSpec()
                .withSelector(owner.getSpec().getSelector())
                .withTemplate(owner.getSpec().getTemplate())
                .endSpec()
                .build())
        .create();
  }

  private Optional<Condition> proxyReady() {
    return condition(Conditions.PROXY_READY);
  }

  /** The mirror's proxy Deployment, once the operator made it. */
  private Deployment proxyDeployment() {
    return await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                client
                    .apps()
                    .deployments()
                    .inNamespace("builds")
                    .withName("pypi-mirror-corp-proxy")
                    .get(),
            d -> d != null);
  }
}
