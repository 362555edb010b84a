package dev.pypimirror.operator.settings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * How the operator runs, read once: everything {@code run} can be told; {@link #defaults()} is what
 * {@code run} does without options, made of the defaults in {@link Defaults}. The {@code run}
 * command builds it from its options; the demo and the tests start from the defaults and change
 * what they need with the {@code with...} methods. Each part goes to the component it configures.
 *
 * @param operatorNamespace the operator's own namespace: never injected or governed; the leader
 *     lease and the certificate Secret live there (null: unknown)
 * @param reconcile what the reconcilers watch and write
 * @param webhook where and how the webhooks are served
 * @param routing the webhook configurations the leader owns
 * @param injection who injects pods: the webhook, or kube-apiserver from MutatingAdmissionPolicies
 *     the leader writes
 */
public record OperatorSettings(
    String operatorNamespace,
    Reconcile reconcile,
    Webhook webhook,
    Routing routing,
    Injection injection) {
  public OperatorSettings {
    Objects.requireNonNull(reconcile, "reconcile");
    Objects.requireNonNull(webhook, "webhook");
    Objects.requireNonNull(routing, "routing");
    Objects.requireNonNull(injection, "injection");
  }

  /** Who injects pods. */
  public enum Injection {
    /** The mutating webhook (every Kubernetes version the operator supports). */
    WEBHOOK,
    /**
     * MutatingAdmissionPolicies (admissionregistration.k8s.io/v1, Kubernetes 1.36+) the leader
     * writes per mirror; namespaces they do not cover yet stay with the webhook.
     */
    ADMISSION_POLICY,
    /** Admission policies when the API server serves them, else the webhook. */
    AUTO
  }

  /** What {@code run} does without options. */
  public static OperatorSettings defaults() {
    return new OperatorSettings(
        null,
        new Reconcile(Set.of(), Defaults.INDEX_IMAGE.defaultValue(), false),
        Webhook.DEFAULTS,
        Routing.DEFAULTS,
        Defaults.INJECTION.defaultValue());
  }

  public OperatorSettings withOperatorNamespace(String namespace) {
    return new OperatorSettings(namespace, reconcile, webhook, routing, injection);
  }

  public OperatorSettings withReconcile(UnaryOperator<Reconcile> change) {
    return new OperatorSettings(
        operatorNamespace, change.apply(reconcile), webhook, routing, injection);
  }

  public OperatorSettings withWebhook(UnaryOperator<Webhook> change) {
    return new OperatorSettings(
        operatorNamespace, reconcile, change.apply(webhook), routing, injection);
  }

  public OperatorSettings withRouting(Routing value) {
    return new OperatorSettings(operatorNamespace, reconcile, webhook, value, injection);
  }

  public OperatorSettings withInjection(Injection value) {
    return new OperatorSettings(operatorNamespace, reconcile, webhook, routing, value);
  }

  /**
   * The two webhook configurations (mutating and validating), which the leader owns outright: it
   * creates them, writes the opt-in entry from these settings and one entry per policy, and keeps
   * them so. Nothing Helm or kustomize apply is changed at run time.
   *
   * @param name the install's name (the chart's fullname): both configurations' name; the
   *     ClusterRole of this name, when it exists, is their owner, so they are garbage-collected
   *     with the install; the certificate Secret and the leader Lease are named after it, so two
   *     installs never share one
   * @param service the webhook Service, in the operator's namespace
   * @param failurePolicy the opt-in entry's: Ignore (admit when the webhook is down) or Fail
   * @param timeoutSeconds every entry's, 1 to 30
   * @param caFromCertificate with cert-manager: the Certificate in the operator's namespace whose
   *     CA cert-manager's cainjector writes into them; null: none
   * @param issuer with {@link Certificates#CERT_MANAGER}: the issuer of that Certificate, which the
   *     leader keeps (null: the install makes the Certificate)
   */
  public record Routing(
      String name,
      String service,
      String failurePolicy,
      int timeoutSeconds,
      String caFromCertificate,
      Issuer issuer) {
    public static final Routing DEFAULTS =
        new Routing(
            Defaults.WEBHOOK_CONFIGURATION.defaultValue(),
            Defaults.WEBHOOK_SERVICE.defaultValue(),
            Defaults.WEBHOOK_FAILURE_POLICY.defaultValue(),
            Defaults.WEBHOOK_TIMEOUT.defaultValue(),
            null);

    public Routing(
        String name,
        String service,
        String failurePolicy,
        int timeoutSeconds,
        String caFromCertificate) {
      this(name, service, failurePolicy, timeoutSeconds, caFromCertificate, null);
    }

    public Routing withName(String value) {
      return new Routing(value, service, failurePolicy, timeoutSeconds, caFromCertificate, issuer);
    }

    /** The Secret cert-manager writes the Certificate {@link #caFromCertificate} into. */
    public String certManagerSecret() {
      return caFromCertificate + "-cert-manager";
    }

    /** The self-managed certificate's Secret in the operator's namespace. */
    public String certificateSecret() {
      return name + "-webhook-tls";
    }

    /** The leader election Lease in the operator's namespace. */
    public String leaderLease() {
      return name + "-leader";
    }

    public Routing {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(service, "service");
      if (!failurePolicy.equals("Ignore") && !failurePolicy.equals("Fail")) {
        throw new IllegalArgumentException(
            Defaults.WEBHOOK_FAILURE_POLICY.option() + " is Ignore or Fail, not " + failurePolicy);
      }
      if (timeoutSeconds < 1 || timeoutSeconds > 30) {
        throw new IllegalArgumentException(
            Defaults.WEBHOOK_TIMEOUT.option()
                + " is 1 to 30 seconds (the API server's limits), not "
                + timeoutSeconds);
      }
    }
  }

  /**
   * @param namespaces PypiMirrors are reconciled in these (empty: in all)
   * @param indexImage the image the cache sync Job runs {@code ingest} with: this operator's own
   *     (run reads it from its own pod)
   * @param leaderElection one replica (holding a Lease in the operator's namespace) reconciles and
   *     does the leader's other work; every replica serves the webhooks
   */
  public record Reconcile(Set<String> namespaces, String indexImage, boolean leaderElection) {
    public Reconcile {
      namespaces = Set.copyOf(namespaces);
      Objects.requireNonNull(indexImage, "indexImage");
    }

    public Reconcile withNamespaces(Set<String> value) {
      return new Reconcile(value, indexImage, leaderElection);
    }

    public Reconcile withIndexImage(String value) {
      return new Reconcile(namespaces, value, leaderElection);
    }

    public Reconcile withLeaderElection(boolean value) {
      return new Reconcile(namespaces, indexImage, value);
    }
  }

  /** Where the webhook's serving certificate comes from. */
  public enum Certificates {
    /** The certificate and key files (cert-manager, or a Secret mounted by hand). */
    FILES,
    /**
     * The leader keeps a CA and serving certificate in a Secret of the operator's namespace and
     * patches the caBundles; every replica serves that Secret (the files are not read).
     */
    SELF_MANAGED,
    /**
     * The leader keeps a cert-manager Certificate for the webhook Service in the operator's
     * namespace ({@link Routing#caFromCertificate}, from {@link Routing#issuer}); cert-manager
     * writes it into {@link Routing#certManagerSecret}, which every replica serves, and its
     * cainjector writes the CA into the webhook configurations.
     */
    CERT_MANAGER
  }

  /** A cert-manager issuer: kind Issuer (in the operator's namespace) or ClusterIssuer. */
  public record Issuer(String kind, String name, String group) {
    public Issuer {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(group, "group");
    }
  }

  /**
   * @param enabled whether the webhooks are served at all (false: the reconcilers only, and no
   *     management port either)
   * @param host the address both ports listen on
   * @param port the HTTPS port (0: any free port)
   * @param certificates where the serving certificate comes from
   * @param certificateFile the serving certificate (PEM) with {@link Certificates#FILES}
   * @param keyFile its key (PEM)
   * @param tlsReloadInterval how often the certificate is looked at again
   * @param managementPort the plain-HTTP port of /metrics, /healthz and /readyz (probes and
   *     Prometheus need no certificate); 0: any free port; {@link #NO_PORT}: none
   * @param drainDelay on close: how long the webhook serves on with readiness failing, so the
   *     Service's endpoints drop this replica before it stops answering
   */
  public record Webhook(
      boolean enabled,
      String host,
      int port,
      Certificates certificates,
      Path certificateFile,
      Path keyFile,
      Duration tlsReloadInterval,
      int managementPort,
      Duration drainDelay) {
    /** No management port. */
    public static final int NO_PORT = -1;

    /** What {@code run} serves without options. */
    public static final Webhook DEFAULTS =
        new Webhook(
            true,
            Defaults.WEBHOOK_HOST.defaultValue(),
            Defaults.WEBHOOK_PORT.defaultValue(),
            Certificates.FILES,
            Defaults.TLS_CERT_FILE.defaultValue(),
            Defaults.TLS_KEY_FILE.defaultValue(),
            Defaults.TLS_RELOAD_INTERVAL.defaultValue(),
            Defaults.METRICS_PORT.defaultValue(),
            Defaults.DRAIN_DELAY.defaultValue());

    public Webhook {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(certificates, "certificates");
      Objects.requireNonNull(tlsReloadInterval, "tlsReloadInterval");
      Objects.requireNonNull(drainDelay, "drainDelay");
      if (drainDelay.isNegative()) {
        throw new IllegalArgumentException(
            Defaults.DRAIN_DELAY.option()
                + " must be 0 or more seconds, got "
                + drainDelay.toSeconds());
      }
    }

    /**
     * On 127.0.0.1, on any free port, without a management port, stopping without a drain delay:
     * for the demo and tests, where nothing else runs on the address.
     */
    public Webhook onLoopback() {
      return with(
          w -> {
            w.host = "127.0.0.1";
            w.port = 0;
            w.managementPort = NO_PORT;
            w.drainDelay = Duration.ZERO;
          });
    }

    public Webhook disabled() {
      return with(w -> w.enabled = false);
    }

    public Webhook withPort(int value) {
      return with(w -> w.port = value);
    }

    /** Serves these files ({@link Certificates#FILES}). */
    public Webhook withCertificateFiles(Path certificate, Path key) {
      return with(
          w -> {
            w.certificates = Certificates.FILES;
            w.certificateFile = certificate;
            w.keyFile = key;
          });
    }

    public Webhook withSelfManagedCertificates() {
      return withCertificates(Certificates.SELF_MANAGED);
    }

    public Webhook withCertificates(Certificates value) {
      return with(w -> w.certificates = value);
    }

    public Webhook withTlsReloadInterval(Duration value) {
      return with(w -> w.tlsReloadInterval = value);
    }

    public Webhook withManagementPort(int value) {
      return with(w -> w.managementPort = value);
    }

    public Webhook withDrainDelay(Duration value) {
      return with(w -> w.drainDelay = value);
    }

    /** These settings with what {@code change} sets on a copy of their fields. */
    private Webhook with(Consumer<Fields> change) {
      Fields fields = new Fields(this);
      change.accept(fields);
      return fields.build();
    }

    /** The fields of a {@link Webhook}, to change some and build another. */
    private static final class Fields {
      boolean enabled;
      String host;
      int port;
      Certificates certificates;
      Path certificateFile;
      Path keyFile;
      Duration tlsReloadInterval;
      int managementPort;
      Duration drainDelay;

      Fields(Webhook from) {
        enabled = from.enabled;
        host = from.host;
        port = from.port;
        certificates = from.certificates;
        certificateFile = from.certificateFile;
        keyFile = from.keyFile;
        tlsReloadInterval = from.tlsReloadInterval;
        managementPort = from.managementPort;
        drainDelay = from.drainDelay;
      }

      Webhook build() {
        return new Webhook(
            enabled,
            host,
            port,
            certificates,
            certificateFile,
            keyFile,
            tlsReloadInterval,
            managementPort,
            drainDelay);
      }
    }
  }
}
