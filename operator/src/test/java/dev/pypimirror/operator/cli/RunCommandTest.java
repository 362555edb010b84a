package dev.pypimirror.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.settings.OperatorSettings.Certificates;
import dev.pypimirror.operator.settings.Setting;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.BindException;
import java.net.ConnectException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
        .as("no certificate files at the default paths: self-managed")
        .isEqualTo(
            defaults
                .withOperatorNamespace("ops")
                .withWebhook(w -> w.withSelfManagedCertificates())
                .withReconcile(
                    r ->
                        r.withIndexImage(
                            indexImage == null
                                ? Defaults.INDEX_IMAGE.defaultValue()
                                : indexImage)));
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
        .contains("(default: 10)");
    assertThat(help.replaceAll("\\s+", ""))
        .contains("(default:fileswhen--tls-cert-fileand--tls-key-fileexist,elseself-managed)")
        .contains("(default:pypi-mirror-operator-webhook)")
        .contains("(default:/tmp/k8s-webhook-server/serving-certs/tls.crt)");
  }

  /**
   * Each setting of a command's option is that option, with the setting's default and description.
   */
  @Test
  void everyOptionSettingIsItsOptionWithItsDefaultAndDescription() {
    CommandLine main = new CommandLine(new Main());
    List<Setting<?>> settings =
        Defaults.all().stream().filter(s -> !s.command().isEmpty()).toList();

    assertThat(settings).extracting(Setting::command).contains("run", "uninstall", "proxy");
    for (Setting<?> setting : settings) {
      CommandLine.Model.OptionSpec option =
          main.getSubcommands()
              .get(setting.command())
              .getCommandSpec()
              .findOption(setting.option());
      assertThat(option).as(setting.key()).isNotNull();
      assertThat(option.defaultValueString()).as(setting.key()).isEqualTo(setting.text());
      assertThat(String.join(" ", option.description()))
          .as(setting.key())
          .isEqualTo(
              setting.description().replaceFirst("\\.$", "")
                  + " (default: "
                  + setting.text()
                  + ").");
    }
  }

  /** A word option takes its words (and an alias), offers only the words, and names them. */
  @Test
  void wordOptionsTakeTheirWordsAndNameThemWhenGivenAnother() {
    assertThat(settings("--webhook-certs=self_managed").webhook().certificates())
        .isEqualTo(Certificates.SELF_MANAGED);
    assertThat(settings("--injection=admission-policy").injection())
        .isEqualTo(OperatorSettings.Injection.ADMISSION_POLICY);
    assertThat(new RunCommand.CertificateSourceConverter())
        .containsExactly("self-managed", "cert-manager", "files");
    assertThat(runFails("--injection=sometimes"))
        .contains("expected webhook, admission-policy or auto, got sometimes");
  }

  static String runFails(String... args) {
    StringWriter err = new StringWriter();
    String[] all = new String[args.length + 1];
    all[0] = "run";
    System.arraycopy(args, 0, all, 1, args.length);
    assertThat(Main.execute(all, new PrintWriter(new StringWriter()), new PrintWriter(err)))
        .as("exit status")
        .isEqualTo(Main.EXIT_BAD_INPUT);
    return err.toString();
  }

  /** Each start-up error names its cause and its fix, before anything is started. */
  @Test
  void startUpErrorsNameTheCauseAndTheFix() {
    assumeThat(System.getenv("POD_NAMESPACE")).isNull();

    assertThat(runFails())
        .contains("no certificate files at /tmp/k8s-webhook-server/serving-certs/tls.crt")
        .contains("--operator-namespace NS")
        .contains("--tls-cert-file and --tls-key-file")
        .contains("--no-webhook");
    assertThat(runFails("--webhook-certs=files", "--tls-cert-file=/nonexistent/tls.crt"))
        .contains("cannot read /nonexistent/tls.crt")
        .contains("--webhook-certs=self-managed");
    assertThat(runFails("--no-webhook", "--leader-election"))
        .contains("--leader-election keeps its Lease in the operator's namespace")
        .contains("POD_NAMESPACE");
    assertThat(runFails("--operator-namespace=ops", "--webhook-timeout=31"))
        .contains("1 to 30 seconds");
    assertThat(runFails("--operator-namespace=ops", "--webhook-failure-policy=Sometimes"))
        .contains("Ignore or Fail");
  }

  @Test
  void certificateFilesThatExistAreServedWithoutBeingAskedFor() throws Exception {
    Path dir = Files.createTempDirectory("certs");
    try {
      Path crt = Files.writeString(dir.resolve("tls.crt"), "x");
      Path key = Files.writeString(dir.resolve("tls.key"), "x");

      assertThat(
              settings("--tls-cert-file=" + crt, "--tls-key-file=" + key).webhook().certificates())
          .isEqualTo(Certificates.FILES);
      Files.delete(key);
      assertThat(
              settings("--tls-cert-file=" + crt, "--tls-key-file=" + key).webhook().certificates())
          .isEqualTo(Certificates.SELF_MANAGED);
    } finally {
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          Files.delete(f);
        }
      }
      Files.delete(dir);
    }
  }

  @Test
  void theWebhookConfigurationsAreWhatTheOptionsSay() {
    assertThat(
            settings(
                    "--webhook-configuration=build-mirrors",
                    "--webhook-service=build-mirrors-webhook",
                    "--webhook-failure-policy=Fail",
                    "--webhook-timeout=3",
                    "--cert-manager-certificate=build-mirrors-webhook")
                .routing())
        .isEqualTo(
            new OperatorSettings.Routing(
                "build-mirrors", "build-mirrors-webhook", "Fail", 3, "build-mirrors-webhook"));
    assertThat(settings().routing()).isEqualTo(OperatorSettings.Routing.DEFAULTS);
  }

  /** cert-manager mode: the leader keeps the Certificate, so its name and issuer are needed. */
  @Test
  void certManagerModeNamesTheCertificateAndItsIssuer() {
    OperatorSettings given =
        settings(
            "--webhook-certs=cert-manager",
            "--cert-manager-certificate=build-mirrors-webhook",
            "--cert-manager-issuer=ClusterIssuer/corp-ca");

    assertThat(given.webhook().certificates())
        .isEqualTo(OperatorSettings.Certificates.CERT_MANAGER);
    assertThat(given.routing().issuer())
        .isEqualTo(new OperatorSettings.Issuer("ClusterIssuer", "corp-ca", "cert-manager.io"));
    assertThat(given.routing().certManagerSecret()).isEqualTo("build-mirrors-webhook-cert-manager");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> settings("--webhook-certs=cert-manager", "--cert-manager-issuer=corp-ca"))
        .isInstanceOf(CliException.class)
        .hasMessageContaining("--cert-manager-certificate NAME")
        .hasMessageContaining("Issuer/NAME or ClusterIssuer/NAME");
  }

  /** A failed start says what fixes it, then the causes. */
  @Test
  void aFailedStartSaysWhatFixesIt() throws Exception {
    URL api = new URL("https://10.0.0.1:6443");

    assertThat(StartFailure.explained(new IOException(new ConnectException("refused")), api))
        .hasMessageContaining("cannot reach the API server at https://10.0.0.1:6443")
        .hasMessageContaining("KUBECONFIG");
    assertThat(
            StartFailure.fix(
                new KubernetesClientException("Forbidden", 403, new StatusBuilder().build()), api))
        .contains("RBAC of this version");
    assertThat(
            StartFailure.fix(
                new KubernetesClientException(
                    "the server could not find the requested resource pypimirrors.pypimirror.dev",
                    404,
                    new StatusBuilder().build()),
                api))
        .contains("kubectl apply -f crds/");
    assertThat(StartFailure.fix(new RuntimeException(new BindException("in use")), api))
        .contains("--webhook-port");
    assertThat(StartFailure.explained(new IllegalStateException("odd"), api))
        .hasMessage("cannot start")
        .hasCauseInstanceOf(IllegalStateException.class);
  }
}
