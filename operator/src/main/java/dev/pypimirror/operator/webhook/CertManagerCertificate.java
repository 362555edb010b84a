package dev.pypimirror.operator.webhook;

import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.tls.WebhookCertificates;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With cert-manager, the leader keeps the webhook's Certificate: for the webhook Service's DNS
 * names in the operator's namespace (which it knows at run time, so no install needs to write
 * them), from the given issuer, into {@link OperatorSettings.Routing#certManagerSecret}.
 * cert-manager issues and renews it; every replica serves that Secret; cainjector writes the CA
 * into the webhook configurations (their {@code cert-manager.io/inject-ca-from}).
 */
public final class CertManagerCertificate {
  private static final Logger LOG = LoggerFactory.getLogger(CertManagerCertificate.class);
  static final String API_VERSION = "cert-manager.io/v1";

  /** cert-manager's Certificate, named without discovery (which needs more rights). */
  public static final ResourceDefinitionContext CERTIFICATES =
      new ResourceDefinitionContext.Builder()
          .withGroup("cert-manager.io")
          .withVersion("v1")
          .withKind("Certificate")
          .withPlural("certificates")
          .withNamespaced(true)
          .build();

  private final KubernetesClient client;
  private final String namespace;
  private final OperatorSettings.Routing routing;

  CertManagerCertificate(
      KubernetesClient client, String namespace, OperatorSettings.Routing routing) {
    this.client = client;
    this.namespace = namespace;
    Objects.requireNonNull(routing.issuer(), "the Certificate's issuer");
    this.routing = routing;
  }

  /** The Certificate's spec: what the leader writes and puts back. */
  static Map<String, Object> spec(String namespace, OperatorSettings.Routing routing) {
    OperatorSettings.Issuer issuer = routing.issuer();
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("secretName", routing.certManagerSecret());
    spec.put("dnsNames", WebhookCertificates.dnsNames(routing.service(), namespace));
    spec.put(
        "issuerRef", Map.of("kind", issuer.kind(), "name", issuer.name(), "group", issuer.group()));
    spec.put("privateKey", Map.of("algorithm", "ECDSA", "size", 256, "rotationPolicy", "Always"));
    spec.put("duration", "2160h");
    spec.put("renewBefore", "720h");
    return spec;
  }

  /** Creates the Certificate, or puts its spec back when it differs. */
  void ensure() {
    var certificates = client.genericKubernetesResources(CERTIFICATES).inNamespace(namespace);
    var resource = certificates.withName(routing.caFromCertificate());
    Map<String, Object> desired = spec(namespace, routing);
    GenericKubernetesResource stored = resource.get();
    if (stored == null) {
      GenericKubernetesResource created = new GenericKubernetesResource();
      created.setApiVersion(API_VERSION);
      created.setKind("Certificate");
      created.setMetadata(
          new ObjectMetaBuilder()
              .withName(routing.caFromCertificate())
              .withNamespace(namespace)
              .withLabels(WebhookConfigurations.LABELS)
              .build());
      created.setAdditionalProperty("spec", desired);
      resource.create(created);
      LOG.info("Certificate {}/{} created for the webhook", namespace, routing.caFromCertificate());
      return;
    }
    var json = client.getKubernetesSerialization();
    if (!json.asJson(stored.getAdditionalProperties().get("spec")).equals(json.asJson(desired))) {
      stored.setAdditionalProperty("spec", desired);
      certificates.resource(stored).update();
      LOG.info("Certificate {}/{} put back", namespace, routing.caFromCertificate());
    }
  }
}
