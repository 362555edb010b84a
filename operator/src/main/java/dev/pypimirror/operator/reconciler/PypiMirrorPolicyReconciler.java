package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicyStatus;
import dev.pypimirror.operator.api.Undecodable;
import dev.pypimirror.operator.cluster.EventRecorder;
import dev.pypimirror.operator.cluster.EventRecorder.Type;
import dev.pypimirror.operator.inject.IneffectiveSettings;
import dev.pypimirror.operator.policy.EgressPolicies;
import dev.pypimirror.operator.policy.PolicyMirrors;
import dev.pypimirror.operator.policy.PolicyStatuses;
import dev.pypimirror.operator.policy.PolicyStatuses.Reach;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Keeps a PypiMirror named after the policy, built from spec.mirror, in every namespace the policy
 * governs, removes the ones it made where it no longer governs, and reports what it governs, what
 * it made, what breaks its rules and where it overlaps with a higher-ranked policy. A user's
 * PypiMirror of the same name is reported, never changed.
 */
@ControllerConfiguration(name = PypiMirrorPolicyReconciler.NAME)
public class PypiMirrorPolicyReconciler implements Reconciler<PypiMirrorPolicy> {
  public static final String NAME = "pypimirrorpolicy";

  private final KubernetesClient client;
  private final EventRecorder events;
  private final Unreadable unreadable;
  private final Clock clock;
  private final String operatorNamespace;
  private final ObjectWriter writer;
  private InformerEventSource<Namespace, PypiMirrorPolicy> namespaces;
  private InformerEventSource<PypiMirror, PypiMirrorPolicy> mirrors;

  public PypiMirrorPolicyReconciler(
      KubernetesClient client,
      ObjectWriter writer,
      EventRecorder events,
      Clock clock,
      String operatorNamespace) {
    this.client = client;
    this.events = events;
    this.unreadable = new Unreadable(events);
    this.clock = clock;
    this.operatorNamespace = operatorNamespace;
    this.writer = writer;
  }

  @Override
  public List<EventSource<?, PypiMirrorPolicy>> prepareEventSources(
      EventSourceContext<PypiMirrorPolicy> context) {
    var primaries = context.getPrimaryCache();
    namespaces =
        Secondaries.everywhere(context, Namespace.class, "namespaces", EveryPrimary.of(primaries));
    mirrors =
        Secondaries.everywhere(context, PypiMirror.class, "mirrors", EveryPrimary.of(primaries));
    return List.of(namespaces, mirrors);
  }

  @Override
  public UpdateControl<PypiMirrorPolicy> reconcile(
      PypiMirrorPolicy policy, Context<PypiMirrorPolicy> context) {
    if (unreadable.skip(policy)) {
      return UpdateControl.noUpdate();
    }
    List<PypiMirrorPolicy> policies = context.getPrimaryCache().list().toList();
    Reach reach =
        PolicyStatuses.reach(policy, policies, namespaces.list().toList(), operatorNamespace);
    Set<String> mirrored = policy.getSpec().getMirror() != null ? reach.governed() : Set.of();
    Made made = writeMirrors(policy, mirrored);
    writeEgressPolicies(policy, reach.governed());
    List<PypiMirror> all = mirrors.list().filter(m -> !Undecodable.is(m)).toList();
    for (PypiMirror stale : PolicyMirrors.outside(policy, all, mirrored)) {
      client.resource(stale).delete();
    }

    PypiMirrorPolicyStatus previous =
        Optional.ofNullable(policy.getStatus()).orElseGet(PypiMirrorPolicyStatus::new);
    PypiMirrorPolicyStatus status =
        PolicyStatuses.status(
            policy,
            reach,
            made.count(),
            made.conflicts(),
            PolicyStatuses.violatingMirrors(policy, reach.governed(), all),
            IneffectiveSettings.of(policy),
            previous,
            clock.instant());
    PolicyStatuses.warning(previous, status)
        .ifPresent(c -> events.record(policy, Type.Warning, c.getReason(), c.getMessage()));
    PolicyStatuses.ineffectiveWarning(previous, status)
        .ifPresent(c -> events.record(policy, Type.Warning, c.getReason(), c.getMessage()));
    ReconcileLog.policy(policy, previous, status);
    if (!status.equals(previous)) {
      writer.writeStatus(policy, status, context);
    }
    return UpdateControl.noUpdate();
  }

  /** The mirrors a policy made, and the namespace/name of each it could not (not its own). */
  private record Made(int count, List<String> conflicts) {}

  /** Writes the policy's mirror into each namespace of {@code namespaces}. */
  private Made writeMirrors(PypiMirrorPolicy policy, Set<String> namespaces) {
    int made = 0;
    List<String> conflicts = new ArrayList<>();
    for (String namespace : namespaces) {
      if (writeMirror(policy, namespace)) {
        made++;
      } else {
        conflicts.add(namespace + "/" + policy.getMetadata().getName());
      }
    }
    return new Made(made, conflicts);
  }

  /**
   * Keeps the policy's egress NetworkPolicy ({@code restrictEgress}) in every namespace it governs
   * as {@link EgressPolicies#desired} makes it, and deletes the ones it made elsewhere or no longer
   * wants.
   */
  private void writeEgressPolicies(PypiMirrorPolicy policy, Set<String> governed) {
    String name = policy.getMetadata().getName();
    var existing = new java.util.HashMap<String, NetworkPolicy>();
    client
        .network()
        .v1()
        .networkPolicies()
        .inAnyNamespace()
        .withLabel(PolicyMirrors.MADE_BY_POLICY_LABEL, name)
        .list()
        .getItems()
        .stream()
        .filter(n -> n.getMetadata().getName().equals(EgressPolicies.name(name)))
        .forEach(n -> existing.put(n.getMetadata().getNamespace(), n));
    for (String namespace : governed) {
      Optional<NetworkPolicy> desired = EgressPolicies.desired(policy, namespace);
      NetworkPolicy current = existing.remove(namespace);
      if (desired.isEmpty()) {
        if (current != null) {
          client.resource(current).delete();
        }
      } else if (current == null) {
        client.resource(desired.get()).create();
      } else if (!desired.get().getSpec().equals(current.getSpec())) {
        desired.get().getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
        client.resource(desired.get()).update();
      }
    }
    existing.values().forEach(stale -> client.resource(stale).delete());
  }

  /** Makes the policy's mirror in {@code namespace} what it wants; false when a user's is there. */
  private boolean writeMirror(PypiMirrorPolicy policy, String namespace) {
    PypiMirror existing =
        mirrors.get(new ResourceID(policy.getMetadata().getName(), namespace)).orElse(null);
    if (Undecodable.is(existing)) {
      return true; // its own Warning says why; rewriting what cannot be read could undo a fix
    }
    PolicyMirrors.Write write = PolicyMirrors.write(policy, namespace, existing);
    if (write instanceof PolicyMirrors.Write.Conflict) {
      return false;
    }
    if (write instanceof PolicyMirrors.Write.Create create) {
      client.resource(create.mirror()).create();
    } else if (write instanceof PolicyMirrors.Write.Update update) {
      client.resource(update.mirror()).update();
    }
    return true;
  }
}
