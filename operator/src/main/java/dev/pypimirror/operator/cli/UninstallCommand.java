package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.settings.OperatorSettings;
import dev.pypimirror.operator.webhook.CertManagerCertificate;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What the install leaves that it did not apply, removed: the webhook configurations (a fail-closed
 * entry left behind would refuse pods cluster-wide), the certificate Secret and the leader Lease.
 * The operator is stopped first (its Deployment scaled to zero, its pods waited for), so no leader
 * puts them back. The Helm chart runs it as a pre-delete hook; with kustomize, run it (or delete
 * the objects by hand) before `kubectl delete -k`.
 */
@Command(
    name = "uninstall",
    mixinStandardHelpOptions = true,
    description =
        "Stop the operator (with its namespace: its Deployment scaled to zero) and remove what it made at run time: its webhook configurations and, with its namespace, its certificate Secret and leader Lease.",
    defaultValueProvider = SettingDefaults.class,
    resourceBundle = "dev.pypimirror.operator.cli.SettingDefaults$UninstallHelp",
    footerHeading = "%nExamples:%n",
    footer = {
      "  pypi-mirror-operator uninstall --operator-namespace pypi-mirror-system",
      "  # a release named \"platform\" (the chart's names follow its fullname)",
      "  pypi-mirror-operator uninstall --operator-namespace tools \\",
      "      --webhook-configuration platform-pypi-mirror-operator \\",
      "      --deployment platform-pypi-mirror-operator"
    })
public class UninstallCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--operator-namespace",
      defaultValue = "${env:POD_NAMESPACE}",
      paramLabel = "NS",
      description =
          "The operator's namespace: without it the Deployment, Secret and Lease are left"
              + " (default: $POD_NAMESPACE).")
  String namespace;

  @Mixin WebhookConfigurationOption configuration;

  @Option(
      names = "--deployment",
      paramLabel = "NAME",
      description = "The operator's Deployment, scaled to zero first (default: ${DEFAULT-VALUE}).")
  String deployment = Defaults.WEBHOOK_CONFIGURATION.defaultValue();

  @Option(
      names = "--cert-manager-certificate",
      paramLabel = "NAME",
      description =
          "With cert-manager: the webhook's Certificate the operator kept, removed with its Secret <NAME>-cert-manager.")
  String certManagerCertificate;

  @Option(names = "--wait", paramLabel = "SECONDS")
  int waitSeconds;

  @Mixin ClusterOptions cluster;

  @Override
  public Integer call() throws Exception {
    cluster.withClient(client -> run(client, spec.commandLine().getOut()));
    return 0;
  }

  /** Every step, each said in one line. */
  public void run(KubernetesClient client, PrintWriter out) throws InterruptedException {
    boolean inNamespace = namespace != null && !namespace.isBlank();
    if (inNamespace) {
      stopOperator(client, out);
    }
    configuration.both(client).forEach((what, resource) -> say(out, what, resource));
    if (inNamespace) {
      var defaults = OperatorSettings.Routing.DEFAULTS;
      var names =
          new OperatorSettings.Routing(
              configuration.name,
              defaults.service(),
              defaults.failurePolicy(),
              defaults.timeoutSeconds(),
              certManagerCertificate);
      say(
          out,
          "Secret " + namespace + "/" + names.certificateSecret(),
          client.secrets().inNamespace(namespace).withName(names.certificateSecret()));
      say(
          out,
          "Lease " + namespace + "/" + names.leaderLease(),
          client.leases().inNamespace(namespace).withName(names.leaderLease()));
      if (certManagerCertificate != null) {
        say(
            out,
            "Certificate " + namespace + "/" + certManagerCertificate,
            client
                .genericKubernetesResources(CertManagerCertificate.CERTIFICATES)
                .inNamespace(namespace)
                .withName(certManagerCertificate));
        String secret = names.certManagerSecret();
        say(
            out,
            "Secret " + namespace + "/" + secret,
            client.secrets().inNamespace(namespace).withName(secret));
      }
    } else {
      out.println("no operator namespace given: its Secret and Lease are left");
    }
    out.flush();
  }

  /** Scales the Deployment to zero and waits (up to --wait) until its pods are gone. */
  private void stopOperator(KubernetesClient client, PrintWriter out) throws InterruptedException {
    var resource = client.apps().deployments().inNamespace(namespace).withName(deployment);
    Deployment found = resource.get();
    if (found == null) {
      out.printf("Deployment %s/%s: not found%n", namespace, deployment);
      return;
    }
    resource.scale(0);
    var selector = found.getSpec().getSelector().getMatchLabels();
    Instant deadline = Instant.now().plus(Duration.ofSeconds(waitSeconds));
    int running;
    while ((running =
                client.pods().inNamespace(namespace).withLabels(selector).list().getItems().size())
            > 0
        && Instant.now().isBefore(deadline)) {
      Thread.sleep(1000);
    }
    out.printf(
        "Deployment %s/%s scaled to 0%s%n",
        namespace,
        deployment,
        running == 0 ? ", its pods stopped" : ", " + running + " pod(s) still stopping");
  }

  private static void say(PrintWriter out, String what, Resource<?> resource) {
    out.println(what + (resource.delete().isEmpty() ? ": not found" : ": deleted"));
  }
}
