package dev.pypimirror.operator.testing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.stream.Stream;

/** What an uninstall may leave in a cluster, listed so a test can say it is gone. */
public final class Leftovers {
  private Leftovers() {}

  /** Every Mutating- and ValidatingWebhookConfiguration, as Kind/name. */
  public static List<String> webhookConfigurations(KubernetesClient client) {
    var v1 = client.admissionRegistration().v1();
    return Stream.concat(
            v1.mutatingWebhookConfigurations().list().getItems().stream(),
            v1.validatingWebhookConfigurations().list().getItems().stream())
        .map(Leftovers::kindAndName)
        .toList();
  }

  private static String kindAndName(HasMetadata object) {
    return object.getKind() + "/" + object.getMetadata().getName();
  }
}
