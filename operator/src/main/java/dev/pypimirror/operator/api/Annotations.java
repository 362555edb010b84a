package dev.pypimirror.operator.api;

/** The pod annotations of the injection contract. */
public final class Annotations {
  public static final String PREFIX = "pypimirror.dev/";

  /** "true" opts a pod in (namespace default mirror); "false" opts it out. */
  public static final String INJECT = PREFIX + "inject";

  /** The PypiMirror (in the pod's namespace) to inject. */
  public static final String MIRROR = PREFIX + "mirror";

  /** Comma-separated names of the containers to inject; default all. */
  public static final String CONTAINERS = PREFIX + "containers";

  /** HOME for containers that set none, where .pydistutils.cfg goes. */
  public static final String HOME = PREFIX + "home";

  /** Set by the webhook: {@code <mirror>@<config hash prefix>}. */
  public static final String INJECTED = PREFIX + "injected";

  /** Set by the webhook: why injection, or parts of it, were skipped. */
  public static final String SKIPPED = PREFIX + "skipped";

  /** On a PypiMirror: the namespace's default mirror. */
  public static final String DEFAULT = PREFIX + "default";

  /** Static (mirror) pods, which the API server creates for the kubelet. */
  public static final String STATIC_POD = "kubernetes.io/config.mirror";

  public static final String SKIPPED_MIRROR_NOT_READY = "mirror-not-ready";
  public static final String SKIPPED_NO_DEFAULT_MIRROR = "no-default-mirror";

  private Annotations() {}
}
