package dev.pypimirror.operator.cluster;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.policy.Governance;
import dev.pypimirror.operator.policy.PolicyDirectory;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Collection;
import java.util.Optional;

/**
 * The governing policy of a namespace from informer caches of Namespaces and PypiMirrorPolicies:
 * the webhook never calls the API server per admission.
 */
public final class InformerPolicyDirectory implements PolicyDirectory, AutoCloseable {
  private final SharedIndexInformer<Namespace> namespaces;
  private final SharedIndexInformer<PypiMirrorPolicy> policies;
  private final String operatorNamespace;

  /**
   * Watches nothing yet: {@link #start} does.
   *
   * @param operatorNamespace never governed (null: unknown)
   */
  public InformerPolicyDirectory(KubernetesClient client, String operatorNamespace) {
    this.namespaces = client.namespaces().runnableInformer(0);
    this.policies = client.resources(PypiMirrorPolicy.class).runnableInformer(0);
    this.operatorNamespace = operatorNamespace;
  }

  /** Starts the informers and returns at once; {@link #hasSynced()} tells when both are full. */
  public InformerPolicyDirectory start() {
    namespaces.start();
    policies.start();
    return this;
  }

  public boolean hasSynced() {
    return namespaces.hasSynced() && policies.hasSynced();
  }

  /** Every policy, or empty until the informer has synced (an empty store means nothing yet). */
  public Optional<Collection<PypiMirrorPolicy>> all() {
    return policies.hasSynced() ? Optional.of(policies.getStore().list()) : Optional.empty();
  }

  /** Runs {@code onChange} on every add, update and delete of a policy. */
  public void onPolicyChange(Runnable onChange) {
    policies.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(PypiMirrorPolicy policy) {
            onChange.run();
          }

          @Override
          public void onUpdate(PypiMirrorPolicy before, PypiMirrorPolicy after) {
            onChange.run();
          }

          @Override
          public void onDelete(PypiMirrorPolicy policy, boolean unknownFinalState) {
            onChange.run();
          }
        });
  }

  @Override
  public Optional<PypiMirrorPolicy> governing(String namespace) {
    Namespace ns = namespaces.getStore().getByKey(namespace);
    var labels = ns == null ? null : ns.getMetadata().getLabels();
    return Governance.governing(policies.getStore().list(), namespace, labels, operatorNamespace);
  }

  /** Stops the informers; a second call, or one before {@link #start}, does nothing more. */
  @Override
  public void close() {
    namespaces.close();
    policies.close();
  }
}
