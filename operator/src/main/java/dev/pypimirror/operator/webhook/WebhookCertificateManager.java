package dev.pypimirror.operator.webhook;

import dev.pypimirror.operator.cluster.LeaderSchedule;
import dev.pypimirror.operator.tls.ReloadingKeyManager;
import dev.pypimirror.operator.tls.WebhookCertificates;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Self-managed webhook certificates. The leader keeps the Secret current ({@link
 * WebhookCertificates}) and hands its CA bundle to {@link WebhookConfigurations}, which writes it
 * into every entry of both webhook configurations; every replica serves the Secret's certificate
 * ({@link #servingSource}) and picks up a new one without restart.
 */
public final class WebhookCertificateManager implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookCertificateManager.class);
  public static final String SERVICE = "pypi-mirror-operator-webhook";

  private final KubernetesClient client;
  private final String namespace;
  private final String secretName;
  private final CertManagerCertificate certManager;
  private final Clock clock;
  private final SharedIndexInformer<Secret> secret;
  private final WebhookConfigurations configurations;
  private final LeaderSchedule schedule = new LeaderSchedule("webhook-certificates");

  /**
   * @param configurations where the CA bundle goes: the one writer of the webhook configurations
   */
  public WebhookCertificateManager(
      KubernetesClient client,
      String namespace,
      Clock clock,
      WebhookConfigurations configurations) {
    this(client, namespace, clock, configurations, false);
  }

  /**
   * With cert-manager: every replica serves the Secret cert-manager writes, and the leader keeps
   * the Certificate ({@link CertManagerCertificate}) instead of making a CA.
   */
  public static WebhookCertificateManager certManager(
      KubernetesClient client,
      String namespace,
      Clock clock,
      WebhookConfigurations configurations) {
    return new WebhookCertificateManager(client, namespace, clock, configurations, true);
  }

  private WebhookCertificateManager(
      KubernetesClient client,
      String namespace,
      Clock clock,
      WebhookConfigurations configurations,
      boolean certManager) {
    this.client = client;
    this.configurations = configurations;
    this.namespace = Objects.requireNonNull(namespace, "the operator's namespace is needed");
    this.clock = clock;
    this.certManager =
        certManager
            ? new CertManagerCertificate(client, namespace, configurations.routing())
            : null;
    this.secretName =
        certManager
            ? configurations.routing().certManagerSecret()
            : configurations.routing().certificateSecret();
    this.secret = client.secrets().inNamespace(namespace).withName(secretName).runnableInformer(0);
  }

  /** Starts watching the Secret (every replica serves it); returns at once. */
  public WebhookCertificateManager start() {
    secret.start();
    return this;
  }

  /** The Secret's serving pair, as the webhook server reads it on each reload. */
  public ReloadingKeyManager.Source servingSource() {
    return new ReloadingKeyManager.Source() {
      @Override
      public Optional<byte[][]> read() {
        return secret.getStore().list().stream()
            .findFirst()
            .map(WebhookCertificateManager::decode)
            .filter(
                d ->
                    d.containsKey(WebhookCertificates.TLS_CRT)
                        && d.containsKey(WebhookCertificates.TLS_KEY))
            .map(
                d ->
                    new byte[][] {
                      d.get(WebhookCertificates.TLS_CRT).getBytes(StandardCharsets.US_ASCII),
                      d.get(WebhookCertificates.TLS_KEY).getBytes(StandardCharsets.US_ASCII)
                    });
      }

      @Override
      public String describe() {
        return "Secret " + namespace + "/" + secretName;
      }
    };
  }

  /**
   * When the certificate under {@code key} of the Secret as this replica's informer last saw it
   * ({@link WebhookCertificates#TLS_CRT}, {@link WebhookCertificates#CA_CRT}) expires, if known.
   */
  public Optional<Instant> notAfter(String key) {
    return secret.getStore().list().stream()
        .findFirst()
        .flatMap(s -> WebhookCertificates.notAfter(decode(s), key));
  }

  /** While leading: now, then every hour. */
  public synchronized void startManaging() {
    schedule.start(this::manageQuietly, 0, 1, TimeUnit.HOURS);
  }

  public void stopManaging() {
    schedule.stop();
  }

  private void manageQuietly() {
    try {
      if (certManager != null) {
        certManager.ensure();
        return;
      }
      manageOnce();
    } catch (RuntimeException e) {
      LOG.warn("webhook certificates not updated: {}", e.getMessage());
    }
  }

  /** Writes the Secret if a certificate is due, then makes both caBundles match it. */
  public void manageOnce() {
    Secret current = client.secrets().inNamespace(namespace).withName(secretName).get();
    Map<String, String> data = current == null ? Map.of() : decode(current);
    var next =
        WebhookCertificates.next(
            data,
            WebhookCertificates.dnsNames(configurations.service(), namespace),
            clock.instant());
    if (next.isPresent()) {
      data = next.get();
      Secret desired =
          new SecretBuilder()
              .withNewMetadata()
              .withName(secretName)
              .withNamespace(namespace)
              .addToLabels("app.kubernetes.io/managed-by", "pypi-mirror-operator")
              .addToLabels("app.kubernetes.io/component", "webhook-certificates")
              .endMetadata()
              .withType("Opaque")
              .withData(encode(data))
              .build();
      try {
        if (current == null) {
          client.resource(desired).create();
        } else {
          desired.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
          client.resource(desired).update();
        }
        LOG.info("webhook certificate written to Secret {}/{}", namespace, secretName);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        return; // another writer won; the next round reads theirs
      }
    }
    patchCaBundles(data.get(WebhookCertificates.CA_BUNDLE));
  }

  private void patchCaBundles(String bundle) {
    if (bundle != null) {
      configurations.caBundle(
          Base64.getEncoder().encodeToString(bundle.getBytes(StandardCharsets.US_ASCII)));
    }
  }

  static Map<String, String> decode(Secret secret) {
    Map<String, String> data = new HashMap<>();
    if (secret.getData() != null) {
      secret
          .getData()
          .forEach(
              (k, v) ->
                  data.put(
                      k, new String(Base64.getDecoder().decode(v), StandardCharsets.US_ASCII)));
    }
    return data;
  }

  static Map<String, String> encode(Map<String, String> data) {
    Map<String, String> encoded = new HashMap<>();
    data.forEach(
        (k, v) ->
            encoded.put(
                k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.US_ASCII))));
    return encoded;
  }

  public boolean hasSynced() {
    return secret.hasSynced();
  }

  /**
   * Stops managing and watching; a second call, or one before {@link #start}, does nothing more.
   */
  @Override
  public void close() {
    stopManaging();
    secret.close();
  }
}
