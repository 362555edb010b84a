package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.settings.Defaults;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code --webhook-configuration}, as {@code run} is given it, for the commands that act on the
 * install's webhook configurations after or before the operator runs ({@code uninstall}, {@code
 * pre-upgrade}).
 */
final class WebhookConfigurationOption {
  @Option(
      names = "--webhook-configuration",
      paramLabel = "NAME",
      description =
          "The webhook configurations' name, as run is given it; the certificate Secret"
              + " <NAME>-webhook-tls and the Lease <NAME>-leader follow it (default:"
              + " ${DEFAULT-VALUE}).")
  String name = Defaults.WEBHOOK_CONFIGURATION.defaultValue();

  /** The mutating and the validating configuration of this name, each by how it is said. */
  Map<String, Resource<? extends HasMetadata>> both(KubernetesClient client) {
    var v1 = client.admissionRegistration().v1();
    Map<String, Resource<? extends HasMetadata>> both = new LinkedHashMap<>();
    both.put(
        "MutatingWebhookConfiguration " + name, v1.mutatingWebhookConfigurations().withName(name));
    both.put(
        "ValidatingWebhookConfiguration " + name,
        v1.validatingWebhookConfigurations().withName(name));
    return both;
  }
}
