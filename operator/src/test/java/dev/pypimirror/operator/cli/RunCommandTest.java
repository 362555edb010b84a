package dev.pypimirror.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.cache.CacheSync;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.settings.OperatorSettings.Certificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The settings `run` builds from its options (what starts with them is tested end to end). */
class RunCommandTest {
  static OperatorSettings settings(String... args) {
    RunCommand run = new RunCommand();
    new CommandLine(run).parseArgs(args);
    return run.settings();
  }

  @Test
  void withoutOptionsRunUsesTheDefaults() {
    OperatorSettings defaults = OperatorSettings.defaults();
    String indexImage = System.getenv("PYPI_MIRROR_INDEX_IMAGE");

    assertThat(settings("--operator-namespace", "ops"))
        .isEqualTo(
            defaults
                .withOperatorNamespace("ops")
                .withReconcile(
                    r ->
                        r.withIndexImage(
                            indexImage == null ? CacheSync.DEFAULT_INDEX_IMAGE : indexImage)));
  }

  @Test
  void everyOptionLandsInItsPart() {
    OperatorSettings given =
        settings(
            "--watch-namespaces=builds,ci",
            "--operator-namespace=ops",
            "--leader-election",
            "--index-image=registry.example/op:2",
            "--webhook-certs=self-managed",
            "--tls-cert-file=/certs/a.crt",
            "--tls-key-file=/certs/a.key",
            "--webhook-port=8443",
            "--metrics-port=0",
            "--drain-delay=3");

    assertThat(given.operatorNamespace()).isEqualTo("ops");
    assertThat(given.reconcile())
        .isEqualTo(
            new OperatorSettings.Reconcile(Set.of("builds", "ci"), "registry.example/op:2", true));
    OperatorSettings.Webhook webhook = given.webhook();
    assertThat(webhook.enabled()).isTrue();
    assertThat(webhook.certificates()).isEqualTo(Certificates.SELF_MANAGED);
    assertThat(webhook.certificateFile()).isEqualTo(Path.of("/certs/a.crt"));
    assertThat(webhook.keyFile()).isEqualTo(Path.of("/certs/a.key"));
    assertThat(webhook.port()).isEqualTo(8443);
    assertThat(webhook.managementPort())
        .as("--metrics-port=0 is none")
        .isEqualTo(OperatorSettings.Webhook.NO_PORT);
    assertThat(webhook.drainDelay()).isEqualTo(Duration.ofSeconds(3));
    assertThat(settings("--no-webhook").webhook().enabled()).isFalse();
    assertThat(settings("--webhook-certs=files").webhook().certificates())
        .isEqualTo(Certificates.FILES);
  }

  @Test
  void theHelpShowsTheDefaults() {
    String help = new CommandLine(new RunCommand()).getUsageMessage();

    assertThat(help)
        .contains("(default: 9443)")
        .contains("(default: 8080)")
        .contains("(default: 10)")
        .contains("(default: files)");
    assertThat(help.replaceAll("\\s+", ""))
        .contains("(default:/tmp/k8s-webhook-server/serving-certs/tls.crt)");
  }
}
