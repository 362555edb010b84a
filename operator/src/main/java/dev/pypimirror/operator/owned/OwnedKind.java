package dev.pypimirror.operator.owned;

import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * One kind of object a PypiMirror owns: which objects of it the operator watches (its informer's
 * name and label selector) and how an object found takes the desired state (the merge rule). Each
 * kind's class also builds that desired state from the mirror. Pure: the reconciler reads and
 * writes through it.
 */
public abstract class OwnedKind<R extends HasMetadata> {
  private final Class<R> type;
  private final String informerName;
  private final String selector;

  /**
   * @param informerName the name of the informer that watches this kind
   * @param selector which objects of this kind the operator watches: the ones it made
   */
  protected OwnedKind(Class<R> type, String informerName, String selector) {
    this.type = type;
    this.informerName = informerName;
    this.selector = selector;
  }

  public final Class<R> type() {
    return type;
  }

  public final String informerName() {
    return informerName;
  }

  public final String selector() {
    return selector;
  }

  /**
   * Takes what the operator decides from {@code desired} into {@code target}, a copy of the object
   * found; labels, annotations and owner references are merged by the writer, everything else of
   * the target stays.
   */
  public abstract void merge(R target, R desired);

  /**
   * Whether {@code existing} lost the desired content to an edit outside the operator (the write
   * that follows puts it back and says so).
   */
  public boolean handEdited(R existing, R desired) {
    return false;
  }
}
