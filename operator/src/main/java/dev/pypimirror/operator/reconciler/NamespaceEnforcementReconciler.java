package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.policy.Governance;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Labels each namespace that an Enforce policy governs {@code pypimirror.dev/enforced: <policy>},
 * and removes the label where none does: the fail-closed webhook entry selects on it. Only that one
 * label of a Namespace is ever written.
 */
@ControllerConfiguration(
    name = NamespaceEnforcementReconciler.NAME,
    generationAwareEventProcessing = false)
public class NamespaceEnforcementReconciler implements Reconciler<Namespace> {
  public static final String NAME = "namespace-enforcement";

  private final KubernetesClient client;
  private final String operatorNamespace;
  private InformerEventSource<PypiMirrorPolicy, Namespace> policies;

  public NamespaceEnforcementReconciler(KubernetesClient client, String operatorNamespace) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
  }

  @Override
  public List<EventSource<?, Namespace>> prepareEventSources(
      EventSourceContext<Namespace> context) {
    var namespaces = context.getPrimaryCache();
    policies =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(PypiMirrorPolicy.class, Namespace.class)
                .withName("policies")
                .withWatchAllNamespaces()
                .withSecondaryToPrimaryMapper(
                    p ->
                        namespaces.list().map(ResourceID::fromResource).collect(Collectors.toSet()))
                .build(),
            context);
    return List.of(policies);
  }

  @Override
  public UpdateControl<Namespace> reconcile(Namespace namespace, Context<Namespace> context) {
    String name = namespace.getMetadata().getName();
    Map<String, String> labels = namespace.getMetadata().getLabels();
    String desired =
        Governance.governing(policies.list().toList(), name, labels, operatorNamespace)
            .filter(p -> p.getSpec().getEnforcement() == PypiMirrorPolicySpec.Enforcement.Enforce)
            .map(p -> p.getMetadata().getName())
            .orElse(null);
    String current = labels == null ? null : labels.get(Governance.ENFORCED_LABEL);
    if (!Objects.equals(desired, current)) {
      client
          .namespaces()
          .withName(name)
          .edit(
              ns -> {
                Map<String, String> updated =
                    new HashMap<>(
                        ns.getMetadata().getLabels() == null
                            ? Map.of()
                            : ns.getMetadata().getLabels());
                if (desired == null) {
                  updated.remove(Governance.ENFORCED_LABEL);
                } else {
                  updated.put(Governance.ENFORCED_LABEL, desired);
                }
                ns.getMetadata().setLabels(updated);
                return ns;
              });
    }
    return UpdateControl.noUpdate();
  }
}
