package dev.pypimirror.operator.api;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.Optional;

/**
 * A PypiMirror or PypiMirrorPolicy that the API server holds but this operator cannot read (a field
 * of the wrong type, as an object stored before a schema change can have): only its metadata is
 * known, its spec and status are null, and the reason is kept in memory with it. Nothing is decided
 * from such an object: it selects nothing, is injected nowhere, and what it made stays as it is.
 *
 * <p>The reason is an extra field of the in-memory metadata, so it survives the operator's copies
 * of cached objects; an API server never sends such a field (metadata is pruned to ObjectMeta's
 * fields), and the decoder drops it from any object that has a spec or a status.
 */
public final class Undecodable {
  /** The in-memory metadata field holding the reason. */
  public static final String CAUSE = "pypimirror.dev/undecodable";

  private Undecodable() {}

  /** Why the object could not be read; empty for an object that was read. */
  public static Optional<String> cause(HasMetadata object) {
    ObjectMeta meta = object == null ? null : object.getMetadata();
    if (meta == null || meta.getAdditionalProperties() == null) {
      return Optional.empty();
    }
    Object cause = meta.getAdditionalProperties().get(CAUSE);
    return cause == null ? Optional.empty() : Optional.of(String.valueOf(cause));
  }

  public static boolean is(HasMetadata object) {
    return cause(object).isPresent();
  }

  /** {@code object}'s description for a message: kind, namespace/name, and why. */
  public static String describe(HasMetadata object) {
    ObjectMeta meta = object.getMetadata();
    String name =
        meta.getNamespace() == null ? meta.getName() : meta.getNamespace() + "/" + meta.getName();
    return HasMetadata.getKind(object.getClass())
        + " "
        + name
        + " cannot be read by the operator ("
        + cause(object).orElse("unknown")
        + ")";
  }
}
