package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicyStatus;
import dev.pypimirror.operator.cluster.EventRecorder;
import dev.pypimirror.operator.cluster.EventRecorder.Type;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.inject.MirrorSelector;
import dev.pypimirror.operator.policy.Governance;
import dev.pypimirror.operator.policy.PolicyRules;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Keeps a PypiMirror named after the policy, built from spec.mirror, in every namespace the policy
 * governs, removes the ones it made where it no longer governs, and reports what it governs, what
 * it made, what breaks its rules and where it overlaps with a higher-ranked policy. A user's
 * PypiMirror of the same name is reported, never changed.
 */
@ControllerConfiguration(name = PypiMirrorPolicyReconciler.NAME)
public class PypiMirrorPolicyReconciler implements Reconciler<PypiMirrorPolicy> {
  public static final String NAME = "pypimirrorpolicy";
  static final int LISTED_VIOLATIONS = 10;

  private final KubernetesClient client;
  private final EventRecorder events;
  private final Clock clock;
  private final String operatorNamespace;
  private final ObjectWriter writer;
  private InformerEventSource<Namespace, PypiMirrorPolicy> namespaces;
  private InformerEventSource<PypiMirror, PypiMirrorPolicy> mirrors;

  public PypiMirrorPolicyReconciler(
      KubernetesClient client, EventRecorder events, Clock clock, String operatorNamespace) {
    this.client = client;
    this.events = events;
    this.clock = clock;
    this.operatorNamespace = operatorNamespace;
    this.writer = new ObjectWriter(client);
  }

