package dev.pypimirror.operator.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A self-made CA that issues the webhook's serving certificate. */
public final class CertificateAuthority {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final KeyPair keys;
  private final X509Certificate certificate;

  private CertificateAuthority(KeyPair keys, X509Certificate certificate) {
    this.keys = keys;
    this.certificate = certificate;
  }

  /** A serving certificate and its key, as PEM. */
  public record Issued(String certificatePem, String keyPem, X509Certificate certificate) {}

  public static CertificateAuthority create(String commonName, Instant now, Duration validity) {
    KeyPair keys = newKeyPair();
    X500Name name = new X500Name("CN=" + commonName);
    try {
      var builder =
          new JcaX509v3CertificateBuilder(
              name,
              serial(),
              Date.from(now.minusSeconds(300)),
              Date.from(now.plus(validity)),
              name,
              keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new CertificateAuthority(keys, sign(builder, keys));
    } catch (IOException e) {
      throw new IllegalStateException("cannot build a CA certificate", e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public String keyPem() {
    return pem(keys.getPrivate());
  }

  /** A CA from its PEM certificate and key. */
  public static CertificateAuthority load(String certificatePem, String keyPem) throws IOException {
    try {
      var certificate =
          (X509Certificate)
              java.security.cert.CertificateFactory.getInstance("X.509")
                  .generateCertificate(
                      new java.io.ByteArrayInputStream(
                          certificatePem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
      var key =
          ReloadingKeyManager.parseKey(keyPem.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      return new CertificateAuthority(new KeyPair(certificate.getPublicKey(), key), certificate);
    } catch (GeneralSecurityException e) {
      throw new IOException("not a CA certificate: " + e.getMessage(), e);
    }
  }

  /**
   * This CA's certificate signed by {@code older}: served in the chain during a CA rotation, so a
   * client that still trusts only the older CA verifies certificates the new one issues.
   */
  public X509Certificate crossSignedBy(CertificateAuthority older, Instant now) {
    try {
      var builder =
          new JcaX509v3CertificateBuilder(
              older.certificate,
              serial(),
              Date.from(now.minusSeconds(300)),
              older.certificate.getNotAfter(),
              new X500Name(certificate.getSubjectX500Principal().getName()),
              certificate.getPublicKey());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return sign(builder, older.keys);
    } catch (IOException e) {
      throw new IllegalStateException("cannot cross-sign", e);
    }
  }

  public String certificatePem() {
    return pem(certificate);
  }

  /** A serving certificate for {@code dnsNames} and {@code ipAddresses}, signed by this CA. */
  public Issued issue(
      List<String> dnsNames, List<String> ipAddresses, Instant now, Duration validity) {
    KeyPair serving = newKeyPair();
    String commonName = dnsNames.isEmpty() ? ipAddresses.get(0) : dnsNames.get(0);
    try {
      var builder =
          new JcaX509v3CertificateBuilder(
              certificate,
              serial(),
              Date.from(now.minusSeconds(300)),
              Date.from(now.plus(validity)),
              new X500Name("CN=" + commonName),
              serving.getPublic());
      List<GeneralName> names = new ArrayList<>();
      dnsNames.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
      ipAddresses.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
      builder.addExtension(
          Extension.subjectAlternativeName,
          false,
          new GeneralNames(names.toArray(GeneralName[]::new)));
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      builder.addExtension(
          Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      X509Certificate issued = sign(builder, keys);
      return new Issued(pem(issued), pem(serving.getPrivate()), issued);
    } catch (IOException e) {
      throw new IllegalStateException("cannot issue a serving certificate", e);
    }
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder builder, KeyPair signer) {
    try {
      var contentSigner = new JcaContentSignerBuilder("SHA256withRSA").build(signer.getPrivate());
      return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
    } catch (OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a certificate", e);
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048, RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK always has RSA", e);
    }
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM);
  }

  public static String pem(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }
}
