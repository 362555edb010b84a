package dev.pypimirror.operator;

import static dev.pypimirror.operator.testing.OperatorInCluster.buildPod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.Undecodable;
import dev.pypimirror.operator.cluster.TolerantDecoding;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.OperatorInCluster;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * One object the operator cannot decode (a field of the wrong type, as an object stored before a
 * schema change has; written past validation, as into etcd) stops nothing: stored before the
 * operator starts (its informers list it) or after (they are told by a watch), it gets a Warning
 * Event and one log line, and every other mirror and policy goes on being reconciled and injected.
 * An Enforce policy that cannot be read keeps its entry and refuses.
 */
class UndecodableObjectsTest {
  private static final String MIRRORS =
      "/apis/pypimirror.dev/v1alpha1/namespaces/%s/pypimirrors/%s";
  private static final ListAppender<ILoggingEvent> LOG = new ListAppender<>();
  private static OperatorInCluster cluster;
  private static KubernetesClient client;
  private static ApiServer api;

  @BeforeAll
  static void startWithAnUndecodableMirrorStored() throws Exception {
    LOG.start();
    ((Logger) LoggerFactory.getLogger(TolerantDecoding.class)).addAppender(LOG);
    cluster =
        OperatorInCluster.start(
            api -> {
              MockCluster.namespace(api.client(), "mixed", Map.of());
              storeMirror(
                  api,
                  "mixed",
                  "broken",
                  m -> m.putObject("status").put("observedGeneration", "x"));
            });
    client = cluster.client;
    api = cluster.api;
  }

  @AfterAll
  static void stop() {
    ((Logger) LoggerFactory.getLogger(TolerantDecoding.class)).detachAppender(LOG);
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A valid mirror's JSON, changed by {@code change}, stored unchecked. */
  private static void storeMirror(
      ApiServer api, String namespace, String name, Consumer<ObjectNode> change) {
    ObjectNode mirror =
        api.client()
            .getKubernetesSerialization()
            .convertValue(
                Mirrors.mirror(
                    namespace,
                    name,
                    Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/"))),
                ObjectNode.class);
    change.accept(mirror);
    api.storeUnchecked(MIRRORS.formatted(namespace, name), mirror.toString());
  }

  /** The operator's Warning Events about the object named so. */
  private static List<Event> unreadableEvents(String namespace, String name) {
    return client.v1().events().inNamespace(namespace).list().getItems().stream()
        .filter(e -> e.getInvolvedObject().getName().equals(name))
        .filter(e -> "Unreadable".equals(e.getReason()))
        .toList();
  }

  private static Event awaitUnreadableEvent(String namespace, String name) {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !unreadableEvents(namespace, name).isEmpty());
    return unreadableEvents(namespace, name).get(0);
  }

  @Test
  void aMirrorStoredUndecodableBeforeStartStopsNothingAndIsReportedOnce() {
    // the operator started (its informers listed the bad mirror) and reconciles the others
    cluster.readyMirror("mixed", "good");
    MockCluster.namespace(client, "elsewhere", Map.of());
    cluster.readyMirror("elsewhere", "fine");

    Event event = awaitUnreadableEvent("mixed", "broken");
    assertThat(event.getType()).isEqualTo("Warning");
    assertThat(event.getInvolvedObject().getKind()).isEqualTo("PypiMirror");
    assertThat(event.getInvolvedObject().getUid())
        .isEqualTo(
            client
                .genericKubernetesResources("pypimirror.dev/v1alpha1", "PypiMirror")
                .inNamespace("mixed")
                .withName("broken")
                .get()
                .getMetadata()
                .getUid());
    assertThat(event.getMessage())
        .contains("PypiMirror mixed/broken cannot be read by the operator")
        .contains("status.observedGeneration");

    // the webhook injects the good mirror and says why the other one is not
    client
        .resource(buildPod("mixed", "uses-good", Map.of("pypimirror.dev/mirror", "good")))
        .create();
    assertThat(cluster.stored("mixed", "uses-good").getMetadata().getAnnotations())
        .containsKey("pypimirror.dev/injected");
    client
        .resource(buildPod("mixed", "uses-broken", Map.of("pypimirror.dev/mirror", "broken")))
        .create();
    assertThat(cluster.stored("mixed", "uses-broken").getSpec().getVolumes()).isNullOrEmpty();
    assertThat(api.warnings())
        .anySatisfy(w -> assertThat(w).contains("PypiMirror mixed/broken cannot be read"));

    // one Event and one log line for this version of it, however many informers decoded it
    assertThat(unreadableEvents("mixed", "broken"))
        .singleElement()
        .satisfies(e -> assertThat(e.getCount()).isEqualTo(1));
    assertThat(LOG.list)
        .filteredOn(l -> l.getFormattedMessage().contains("mixed/broken"))
        .singleElement()
        .satisfies(l -> assertThat(l.getFormattedMessage()).contains("status.observedGeneration"));
  }

  @Test
  void aMirrorThatBecomesUndecodableWhileWatchedStopsNothing() {
    MockCluster.namespace(client, "watched", Map.of());
    cluster.readyMirror("watched", "turns");

    storeMirror(api, "watched", "turns", m -> m.with("spec").put("indexes", "not a list"));

    Event event = awaitUnreadableEvent("watched", "turns");
    assertThat(event.getMessage()).contains("spec.indexes");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> cluster.app.mirrors().get("watched", "turns").map(Undecodable::is).orElse(false));
    // the watch goes on: a mirror created afterwards is reconciled and seen by the webhook
    cluster.readyMirror("watched", "after");
    client
        .resource(buildPod("watched", "uses-after", Map.of("pypimirror.dev/mirror", "after")))
        .create();
    assertThat(cluster.stored("watched", "uses-after").getMetadata().getAnnotations())
        .containsKey("pypimirror.dev/injected");
  }

  @Test
  void anEnforcePolicyThatCannotBeReadKeepsItsEntryAndRefuses() {
    cluster.enforcedNamespace("secure");
    ObjectNode policy =
        client
            .getKubernetesSerialization()
            .convertValue(
                client
                    .genericKubernetesResources("pypimirror.dev/v1alpha1", "PypiMirrorPolicy")
                    .withName("secure-builds")
                    .get(),
                ObjectNode.class);
    policy.with("spec").put("priority", "high");

    api.storeUnchecked(
        "/apis/pypimirror.dev/v1alpha1/pypimirrorpolicies/secure-builds", policy.toString());

    Event event = awaitUnreadableEvent("default", "secure-builds");
    assertThat(event.getInvolvedObject().getKind()).isEqualTo("PypiMirrorPolicy");
    assertThat(event.getMessage()).contains("spec.priority");
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThatThrownBy(
                        () -> client.resource(buildPod("secure", "plain", Map.of())).create())
                    .isInstanceOf(KubernetesClientException.class)
                    .hasMessageContaining("PypiMirrorPolicy secure-builds cannot be read"));
    assertThat(cluster.stored("secure", "plain")).isNull();

    // the leader rewrites the entries (another policy came) and keeps the unreadable one's
    cluster.enforcedNamespace("other");
    assertThat(cluster.podEntries())
        .contains(
            "secure-builds.policy.pypimirror.dev Fail", "other-builds.policy.pypimirror.dev Fail");
    client
        .resource(buildPod("other", "governed", Map.of("pypimirror.dev/inject", "true")))
        .create();
    assertThat(cluster.stored("other", "governed").getMetadata().getAnnotations())
        .containsKey("pypimirror.dev/injected");
  }
}