  @Override
  public List<EventSource<?, PypiMirrorPolicy>> prepareEventSources(
      EventSourceContext<PypiMirrorPolicy> context) {
    var primaries = context.getPrimaryCache();
    namespaces =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Namespace.class, PypiMirrorPolicy.class)
                .withName("namespaces")
                .withWatchAllNamespaces()
                .withSecondaryToPrimaryMapper(EveryPrimary.of(primaries))
                .build(),
            context);
    mirrors =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(PypiMirror.class, PypiMirrorPolicy.class)
                .withName("mirrors")
                .withWatchAllNamespaces()
                .withSecondaryToPrimaryMapper(EveryPrimary.of(primaries))
                .build(),
            context);
    return List.of(namespaces, mirrors);
  }

  @Override
  public UpdateControl<PypiMirrorPolicy> reconcile(
      PypiMirrorPolicy policy, Context<PypiMirrorPolicy> context) {
    String name = policy.getMetadata().getName();
    List<PypiMirrorPolicy> all = context.getPrimaryCache().list().toList();
    Set<String> governed = new TreeSet<>();
    List<String> overlaps = new ArrayList<>();
    for (Namespace ns : namespaces.list().toList()) {
      String nsName = ns.getMetadata().getName();
      var labels = ns.getMetadata().getLabels();
      if (!Governance.selects(policy, nsName, labels, operatorNamespace)) {
        continue;
      }
      var winner = Governance.governing(all, nsName, labels, operatorNamespace).orElse(policy);
      if (winner.getMetadata().getName().equals(name)) {
        governed.add(nsName);
      } else {
        overlaps.add(nsName + " (" + winner.getMetadata().getName() + ")");
      }
    }
    overlaps.sort(null);

    List<String> conflicts = new ArrayList<>();
    int made = 0;
    if (policy.getSpec().getMirror() != null) {
      for (String ns : governed) {
        if (keepMirror(policy, ns)) {
          made++;
        } else {
          conflicts.add(ns + "/" + name);
        }
      }
    }
    removeMirrorsOutside(policy, policy.getSpec().getMirror() == null ? Set.of() : governed);

    List<String> violating = new ArrayList<>();
    for (PypiMirror mirror : mirrors.list().toList()) {
      if (governed.contains(mirror.getMetadata().getNamespace())) {
        List<String> broken = PolicyRules.violations(policy, mirror.getSpec());
        if (!broken.isEmpty()) {
          violating.add(
              mirror.getMetadata().getNamespace()
                  + "/"
                  + mirror.getMetadata().getName()
                  + ": "
                  + broken.get(0));
        }
      }
    }
    violating.sort(null);

    long generation = Optional.ofNullable(policy.getMetadata().getGeneration()).orElse(0L);
    PypiMirrorPolicyStatus previous =
        Optional.ofNullable(policy.getStatus()).orElseGet(PypiMirrorPolicyStatus::new);
    PypiMirrorPolicyStatus status = new PypiMirrorPolicyStatus();
    status.setObservedGeneration(generation);
    status.setGovernedNamespaces(governed.size());
    status.setNamespaces(
        governed.stream().limit(PypiMirrorPolicyStatus.LISTED_NAMESPACES).toList());
    status.setMirrorsMade(made);
    status.setViolations(violating.size());
    status.setViolatingMirrors(violating.stream().limit(LISTED_VIOLATIONS).toList());
    status.setOverlaps(overlaps);
    List<Condition> conditions = new ArrayList<>();
    List<String> invalid = Governance.problems(policy);
    conditions.add(
        !invalid.isEmpty()
            ? Conditions.of(
                Conditions.READY,
                false,
                Conditions.REASON_INVALID_SPEC,
                "this policy governs no namespace and has no webhook entry until its selectors are fixed: "
                    + String.join("; ", invalid),
                generation)
            : conflicts.isEmpty()
                ? Conditions.of(
                    Conditions.READY,
                    true,
                    Conditions.REASON_READY,
                    "governs %d namespace(s), made %d mirror(s)".formatted(governed.size(), made),
                    generation)
                : Conditions.of(
                    Conditions.READY,
                    false,
                    Conditions.REASON_CONFLICT,
                    "PypiMirrors of this policy's name exist and were not made by it; left as they are: "
                        + String.join(", ", conflicts),
                    generation));
    conditions.add(
        Conditions.of(
            "Overlapping",
            !overlaps.isEmpty(),
            overlaps.isEmpty() ? "NoOverlap" : "GovernedByAnotherPolicy",
            overlaps.isEmpty()
                ? "no selected namespace is governed by another policy"
                : "selected, but governed by a higher-ranked policy: "
                    + String.join(", ", overlaps),
            generation));
    var now = clock.instant();
    status.setConditions(
        conditions.stream()
            .map(c -> Conditions.carryTransitionTime(c, previous.getConditions(), now))
            .toList());
    if (!invalid.isEmpty()
        && !previous
            .condition(Conditions.READY)
            .map(c -> Conditions.REASON_INVALID_SPEC.equals(c.getReason()))
            .orElse(false)) {
      events.record(
          policy,
          Type.Warning,
          Conditions.REASON_INVALID_SPEC,
          status.getConditions().get(0).getMessage());
    } else if (!conflicts.isEmpty()
        && !previous
            .condition(Conditions.READY)
            .map(c -> Conditions.REASON_CONFLICT.equals(c.getReason()))
            .orElse(false)) {
      events.record(
          policy,
          Type.Warning,
          Conditions.REASON_CONFLICT,
          status.getConditions().get(0).getMessage());
    }
    ReconcileLog.policy(policy, previous, status);
    if (!status.equals(previous)) {
      writer.writeStatus(policy, status, context);
    }
    return UpdateControl.noUpdate();
  }

  /** Creates or updates the policy's mirror in {@code namespace}; false when a user's is there. */
  private boolean keepMirror(PypiMirrorPolicy policy, String namespace) {
    String name = policy.getMetadata().getName();
    PypiMirror existing = mirrors.get(new ResourceID(name, namespace)).orElse(null);
    if (existing != null && !madeBy(existing, policy)) {
      return false;
    }
    PypiMirror desired = existing == null ? new PypiMirror() : Serialization.clone(existing);
    desired.getMetadata().setName(name);
    desired.getMetadata().setNamespace(namespace);
    Map<String, String> labels =
        new LinkedHashMap<>(
            desired.getMetadata().getLabels() == null
                ? Map.of()
                : desired.getMetadata().getLabels());
    labels.put(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY);
    labels.put(MirrorSelector.POLICY_LABEL, name);
    desired.getMetadata().setLabels(labels);
    desired.getMetadata().setOwnerReferences(List.of(MirrorObjects.ownerReference(policy)));
    desired.setSpec(policy.getSpec().getMirror());
    if (existing == null) {
      desired.setStatus(null);
      client.resource(desired).create();
    } else if (!Serialization.asJson(desired).equals(Serialization.asJson(existing))) {
      desired.setStatus(null);
      client.resource(desired).update();
    }
    return true;
  }

  /** Deletes the mirrors this policy made outside {@code keep}; never anyone else's. */
  private void removeMirrorsOutside(PypiMirrorPolicy policy, Set<String> keep) {
    for (PypiMirror mirror : mirrors.list().toList()) {
      if (madeBy(mirror, policy) && !keep.contains(mirror.getMetadata().getNamespace())) {
        client.resource(mirror).delete();
      }
    }
  }

  private static boolean madeBy(PypiMirror mirror, PypiMirrorPolicy policy) {
    var labels = mirror.getMetadata().getLabels();
    boolean labelled =
        labels != null
            && policy.getMetadata().getName().equals(labels.get(MirrorSelector.POLICY_LABEL));
    var refs = mirror.getMetadata().getOwnerReferences();
    boolean owned =
        refs != null
            && refs.stream()
                .anyMatch(
                    r ->
                        "PypiMirrorPolicy".equals(r.getKind())
                            && Objects.equals(r.getName(), policy.getMetadata().getName()));
    return labelled && owned;
  }
}
