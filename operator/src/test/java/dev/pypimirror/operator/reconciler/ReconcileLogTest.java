package dev.pypimirror.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicyStatus;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.testing.Mirrors;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ReconcileLogTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger(ReconcileLog.class);
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

  @BeforeEach
  void capture() {
    lines.start();
    logger.addAppender(lines);
    logger.setLevel(Level.DEBUG);
  }

  @AfterEach
  void release() {
    logger.detachAppender(lines);
    logger.setLevel(null);
  }

  @Test
  void aMirrorThatBecameReadySaysWhatChangedAtInfo() {
    var mirror = Mirrors.mirror("builds", "corp", Mirrors.spec());
    PypiMirrorStatus before = new PypiMirrorStatus();
    before.setConditions(List.of(Conditions.of("Ready", false, "ClaimNotFound", "no PVC", 1)));
    PypiMirrorStatus after = new PypiMirrorStatus();
    after.setObservedGeneration(2L);
    after.setConfigHash("0123456789abcdef0123");
    after.setConditions(List.of(Conditions.of("Ready", true, "Ready", "pip uses x", 2)));

    ReconcileLog.mirror(mirror, before, after);
    ReconcileLog.mirror(mirror, after, after);

    assertThat(lines.list).hasSize(2);
    assertThat(lines.list.get(0).getLevel()).isEqualTo(Level.INFO);
    assertThat(lines.list.get(0).getFormattedMessage())
        .isEqualTo(
            "PypiMirror builds/corp generation 2: Ready False (ClaimNotFound) -> True (Ready): pip"
                + " uses x; configHash null -> 0123456789ab; Ready=True (Ready)");
    assertThat(lines.list.get(1).getLevel()).isEqualTo(Level.DEBUG);
    assertThat(lines.list.get(1).getFormattedMessage())
        .isEqualTo("PypiMirror builds/corp generation 2: unchanged, Ready=True (Ready)");
  }

  @Test
  void aPolicyNamesTheNamespacesItGainedAndLost() {
    PypiMirrorPolicy policy = new PypiMirrorPolicy();
    policy.getMetadata().setName("corp");
    PypiMirrorPolicyStatus before = new PypiMirrorPolicyStatus();
    before.setGovernedNamespaces(2);
    before.setNamespaces(List.of("a", "b"));
    PypiMirrorPolicyStatus after = new PypiMirrorPolicyStatus();
    after.setGovernedNamespaces(2);
    after.setNamespaces(List.of("b", "c"));

    ReconcileLog.policy(policy, before, after);

    assertThat(lines.list)
        .singleElement()
        .extracting(ILoggingEvent::getFormattedMessage)
        .asString()
        .contains("now governs c; no longer governs a");
  }
}
