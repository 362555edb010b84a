package dev.pypimirror.operator.testing;

import dev.pypimirror.operator.tls.CertificateAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** Certificates for loopback servers in tests, and clients that trust them. */
public final class TestTls {
  private TestTls() {}

  /** Issues a serving certificate for 127.0.0.1 and localhost and writes tls.crt and tls.key. */
  public static CertificateAuthority.Issued writeServing(
      CertificateAuthority ca, Path cert, Path key) throws Exception {
    var issued =
        ca.issue(List.of("localhost"), List.of("127.0.0.1"), Instant.now(), Duration.ofDays(1));
    Path tmpCert =
        Files.writeString(
            cert.resolveSibling(cert.getFileName() + ".tmp"), issued.certificatePem());
    Path tmpKey =
        Files.writeString(key.resolveSibling(key.getFileName() + ".tmp"), issued.keyPem());
    Files.move(
        tmpKey,
        key,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    Files.move(
        tmpCert,
        cert,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return issued;
  }

  public static CertificateAuthority newCa() {
    return CertificateAuthority.create("test CA", Instant.now(), Duration.ofDays(2));
  }

  /** A client context that trusts exactly {@code ca}. */
  public static SSLContext trusting(X509Certificate ca) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    store.setCertificateEntry("ca", ca);
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }

  /** The certificate a fresh TLS connection to 127.0.0.1:port is served, whoever signed it. */
  public static X509Certificate servedCertificate(int port) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new TrustEverything()}, null);
    try (SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    }
  }

  private static final class TrustEverything implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
