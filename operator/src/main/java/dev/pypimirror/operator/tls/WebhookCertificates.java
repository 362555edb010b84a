package dev.pypimirror.operator.tls;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the webhook's self-managed certificate Secret should hold now: a CA, a serving certificate
 * it issued, and the CA bundle for the webhook configurations. Pure: given the Secret's data and
 * the time, the next data, or empty when nothing is due.
 *
 * <p>Rotation keeps admissions working throughout. The serving certificate is reissued 30 days
 * before it expires. The CA is replaced 90 days before it expires: the bundle then holds the new
 * and the old CA until the old one expires, and the serving chain carries the new CA cross-signed
 * by the old, so an API server still trusting only the old CA and one trusting only the new both
 * verify the webhook.
 */
public final class WebhookCertificates {
  public static final String TLS_CRT = "tls.crt";
  public static final String TLS_KEY = "tls.key";
  public static final String CA_BUNDLE = "ca.crt";
  public static final String CA_CRT = "ca-current.crt";
  public static final String CA_KEY = "ca-current.key";
  public static final String CA_PREVIOUS = "ca-previous.crt";
  public static final String CA_CROSS = "ca-cross.crt";

  static final Duration CA_VALIDITY = Duration.ofDays(365);
  static final Duration SERVING_VALIDITY = Duration.ofDays(90);
  static final Duration CA_RENEW_BEFORE = Duration.ofDays(90);
  static final Duration SERVING_RENEW_BEFORE = Duration.ofDays(30);

  private WebhookCertificates() {}

  /** The DNS names of the webhook Service. */
  public static List<String> dnsNames(String service, String namespace) {
    return List.of(
        service,
        service + "." + namespace,
        service + "." + namespace + ".svc",
        service + "." + namespace + ".svc.cluster.local");
  }

  public static Optional<Map<String, String>> next(
      Map<String, String> current, List<String> dnsNames, Instant now) {
    CertificateAuthority ca = load(current);
    X509Certificate serving = first(current.get(TLS_CRT));
    X509Certificate previous = first(current.get(CA_PREVIOUS));
    X509Certificate cross = first(current.get(CA_CROSS));
    if (previous != null && !previous.getNotAfter().toInstant().isAfter(now)) {
      previous = null; // the old CA expired: nothing it signed is served any more
      cross = null;
    }
    boolean caDue =
        ca == null
            || !ca.certificate().getNotAfter().toInstant().isAfter(now.plus(CA_RENEW_BEFORE));
    if (caDue) {
      CertificateAuthority fresh =
          CertificateAuthority.create("pypi-mirror-operator webhook CA", now, CA_VALIDITY);
      boolean oldStillValid = ca != null && ca.certificate().getNotAfter().toInstant().isAfter(now);
      return Optional.of(
          data(
              fresh,
              fresh.issue(dnsNames, List.of(), now, SERVING_VALIDITY),
              oldStillValid ? ca.certificate() : null,
              oldStillValid ? fresh.crossSignedBy(ca, now) : null));
    }
    boolean servingDue =
        serving == null
            || !serving.getNotAfter().toInstant().isAfter(now.plus(SERVING_RENEW_BEFORE))
            || !serving.getIssuerX500Principal().equals(ca.certificate().getSubjectX500Principal())
            || !sans(serving).containsAll(dnsNames);
    boolean dropPrevious = current.containsKey(CA_PREVIOUS) && previous == null;
    if (!servingDue && !dropPrevious) {
      return Optional.empty();
    }
    return Optional.of(
        data(ca, ca.issue(dnsNames, List.of(), now, SERVING_VALIDITY), previous, cross));
  }

  private static Map<String, String> data(
      CertificateAuthority ca,
      CertificateAuthority.Issued serving,
      X509Certificate previous,
      X509Certificate cross) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put(
        TLS_CRT, serving.certificatePem() + (cross == null ? "" : CertificateAuthority.pem(cross)));
    data.put(TLS_KEY, serving.keyPem());
    data.put(CA_CRT, ca.certificatePem());
    data.put(CA_KEY, ca.keyPem());
    data.put(
        CA_BUNDLE,
        ca.certificatePem() + (previous == null ? "" : CertificateAuthority.pem(previous)));
    if (previous != null) {
      data.put(CA_PREVIOUS, CertificateAuthority.pem(previous));
    }
    if (cross != null) {
      data.put(CA_CROSS, CertificateAuthority.pem(cross));
    }
    return data;
  }

  private static CertificateAuthority load(Map<String, String> current) {
    String cert = current.get(CA_CRT);
    String key = current.get(CA_KEY);
    if (cert == null || key == null) {
      return null;
    }
    try {
      return CertificateAuthority.load(cert, key);
    } catch (Exception e) {
      return null; // unreadable: start over with a new CA
    }
  }

  /** When the certificate under {@code key} ({@link #TLS_CRT}, {@link #CA_CRT}) expires, if any. */
  public static Optional<Instant> notAfter(Map<String, String> data, String key) {
    return Optional.ofNullable(first(data.get(key))).map(c -> c.getNotAfter().toInstant());
  }

  /** The first certificate of a PEM bundle, or null. */
  static X509Certificate first(String pem) {
    if (pem == null || pem.isBlank()) {
      return null;
    }
    try {
      Collection<? extends java.security.cert.Certificate> all =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
      return all.isEmpty() ? null : (X509Certificate) all.iterator().next();
    } catch (Exception e) {
      return null;
    }
  }

  private static List<String> sans(X509Certificate certificate) {
    List<String> names = new ArrayList<>();
    try {
      if (certificate.getSubjectAlternativeNames() != null) {
        certificate.getSubjectAlternativeNames().forEach(n -> names.add(String.valueOf(n.get(1))));
      }
    } catch (Exception e) {
      // no names: reissue
    }
    return names;
  }
}
