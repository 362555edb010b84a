package dev.pypimirror.operator.testing;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import java.util.Map;

/** PypiMirrorPolicy builders for tests. */
public final class Policies {
  private Policies() {}

  /** The examples' Enforce policy: namespaces labelled team=ml get the corporate devpi. */
  public static PypiMirrorPolicy enforcedCorpBuilds() {
    return policy(
        "corp-builds",
        Map.of("team", "ml"),
        Mirrors.spec(Mirrors.https("https://devpi.corp.example/simple/")),
        true);
  }

  public static PypiMirrorPolicy policy(
      String name, Map<String, String> namespaceLabels, PypiMirrorSpec mirror, boolean enforce) {
    PypiMirrorPolicy policy = new PypiMirrorPolicy();
    policy.getMetadata().setName(name);
    PypiMirrorPolicySpec spec = new PypiMirrorPolicySpec();
    spec.setNamespaceSelector(selector(namespaceLabels));
    spec.setMirror(mirror);
    spec.setEnforcement(
        enforce
            ? PypiMirrorPolicySpec.Enforcement.Enforce
            : PypiMirrorPolicySpec.Enforcement.Advisory);
    policy.setSpec(spec);
    return policy;
  }

  public static LabelSelector selector(Map<String, String> labels) {
    return new LabelSelectorBuilder().withMatchLabels(labels).build();
  }
}
