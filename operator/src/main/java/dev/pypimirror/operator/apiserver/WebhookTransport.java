package dev.pypimirror.operator.apiserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * How kube-apiserver reaches a webhook: POST over HTTPS, trusting only the configuration's caBundle
 * (the JVM's roots when it is empty), checking the serving certificate against the service's DNS
 * name {@code <service>.<namespace>.svc} (or the url's host), within timeoutSeconds. Where a
 * service's endpoints are is for the caller to say.
 */
public final class WebhookTransport {
  /**
   * Where a Service's port is reached: the stand-in's replacement for cluster DNS and kube-proxy.
   */
  @FunctionalInterface
  public interface ServiceResolver {
    /** The host:port that serves {@code namespace/name:port}, or null if none. */
    String resolve(String namespace, String name, int port);
  }

  private final ServiceResolver services;
  private final Map<String, HttpClient> clients = new ConcurrentHashMap<>();

  public WebhookTransport(ServiceResolver services) {
    this.services = services;
  }

  /** Sends an AdmissionReview to the webhook a clientConfig names; returns the response body. */
  public byte[] post(
      com.fasterxml.jackson.databind.JsonNode clientConfig, byte[] review, Duration timeout)
      throws IOException, InterruptedException {
    HttpResponse<byte[]> response =
        send(clientConfig, "POST", HttpRequest.BodyPublishers.ofByteArray(review), timeout);
    if (response.statusCode() != 200) {
      throw new IOException(
          "the server responded with the status code "
              + response.statusCode()
              + ": "
              + new String(response.body(), StandardCharsets.UTF_8));
    }
    return response.body();
  }

  /**
   * Whether the webhook answers over TLS that its caBundle trusts (whatever the answer): a serving
   * certificate patched into the configuration is not served by every replica at once.
   */
  public boolean answers(com.fasterxml.jackson.databind.JsonNode clientConfig) {
    try {
      send(clientConfig, "GET", HttpRequest.BodyPublishers.noBody(), Duration.ofSeconds(5));
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private HttpResponse<byte[]> send(
      com.fasterxml.jackson.databind.JsonNode clientConfig,
      String method,
      HttpRequest.BodyPublisher body,
      Duration timeout)
      throws IOException, InterruptedException {
    URI uri;
    String serverName;
    var service = clientConfig.path("service");
    if (service.isObject()) {
      String namespace = service.path("namespace").asText();
      String name = service.path("name").asText();
      int port = service.path("port").asInt(443);
      String endpoint = services.resolve(namespace, name, port);
      if (endpoint == null) {
        throw new IOException("service \"" + namespace + "/" + name + "\" has no endpoints");
      }
      uri = URI.create("https://" + endpoint + service.path("path").asText(""));
      serverName = name + "." + namespace + ".svc";
    } else {
      uri = URI.create(clientConfig.path("url").asText());
      serverName = uri.getHost();
    }
    String caBundle = clientConfig.path("caBundle").asText("");
    HttpClient client =
        clients.computeIfAbsent(caBundle + "\n" + serverName, k -> newClient(caBundle, serverName));
    return client.send(
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .method(method, body)
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static HttpClient newClient(String caBundle, String serverName) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {trusting(caBundle, serverName)}, null);
      return HttpClient.newBuilder()
          .sslContext(context)
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("unusable caBundle: " + e.getMessage(), e);
    }
  }

  private static X509ExtendedTrustManager trusting(String caBundle, String serverName)
      throws GeneralSecurityException, IOException {
    return new ServerNameTrustManager(pkix(caBundle), serverName);
  }

  /** The JDK's PKIX check against the caBundle's certificates (the JVM's roots when empty). */
  private static X509TrustManager pkix(String caBundle)
      throws GeneralSecurityException, IOException {
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    if (caBundle.isEmpty()) {
      factory.init((KeyStore) null);
    } else {
      KeyStore roots = KeyStore.getInstance(KeyStore.getDefaultType());
      roots.load(null, null);
      int i = 0;
      for (var ca :
          CertificateFactory.getInstance("X.509")
              .generateCertificates(
                  new ByteArrayInputStream(Base64.getDecoder().decode(caBundle)))) {
        roots.setCertificateEntry("ca-" + i++, ca);
      }
      factory.init(roots);
    }
    X509TrustManager chain = null;
    for (TrustManager tm : factory.getTrustManagers()) {
      if (tm instanceof X509TrustManager x) {
        chain = x;
      }
    }
    return chain;
  }

  /**
   * Trusts a server whose chain the PKIX check passes and whose certificate names the server (the
   * service's DNS name or the url's host); never a client.
   */
  private static final class ServerNameTrustManager extends X509ExtendedTrustManager {
    private final X509TrustManager pkix;
    private final String serverName;

    ServerNameTrustManager(X509TrustManager pkix, String serverName) {
      this.pkix = pkix;
      this.serverName = serverName;
    }

    private void check(X509Certificate[] certificates, String authType)
        throws CertificateException {
      pkix.checkServerTrusted(certificates, authType);
      if (!names(certificates[0], serverName)) {
        throw new CertificateException(
            "x509: certificate is not valid for " + serverName + " (not in its names)");
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("not a server");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("not a server");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("not a server");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return pkix.getAcceptedIssuers();
    }
  }

  /** Whether a serving certificate names this host: a DNS name (one-label wildcard) or an IP. */
  static boolean names(X509Certificate certificate, String host) throws CertificateException {
    var alternatives = certificate.getSubjectAlternativeNames();
    if (alternatives == null) {
      return false;
    }
    boolean ip = host.matches("[0-9.]+") || host.contains(":");
    for (List<?> entry : alternatives) {
      int type = (Integer) entry.get(0);
      String value = String.valueOf(entry.get(1));
      if (ip && type == 7 && sameAddress(value, host)) {
        return true;
      }
      if (!ip && type == 2) {
        String name = value.toLowerCase(java.util.Locale.ROOT);
        String wanted = host.toLowerCase(java.util.Locale.ROOT);
        if (name.equals(wanted)
            || (name.startsWith("*.")
                && wanted.indexOf('.') > 0
                && wanted.substring(wanted.indexOf('.')).equals(name.substring(1)))) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean sameAddress(String a, String b) {
    try {
      return InetAddress.getByName(a).equals(InetAddress.getByName(b));
    } catch (IOException e) {
      return false;
    }
  }
}
