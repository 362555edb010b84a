package dev.pypimirror.bench;

import dev.pypimirror.operator.metrics.OperatorMetrics;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.webhook.PodAdmission;
import dev.pypimirror.operator.webhook.WebhookServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The real webhook server on loopback for load tests from another process: the injecting pod is
 * POSTed to /mutate-pods; the same admission code answering allowed-without-patch is compared on
 * the same server. Prints the port, then serves until killed.
 */
public final class BenchServer {
  private BenchServer() {}

  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    Path dir = BenchTls.servingFiles();
    // as in the operator: every admission counted and timed for /metrics
    var admission =
        new PodAdmission(
            Workload.directory(),
            PolicyDirectory.NONE,
            "pypi-mirror-system",
            new OperatorMetrics().admissions());
    var server =
        new WebhookServer(
                new WebhookServer.Settings(
                    "127.0.0.1",
                    port,
                    dir.resolve("tls.crt"),
                    dir.resolve("tls.key"),
                    Duration.ofMinutes(10)),
                Map.of(WebhookServer.MUTATE_PODS, admission::review),
                () -> true)
            .start();
    Files.write(dir.resolve("injected.json"), Workload.injectedReview());
    Files.write(dir.resolve("untouched.json"), Workload.untouchedReview());
    System.out.println("port=" + server.port() + " dir=" + dir);
    System.out.flush();
    Thread.currentThread().join();
  }
}
