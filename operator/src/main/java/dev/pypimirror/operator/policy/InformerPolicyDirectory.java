package dev.pypimirror.operator.policy;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Optional;

/**
 * The governing policy of a namespace from informer caches of Namespaces and PypiMirrorPolicies:
 * the webhook never calls the API server per admission.
 */
public final class InformerPolicyDirectory implements PolicyDirectory, AutoCloseable {
  private final SharedIndexInformer<Namespace> namespaces;
  private final SharedIndexInformer<PypiMirrorPolicy> policies;
  private final String operatorNamespace;

  private InformerPolicyDirectory(
      SharedIndexInformer<Namespace> namespaces,
      SharedIndexInformer<PypiMirrorPolicy> policies,
      String operatorNamespace) {
    this.namespaces = namespaces;
    this.policies = policies;
    this.operatorNamespace = operatorNamespace;
  }

  public static InformerPolicyDirectory start(KubernetesClient client, String operatorNamespace) {
    var namespaces = client.namespaces().runnableInformer(0);
    var policies = client.resources(PypiMirrorPolicy.class).runnableInformer(0);
    namespaces.start();
    policies.start();
    return new InformerPolicyDirectory(namespaces, policies, operatorNamespace);
  }

  public boolean hasSynced() {
    return namespaces.hasSynced() && policies.hasSynced();
  }

  @Override
  public Optional<PypiMirrorPolicy> governing(String namespace) {
    Namespace ns = namespaces.getStore().getByKey(namespace);
    var labels = ns == null ? null : ns.getMetadata().getLabels();
    return Governance.governing(policies.getStore().list(), namespace, labels, operatorNamespace);
  }

  @Override
  public void close() {
    namespaces.close();
    policies.close();
  }
}
