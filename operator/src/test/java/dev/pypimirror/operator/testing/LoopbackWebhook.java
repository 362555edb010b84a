package dev.pypimirror.operator.testing;

import dev.pypimirror.operator.serving.HttpServing;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.tls.CertificateAuthority;
import dev.pypimirror.operator.tls.ReloadingKeyManager;
import dev.pypimirror.operator.webhook.AdmissionResponse;
import dev.pypimirror.operator.webhook.WebhookServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import javax.net.ssl.SSLSocket;

/**
 * The webhook server on 127.0.0.1 over real HTTPS, as the tests that drive it over the wire need
 * it: a fresh CA, its serving certificate for 127.0.0.1 and localhost in {@code tls.crt} and {@code
 * tls.key} of a directory (reloaded from there), and clients that trust that CA.
 */
public final class LoopbackWebhook implements AutoCloseable {
  public final CertificateAuthority ca;
  public final CertificateAuthority.Issued serving;
  public final Path certificateFile;
  public final Path keyFile;
  public final WebhookServer server;
  private final HttpClient client;

  private LoopbackWebhook(
      CertificateAuthority ca,
      CertificateAuthority.Issued serving,
      Path certificateFile,
      Path keyFile,
      WebhookServer server)
      throws Exception {
    this.ca = ca;
    this.serving = serving;
    this.certificateFile = certificateFile;
    this.keyFile = keyFile;
    this.server = server;
    this.client =
        HttpClient.newBuilder()
            .sslContext(TestTls.trusting(ca.certificate()))
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  /** Serves {@code routes}, always ready, looking at the files every 10 s. */
  public static LoopbackWebhook serve(
      Path dir, Map<String, Function<byte[], AdmissionResponse>> routes) throws Exception {
    return serve(dir, routes, () -> true, Duration.ofSeconds(10));
  }

  public static LoopbackWebhook serve(
      Path dir,
      Map<String, Function<byte[], AdmissionResponse>> routes,
      BooleanSupplier ready,
      Duration tlsReloadInterval)
      throws Exception {
    return serveWith(dir, tls -> server(tls, routes, ready, tlsReloadInterval));
  }

  /**
   * Serves exact and prefix routes (whose answers may come later) on {@code eventLoops} event
   * loops, always ready.
   */
  public static LoopbackWebhook serve(
      Path dir,
      Map<String, Function<byte[], AdmissionResponse>> routes,
      Map<String, BiFunction<String, byte[], CompletionStage<AdmissionResponse>>> prefixRoutes,
      int eventLoops)
      throws Exception {
    return serveWith(
        dir,
        tls ->
            new WebhookServer(
                OperatorSettings.defaults().webhook().onLoopback(),
                tls,
                routes,
                prefixRoutes,
                () -> true,
                () -> "",
                new HttpServing.Transport(eventLoops, false, false)));
  }

  private static LoopbackWebhook serveWith(
      Path dir, Function<ReloadingKeyManager.Source, WebhookServer> server) throws Exception {
    CertificateAuthority ca = TestTls.newCa();
    Path certificate = dir.resolve("tls.crt");
    Path key = dir.resolve("tls.key");
    var serving = TestTls.writeServing(ca, certificate, key);
    WebhookServer started =
        server.apply(ReloadingKeyManager.Source.files(certificate, key)).start();
    return new LoopbackWebhook(ca, serving, certificate, key, started);
  }

  /**
   * A webhook server on 127.0.0.1 (any free port, no management port), not started, with its
   * certificate from {@code tls}: for tests with certificates of their own.
   */
  public static WebhookServer server(
      ReloadingKeyManager.Source tls,
      Map<String, Function<byte[], AdmissionResponse>> routes,
      BooleanSupplier ready,
      Duration tlsReloadInterval) {
    return new WebhookServer(
        OperatorSettings.defaults().webhook().onLoopback().withTlsReloadInterval(tlsReloadInterval),
        tls,
        routes,
        ready,
        () -> "",
        HttpServing.Transport.DEFAULT);
  }

  public int port() {
    return server.port();
  }

  public URI uri(String path) {
    return URI.create("https://127.0.0.1:" + server.port() + path);
  }

  /** A client that trusts the CA. */
  public HttpClient client() {
    return client;
  }

  public HttpResponse<String> post(String path, byte[] body) throws IOException {
    return send(
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .timeout(Duration.ofSeconds(10))
            .build());
  }

  public HttpResponse<String> get(String path) throws IOException {
    return send(HttpRequest.newBuilder(uri(path)).GET().build());
  }

  private HttpResponse<String> send(HttpRequest request) throws IOException {
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** A raw TLS connection that trusts the CA, reads timing out after 10 s. */
  public SSLSocket connect() throws Exception {
    var socket =
        (SSLSocket)
            TestTls.trusting(ca.certificate())
                .getSocketFactory()
                .createSocket("127.0.0.1", server.port());
    socket.setSoTimeout(10_000);
    return socket;
  }

  @Override
  public void close() {
    server.close();
  }
}
