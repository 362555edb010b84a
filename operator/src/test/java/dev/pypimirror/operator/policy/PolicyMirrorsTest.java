package dev.pypimirror.operator.policy;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Policies.policy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.config.MirrorObjects;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The mirror a policy keeps in a namespace: what is written, and which mirrors are its own. */
class PolicyMirrorsTest {
  static final PypiMirrorSpec DEVPI = spec(https("https://devpi.corp.example/root/pypi/+simple/"));

  static PypiMirrorPolicy corp() {
    return policy("corp-builds", Map.of("team", "ml"), DEVPI, false);
  }

  /** A mirror in {@code ns} of the policy's name, with a label value and owner (null: none). */
  static PypiMirror existing(String ns, String label, String ownerKind, PypiMirrorSpec spec) {
    PypiMirror m = mirror(ns, "corp-builds", spec);
    m.getMetadata().setResourceVersion("7");
    if (label != null) {
      m.getMetadata()
          .setLabels(
              Map.of(
                  PolicyMirrors.MADE_BY_POLICY_LABEL,
                  label,
                  MirrorObjects.MANAGED_BY_LABEL,
                  MirrorObjects.MANAGED_BY,
                  "team",
                  "ml"));
    }
    if (ownerKind != null) {
      m.getMetadata()
          .setOwnerReferences(
              List.of(
                  ownerKind.equals("PypiMirrorPolicy")
                      ? MirrorObjects.ownerReference(corp())
                      : new OwnerReferenceBuilder()
                          .withKind(ownerKind)
                          .withName("corp-builds")
                          .build()));
    }
    m.setStatus(new PypiMirrorStatus());
    return m;
  }

  static Stream<Arguments> writes() {
    PypiMirrorSpec other = spec(https("https://other.example/simple/"));
    return Stream.of(
        Arguments.of("none there", null, PolicyMirrors.Write.Create.class),
        Arguments.of(
            "made by it, as wanted",
            existing("ci", "corp-builds", "PypiMirrorPolicy", DEVPI),
            PolicyMirrors.Write.Unchanged.class),
        Arguments.of(
            "made by it, spec edited by hand",
            existing("ci", "corp-builds", "PypiMirrorPolicy", other),
            PolicyMirrors.Write.Update.class),
        Arguments.of(
            "a user's of the same name",
            existing("ci", null, null, DEVPI),
            PolicyMirrors.Write.Conflict.class),
        Arguments.of(
            "labelled by a user, not owned",
            existing("ci", "corp-builds", null, DEVPI),
            PolicyMirrors.Write.Conflict.class),
        Arguments.of(
            "owned, labelled for another policy",
            existing("ci", "other", "PypiMirrorPolicy", DEVPI),
            PolicyMirrors.Write.Conflict.class),
        Arguments.of(
            "labelled, owned by something else",
            existing("ci", "corp-builds", "ConfigMap", DEVPI),
            PolicyMirrors.Write.Conflict.class));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("writes")
  void theWriteFollowsWhoMadeTheMirrorThere(
      String what, PypiMirror there, Class<? extends PolicyMirrors.Write> expected) {
    PolicyMirrors.Write write = PolicyMirrors.write(corp(), "ci", there);

    assertThat(write).isInstanceOf(expected);
    PypiMirror written =
        write instanceof PolicyMirrors.Write.Create c
            ? c.mirror()
            : write instanceof PolicyMirrors.Write.Update u ? u.mirror() : null;
    if (written != null) {
      assertThat(written.getMetadata().getNamespace()).isEqualTo("ci");
      assertThat(written.getMetadata().getName()).isEqualTo("corp-builds");
      assertThat(written.getMetadata().getLabels())
          .containsEntry(PolicyMirrors.MADE_BY_POLICY_LABEL, "corp-builds")
          .containsEntry(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY);
      assertThat(written.getMetadata().getOwnerReferences())
          .containsExactly(MirrorObjects.ownerReference(corp()));
      assertThat(written.getSpec()).isEqualTo(DEVPI);
      assertThat(written.getStatus()).as("status is the mirror reconciler's").isNull();
      assertThat(PolicyMirrors.madeBy(written, corp())).isTrue();
    }
    if (write instanceof PolicyMirrors.Write.Update u) {
      assertThat(u.mirror().getMetadata().getLabels())
          .as("labels others put on it are kept")
          .containsEntry("team", "ml");
      assertThat(u.mirror().getMetadata().getResourceVersion()).isEqualTo("7");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("writes")
  void onlyItsOwnMirrorsOutsideTheGovernedNamespacesAreDeleted(
      String what, PypiMirror there, Class<? extends PolicyMirrors.Write> expected) {
    if (there == null) {
      return;
    }
    boolean own = expected != PolicyMirrors.Write.Conflict.class;

    assertThat(PolicyMirrors.outside(corp(), List.of(there), Set.of())).hasSize(own ? 1 : 0);
    assertThat(PolicyMirrors.outside(corp(), List.of(there), Set.of("ci"))).isEmpty();
  }
}
