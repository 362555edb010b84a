package dev.pypimirror.operator.reconciler;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Clock;
import java.util.Set;

/** Wires the reconcilers into a java-operator-sdk Operator on a given client. */
public final class MirrorOperator {
  /** The image whose `index` command the cache sync Job runs: this operator's own image. */
  public static final String DEFAULT_INDEX_IMAGE = "pypi-mirror-operator:0.1.0";

  private MirrorOperator() {}

  public static Operator start(
      KubernetesClient client, Set<String> namespaces, String operatorNamespace, Clock clock) {
    return start(client, namespaces, operatorNamespace, DEFAULT_INDEX_IMAGE, clock);
  }

  /**
   * A started operator: PypiMirrors in {@code namespaces} (empty: all), PypiMirrorPolicies and the
   * enforcement label of namespaces. Server-side apply is off: writes are create, update with
   * resourceVersion, and JSON patches, which every API server supports.
   *
   * @param operatorNamespace the operator's own namespace, never governed (null: unknown)
   */
  public static Operator start(
      KubernetesClient client,
      Set<String> namespaces,
      String operatorNamespace,
      String indexImage,
      Clock clock) {
    Operator operator =
        new Operator(
            o ->
                o.withKubernetesClient(client)
                    .withCloseClientOnStop(false)
                    .withUseSSAToPatchPrimaryResource(false)
                    .withSSABasedCreateUpdateMatchForDependentResources(false));
    EventRecorder events = new EventRecorder(client, clock);
    operator.register(
        new PypiMirrorReconciler(client, events, clock, operatorNamespace, indexImage),
        config -> {
          if (!namespaces.isEmpty()) {
            config.settingNamespaces(namespaces);
          }
        });
    operator.register(new PypiMirrorPolicyReconciler(client, events, clock, operatorNamespace));
    operator.register(new NamespaceEnforcementReconciler(client, operatorNamespace));
    operator.start();
    return operator;
  }
}
