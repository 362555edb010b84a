package dev.pypimirror.bench;

import dev.pypimirror.operator.metrics.OperatorMetrics;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.serving.HttpServing;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.tls.ReloadingKeyManager;
import dev.pypimirror.operator.webhook.AdmissionResponse;
import dev.pypimirror.operator.webhook.PodAdmission;
import dev.pypimirror.operator.webhook.WebhookServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The real webhook server on loopback for load tests from another process: the injecting pod is
 * POSTed to /mutate-pods; the same admission code answering allowed-without-patch is compared on
 * the same server; {@value #NULL} reads the body through the same code and answers a fixed 200, the
 * floor any admission costs on this server. Prints the port, then serves until killed.
 *
 * <p>System properties choose the transport, to compare them side by side in separate processes:
 * {@code bench.eventLoops}, {@code bench.native} (epoll), {@code bench.openssl} (netty-tcnative).
 */
public final class BenchServer {
  static final String NULL = "/null";
  private static final AdmissionResponse NULL_ANSWER =
      new AdmissionResponse(200, "application/json", "{}".getBytes(StandardCharsets.UTF_8));

  private BenchServer() {}

  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    Path dir = BenchTls.servingFiles();
    // as in the operator: every admission counted and timed for /metrics
    var metrics = new OperatorMetrics();
    var admission =
        new PodAdmission(
            Workload.directory(),
            PolicyDirectory.NONE,
            "pypi-mirror-system",
            (namespace, pod, plan, dryRun, nanos) -> metrics.admission(plan, nanos));
    var server =
        new WebhookServer(
                OperatorSettings.defaults()
                    .webhook()
                    .onLoopback()
                    .withPort(port)
                    .withTlsReloadInterval(Duration.ofMinutes(10)),
                ReloadingKeyManager.Source.files(dir.resolve("tls.crt"), dir.resolve("tls.key")),
                Map.of(WebhookServer.MUTATE_PODS, admission::review, NULL, body -> NULL_ANSWER),
                () -> true,
                () -> "",
                new HttpServing.Transport(
                    Integer.getInteger(
                        "bench.eventLoops", HttpServing.Transport.DEFAULT.eventLoops()),
                    Boolean.parseBoolean(
                        System.getProperty(
                            "bench.native", "" + HttpServing.Transport.DEFAULT.nativeTransport())),
                    Boolean.parseBoolean(
                        System.getProperty(
                            "bench.openssl", "" + HttpServing.Transport.DEFAULT.openSsl()))))
            .start();
    Files.write(dir.resolve("injected.json"), Workload.injectedReview());
    Files.write(dir.resolve("untouched.json"), Workload.untouchedReview());
    System.out.println(
        "port=" + server.port() + " pid=" + ProcessHandle.current().pid() + " dir=" + dir);
    System.out.flush();
    Thread.currentThread().join();
  }
}
