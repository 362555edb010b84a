package dev.pypimirror.operator.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.cluster.EventRecorder.Type;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Events as client-go's recorder writes them: counted, combined, and within a budget. */
@EnableKubernetesMockClient(crud = true)
class EventRecorderTest {
  KubernetesMockServer server;
  KubernetesClient client;

  /** A clock the test moves. */
  static final class TestClock extends Clock {
    Instant now = Instant.parse("2026-01-01T10:00:00Z");

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    void advance(Duration by) {
      now = now.plus(by);
    }
  }

  final TestClock clock = new TestClock();

  static ConfigMap object(String name) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withNamespace("builds")
        .withName(name)
        .withUid("uid-" + name)
        .endMetadata()
        .build();
  }

  List<Event> events() {
    return client.v1().events().inNamespace("builds").list().getItems().stream()
        .sorted(Comparator.comparing(Event::getFirstTimestamp))
        .toList();
  }

  @Test
  void theSameEventAgainRaisesCountAndLastTimestampOfOneEvent() {
    EventRecorder recorder = new EventRecorder(client, clock);
    ConfigMap about = object("corp");

    recorder.record(about, Type.Warning, "SyncFailed", "the sync Job failed");
    clock.advance(Duration.ofSeconds(30));
    recorder.record(about, Type.Warning, "SyncFailed", "the sync Job failed");
    clock.advance(Duration.ofSeconds(30));
    recorder.record(about, Type.Warning, "SyncFailed", "the sync Job failed");
    recorder.record(about, Type.Normal, "Synced", "synced");

    assertThat(events()).hasSize(2);
    Event failed =
        events().stream().filter(e -> e.getReason().equals("SyncFailed")).findFirst().orElseThrow();
    assertThat(failed.getCount()).isEqualTo(3);
    assertThat(failed.getFirstTimestamp()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(failed.getLastTimestamp()).isEqualTo("2026-01-01T10:01:00Z");
    assertThat(failed.getInvolvedObject().getUid()).isEqualTo("uid-corp");
    assertThat(failed.getType()).isEqualTo("Warning");
  }

  @Test
  void aClusterScopedObjectsEventsGoToNamespaceDefault() {
    EventRecorder recorder = new EventRecorder(client, clock);
    var policy =
        new io.fabric8.kubernetes.api.model.NamespaceBuilder()
            .withNewMetadata()
            .withName("ml")
            .withUid("uid-ml")
            .endMetadata()
            .build();

    recorder.record(policy, Type.Warning, "Conflict", "taken");
    recorder.record(policy, Type.Warning, "Conflict", "taken");

    assertThat(client.v1().events().inNamespace("default").list().getItems())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getCount()).isEqualTo(2);
              assertThat(e.getInvolvedObject().getName()).isEqualTo("ml");
              assertThat(e.getInvolvedObject().getNamespace()).isNull();
            });
  }

  @Test
  void anEventThatExpiredIsWrittenAnew() {
    EventRecorder recorder = new EventRecorder(client, clock);
    ConfigMap about = object("corp");
    recorder.record(about, Type.Normal, "Ready", "ready");
    client.v1().events().inNamespace("builds").delete();

    recorder.record(about, Type.Normal, "Ready", "ready");

    assertThat(events()).singleElement().satisfies(e -> assertThat(e.getCount()).isEqualTo(1));
  }

  @Test
  void theTenthDistinctMessageOfOneReasonIsCombined() {
    EventRecorder recorder = new EventRecorder(client, clock);
    ConfigMap about = object("corp");

    for (int i = 1; i <= 12; i++) {
      recorder.record(about, Type.Normal, "ConfigUpdated", "updated to " + i);
    }

    List<String> messages = events().stream().map(Event::getMessage).toList();
    assertThat(messages).hasSize(10).contains("updated to 9").doesNotContain("updated to 10");
    Event combined =
        events().stream()
            .filter(e -> e.getMessage().startsWith("(combined from similar events): "))
            .findFirst()
            .orElseThrow();
    assertThat(combined.getCount()).isEqualTo(3);
    assertThat(combined.getMessage()).isEqualTo("(combined from similar events): updated to 12");
  }

  @Test
  void anObjectGets25EventsThenOneEveryFiveMinutesAndOthersAreUnaffected() {
    EventRecorder recorder = new EventRecorder(client, clock);
    ConfigMap noisy = object("noisy");

    for (int i = 0; i < 40; i++) {
      recorder.record(noisy, Type.Warning, "Flapping", "flap");
    }
    assertThat(events()).singleElement().satisfies(e -> assertThat(e.getCount()).isEqualTo(25));

    recorder.record(object("quiet"), Type.Normal, "Ready", "ready");
    clock.advance(Duration.ofMinutes(5));
    recorder.record(noisy, Type.Warning, "Flapping", "flap");
    recorder.record(noisy, Type.Warning, "Flapping", "flap");

    assertThat(events()).hasSize(2);
    assertThat(events())
        .filteredOn(e -> e.getReason().equals("Flapping"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getCount()).isEqualTo(26);
              assertThat(e.getLastTimestamp()).isEqualTo("2026-01-01T10:05:00Z");
            });
  }
}
