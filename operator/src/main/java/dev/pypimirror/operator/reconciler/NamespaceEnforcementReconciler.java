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
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Labels each namespace a policy governs {@code pypimirror.dev/policy: <policy>}, and {@code
 * pypimirror.dev/enforced: <policy>} when that policy enforces, and removes them where no policy
 * does: the webhook configurations select on them. Only these two labels of a Namespace are ever
 * written.
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
                .withSecondaryToPrimaryMapper(EveryPrimary.of(namespaces))
                .build(),
            context);
    return List.of(policies);
  }

  @Override
  public UpdateControl<Namespace> reconcile(Namespace namespace, Context<Namespace> context) {
    String name = namespace.getMetadata().getName();
    Map<String, String> labels = namespace.getMetadata().getLabels();
    var governing = Governance.governing(policies.list().toList(), name, labels, operatorNamespace);
    String policy = governing.map(p -> p.getMetadata().getName()).orElse(null);
    String enforced =
        governing
            .filter(p -> p.getSpec().getEnforcement() == PypiMirrorPolicySpec.Enforcement.Enforce)
            .map(p -> p.getMetadata().getName())
            .orElse(null);
    Map<String, String> have = labels == null ? Map.of() : labels;
    if (!Objects.equals(policy, have.get(Governance.POLICY_LABEL))
        || !Objects.equals(enforced, have.get(Governance.ENFORCED_LABEL))) {
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
                setOrRemove(updated, Governance.POLICY_LABEL, policy);
                setOrRemove(updated, Governance.ENFORCED_LABEL, enforced);
                ns.getMetadata().setLabels(updated);
                return ns;
              });
    }
    return UpdateControl.noUpdate();
  }

  private static void setOrRemove(Map<String, String> labels, String key, String value) {
    if (value == null) {
      labels.remove(key);
    } else {
      labels.put(key, value);
    }
  }
}
