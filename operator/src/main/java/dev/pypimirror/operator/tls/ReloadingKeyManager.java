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
import java.util.Optional;
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

  /** Where the PEM certificate chain and key come from. */
  public interface Source {
    /** The current certificate chain and key, or empty when there is none yet. */
    Optional<byte[][]> read() throws IOException;

    String describe();

    /** Two files, e.g. a mounted Secret's tls.crt and tls.key. */
    static Source files(Path certificateFile, Path keyFile) {
      return new Source() {
        @Override
        public Optional<byte[][]> read() throws IOException {
          return Optional.of(
              new byte[][] {Files.readAllBytes(certificateFile), Files.readAllBytes(keyFile)});
        }

        @Override
        public String describe() {
          return certificateFile.toString();
        }
      };
    }
  }

  private final Source source;
  private volatile Material current;

  /** Loads the files now; fails when they are unreadable or do not match. */
  public ReloadingKeyManager(Path certificateFile, Path keyFile) throws IOException {
    this(Source.files(certificateFile, keyFile));
    if (current == null) {
      throw new IOException("no certificate in " + certificateFile);
    }
  }

  /** Loads what the source has now, if anything; handshakes fail until there is something. */
  public ReloadingKeyManager(Source source) throws IOException {
    this.source = source;
    Optional<byte[][]> initial = source.read();
    this.current = initial.isPresent() ? load(initial.get()[0], initial.get()[1]) : null;
  }

  public boolean isLoaded() {
    return current != null;
  }

  /** Reads the source; serves its pair from the next handshake on if it changed and is valid. */
  public boolean reloadIfChanged() {
    try {
      Optional<byte[][]> read = source.read();
      if (read.isEmpty()) {
        return false;
      }
      byte[] cert = read.get()[0];
      byte[] key = read.get()[1];
      Material served = current;
      if (served != null
          && Arrays.equals(cert, served.certBytes())
          && Arrays.equals(key, served.keyBytes())) {
        return false;
      }
      current = load(cert, key);
      LOG.info(
          "serving certificate reloaded from {}: serial {}, valid until {}",
          source.describe(),
          current.chain()[0].getSerialNumber().toString(16),
          current.chain()[0].getNotAfter().toInstant());
      return true;
    } catch (IOException e) {
      LOG.warn("TLS files not taken ({}); serving the previous certificate", e.getMessage());
      return false;
    }
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

  /**
   * The alias only for the key type of the key served: the TLS stack asks per signature scheme
   * ("EC", "RSA", "RSASSA-PSS", ...) and must not be handed a key of another type (a Go client, as
   * the API server is, then fails the handshake with "illegal parameter").
   */
  private String aliasFor(String keyType) {
    Material m = current;
    return m != null && keyType != null && keyType.equalsIgnoreCase(m.key().getAlgorithm())
        ? ALIAS
        : null;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return aliasFor(keyType);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return aliasFor(keyType);
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Material m = current;
    return m == null ? null : m.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Material m = current;
    return m == null ? null : m.key();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return aliasFor(keyType) == null ? null : new String[] {ALIAS};
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
