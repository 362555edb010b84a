package dev.pypimirror.operator.cluster;

import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.Undecodable;
import dev.pypimirror.operator.policy.Governance;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.policy.PolicyRules;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The governing policy of a namespace from informer caches of Namespaces and PypiMirrorPolicies:
 * the webhook never calls the API server per admission.
 */
public final class InformerPolicyDirectory implements PolicyDirectory, AutoCloseable {
  private final KubernetesClient client;
  private final SharedIndexInformer<Namespace> namespaces;
  private final SharedIndexInformer<PypiMirrorPolicy> policies;
  private final String operatorNamespace;

  /**
   * Watches nothing yet: {@link #start} does.
   *
   * @param operatorNamespace never governed (null: unknown)
   */
  public InformerPolicyDirectory(KubernetesClient client, String operatorNamespace) {
    this(
        client,
        client.namespaces().runnableInformer(0),
        client.resources(PypiMirrorPolicy.class).runnableInformer(0),
        operatorNamespace);
  }

  /** With the given informers (a test's may watch fewer namespaces than exist). */
  InformerPolicyDirectory(
      KubernetesClient client,
      SharedIndexInformer<Namespace> namespaces,
      SharedIndexInformer<PypiMirrorPolicy> policies,
      String operatorNamespace) {
    this.client = client;
    this.namespaces = namespaces;
    this.policies = policies;
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

  /**
   * The cached answer when the caches know the namespace and the policy and agree that the policy
   * enforces there; otherwise the namespace (and the policy, when not cached) is read from the API
   * server: a namespace created or relabelled a moment ago is governed as the API server routed it,
   * never taken for ungoverned. A failed read throws, and the webhook refuses; so does a routing
   * policy that cannot be read.
   */
  @Override
  public Optional<PypiMirrorPolicy> governing(String namespace, String routedBy) {
    refuseUnreadable(policies.getStore().getByKey(routedBy));
    Optional<PypiMirrorPolicy> cachedAnswer = fromCache(namespace, routedBy);
    if (cachedAnswer != null) {
      return cachedAnswer;
    }
    Namespace live = client.namespaces().withName(namespace).get();
    if (live == null) {
      throw new IllegalStateException(
          "namespace " + namespace + " is not known to the API server or to this replica yet");
    }
    List<PypiMirrorPolicy> all = new ArrayList<>(policies.getStore().list());
    if (policies.getStore().getByKey(routedBy) == null) {
      PypiMirrorPolicy fetched =
          refuseUnreadable(client.resources(PypiMirrorPolicy.class).withName(routedBy).get());
      if (fetched != null) {
        all.add(fetched);
      }
    }
    return Governance.governing(all, namespace, live.getMetadata().getLabels(), operatorNamespace);
  }

  @Override
  public boolean answersAtOnce(String namespace, String routedBy) {
    return fromCache(namespace, routedBy) != null;
  }

  /** The caches' answer when they know both and agree the policy enforces; else null. */
  private Optional<PypiMirrorPolicy> fromCache(String namespace, String routedBy) {
    if (namespaces.getStore().getByKey(namespace) == null
        || policies.getStore().getByKey(routedBy) == null) {
      return null;
    }
    Optional<PypiMirrorPolicy> answer = governing(namespace);
    return answer.filter(PolicyRules::enforces).isPresent() ? answer : null;
  }

  /**
   * The policy of an Enforce entry that cannot be read may enforce here: the entry fails closed.
   */
  private static PypiMirrorPolicy refuseUnreadable(PypiMirrorPolicy policy) {
    if (Undecodable.is(policy)) {
      throw new IllegalStateException(
          Undecodable.describe(policy) + ", and its Enforce entry refuses until it is fixed");
    }
    return policy;
  }

  /** Stops the informers; a second call, or one before {@link #start}, does nothing more. */
  @Override
  public void close() {
    namespaces.close();
    policies.close();
  }
}
