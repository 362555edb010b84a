package dev.pypimirror.operator.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A key manager that serves the certificate chain and key of two PEM files (a Secret's tls.crt and
 * tls.key) and picks up new files when {@link #reloadIfChanged()} finds them changed. Every TLS
 * handshake asks it afresh, so a rotated certificate is served to new connections without a restart
 * and without a moment in which handshakes fail. A pair that does not parse, or whose key does not
 * match the certificate, is refused and the previous one kept.
 */
public final class ReloadingKeyManager extends X509ExtendedKeyManager {
  private static final Logger LOG = LoggerFactory.getLogger(ReloadingKeyManager.class);
  private static final String ALIAS = "serving";

  private record Material(
      byte[] certBytes, byte[] keyBytes, X509Certificate[] chain, PrivateKey key) {}

  private final Path certificateFile;
  private final Path keyFile;
  private volatile Material current;

  /** Loads the files now; fails when they are unreadable or do not match. */
  public ReloadingKeyManager(Path certificateFile, Path keyFile) throws IOException {
    this.certificateFile = certificateFile;
    this.keyFile = keyFile;
    this.current = load(Files.readAllBytes(certificateFile), Files.readAllBytes(keyFile));
  }

  /** Reads the files; serves them from the next handshake on if they changed and are valid. */
  public boolean reloadIfChanged() {
    try {
      byte[] cert = Files.readAllBytes(certificateFile);
      byte[] key = Files.readAllBytes(keyFile);
      Material served = current;
      if (Arrays.equals(cert, served.certBytes()) && Arrays.equals(key, served.keyBytes())) {
        return false;
      }
      current = load(cert, key);
      LOG.info(
          "serving certificate reloaded from {}: serial {}, valid until {}",
          certificateFile,
          current.chain()[0].getSerialNumber().toString(16),
          current.chain()[0].getNotAfter().toInstant());
      return true;
    } catch (IOException e) {
      LOG.warn("TLS files not taken ({}); serving the previous certificate", e.getMessage());
      return false;
    }
  }

  public X509Certificate servingCertificate() {
    return current.chain()[0];
  }

  private static Material load(byte[] certBytes, byte[] keyBytes) throws IOException {
    X509Certificate[] chain;
    try {
      chain =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(certBytes))
              .toArray(X509Certificate[]::new);
    } catch (GeneralSecurityException e) {
      throw new IOException("certificate file does not parse: " + e.getMessage(), e);
    }
    if (chain.length == 0) {
      throw new IOException("certificate file holds no certificate");
    }
    PrivateKey key = parseKey(keyBytes);
    if (!matches(chain[0], key)) {
      throw new IOException("the key does not belong to the certificate");
    }
    return new Material(certBytes, keyBytes, chain, key);
  }

  static PrivateKey parseKey(byte[] pem) throws IOException {
    try (PEMParser parser =
        new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
      Object object = parser.readObject();
      var converter = new JcaPEMKeyConverter();
      if (object instanceof PEMKeyPair pair) {
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
      if (object instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      throw new IOException("key file holds no private key");
    } catch (RuntimeException e) {
      throw new IOException("key file does not parse: " + e.getMessage(), e);
    }
  }

  /** The key signs what the certificate's public key verifies. */
  private static boolean matches(X509Certificate certificate, PrivateKey key) {
    try {
      String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
      byte[] probe = "pypi-mirror-operator".getBytes(StandardCharsets.US_ASCII);
      var signer = java.security.Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      var verifier = java.security.Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return ALIAS;
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return ALIAS;
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return current.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return current.key();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return new String[] {ALIAS};
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return new String[0];
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }
}
