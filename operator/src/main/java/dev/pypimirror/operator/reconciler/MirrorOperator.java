package dev.pypimirror.operator.reconciler;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Clock;
import java.util.Set;

/** Wires the reconcilers into a java-operator-sdk Operator on a given client. */
public final class MirrorOperator {
  private MirrorOperator() {}

  /**
   * A started operator watching {@code namespaces} (empty: all). Server-side apply is off: writes
   * are create, update with resourceVersion, and JSON patches, which every API server supports.
   */
  public static Operator start(KubernetesClient client, Set<String> namespaces, Clock clock) {
    Operator operator =
        new Operator(
            o ->
                o.withKubernetesClient(client)
                    .withCloseClientOnStop(false)
                    .withUseSSAToPatchPrimaryResource(false)
                    .withSSABasedCreateUpdateMatchForDependentResources(false));
    var reconciler = new PypiMirrorReconciler(client, new EventRecorder(client, clock), clock);
    operator.register(
        reconciler,
        config -> {
          if (!namespaces.isEmpty()) {
            config.settingNamespaces(namespaces);
          }
        });
    operator.start();
    return operator;
  }
}
