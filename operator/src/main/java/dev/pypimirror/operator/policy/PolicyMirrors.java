package dev.pypimirror.operator.policy;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.config.MirrorObjects;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The PypiMirror a policy with {@code spec.mirror} keeps in each namespace it governs: named after
 * the policy, labelled with its name and owned by it. A user's PypiMirror of that name is never
 * changed.
 */
public final class PolicyMirrors {
  /**
   * Label on a PypiMirror that a PypiMirrorPolicy made: the policy's name. It marks the mirror as
   * the policy's own for selection (the namespace default); only together with the owner reference
   * does it make a mirror the policy's to change or delete.
   */
  public static final String MADE_BY_POLICY_LABEL = "pypimirror.dev/policy";

  private PolicyMirrors() {}

  /** What to do about the policy's mirror in one namespace. */
  public sealed interface Write {
    /** Create {@code mirror}. */
    record Create(PypiMirror mirror) implements Write {}

    /** Replace the existing mirror with {@code mirror} (its status left out). */
    record Update(PypiMirror mirror) implements Write {}

    /** The mirror is as it should be. */
    record Unchanged() implements Write {}

    /** A PypiMirror of the policy's name that the policy did not make: left as it is. */
    record Conflict() implements Write {}
  }

  /**
   * The write that makes the policy's mirror in {@code namespace} what {@code spec.mirror} says,
   * given the PypiMirror of its name there ({@code existing}, null: none). Labels and annotations
   * others put on the mirror are kept.
   */
  public static Write write(PypiMirrorPolicy policy, String namespace, PypiMirror existing) {
    if (existing != null && !madeBy(existing, policy)) {
      return new Write.Conflict();
    }
    PypiMirror desired =
        madeFrom(existing == null ? new PypiMirror() : Serialization.clone(existing), policy);
    desired.getMetadata().setNamespace(namespace);
    if (existing != null && Serialization.asJson(desired).equals(Serialization.asJson(existing))) {
      return new Write.Unchanged();
    }
    desired.setStatus(null);
    return existing == null ? new Write.Create(desired) : new Write.Update(desired);
  }

  /**
   * The mirror the policy makes, as {@code inject --policy} injects it: no namespace yet, no
   * status.
   */
  public static PypiMirror desired(PypiMirrorPolicy policy) {
    return madeFrom(new PypiMirror(), policy);
  }

  /** {@code mirror} made the policy's: its name, labels, owner and spec; other labels kept. */
  private static PypiMirror madeFrom(PypiMirror mirror, PypiMirrorPolicy policy) {
    String name = policy.getMetadata().getName();
    mirror.getMetadata().setName(name);
    Map<String, String> labels = new LinkedHashMap<>();
    if (mirror.getMetadata().getLabels() != null) {
      labels.putAll(mirror.getMetadata().getLabels());
    }
    labels.put(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY);
    labels.put(MADE_BY_POLICY_LABEL, name);
    mirror.getMetadata().setLabels(labels);
    mirror.getMetadata().setOwnerReferences(List.of(MirrorObjects.ownerReference(policy)));
    mirror.setSpec(policy.getSpec().getMirror());
    return mirror;
  }

  /** The mirrors {@code policy} made outside the namespaces {@code keep}: to delete. */
  public static List<PypiMirror> outside(
      PypiMirrorPolicy policy, Collection<PypiMirror> mirrors, Set<String> keep) {
    return mirrors.stream()
        .filter(m -> madeBy(m, policy) && !keep.contains(m.getMetadata().getNamespace()))
        .toList();
  }

  /**
   * Whether {@code policy} made {@code mirror}: labelled with its name and owned by it. Either
   * alone can be written by someone else; a mirror with only one is not the policy's to change.
   */
  public static boolean madeBy(PypiMirror mirror, PypiMirrorPolicy policy) {
    String name = policy.getMetadata().getName();
    var refs = mirror.getMetadata().getOwnerReferences();
    boolean owned =
        refs != null
            && refs.stream()
                .anyMatch(
                    r ->
                        "PypiMirrorPolicy".equals(r.getKind())
                            && Objects.equals(r.getName(), name));
    return name.equals(madeByPolicy(mirror)) && owned;
  }

  /** The name of the policy a mirror says made it (its label), or null. */
  public static String madeByPolicy(PypiMirror mirror) {
    var labels = mirror.getMetadata().getLabels();
    return labels == null ? null : labels.get(MADE_BY_POLICY_LABEL);
  }
}
