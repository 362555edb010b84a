package dev.pypimirror.operator.testing;

import dev.pypimirror.operator.OperatorApp;
import dev.pypimirror.operator.reconciler.MirrorOperator;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.settings.OperatorSettings;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * Setting up fabric8's mock API server as a cluster: the project's CRDs, namespaces, the operator's
 * reconcilers.
 */
public final class MockCluster {
  /** The operator's namespace in tests, as deploy/ installs it. */
  public static final String OPERATOR_NAMESPACE = "pypi-mirror-system";

  private MockCluster() {}

  /**
   * The project's CRDs installed and the reconcilers started on {@code client} (no webhook), with
   * the default index image. Close the operator after.
   */
  public static MirrorOperator startOperator(KubernetesClient client) throws IOException {
    return startOperator(client, Defaults.INDEX_IMAGE.defaultValue());
  }

  /** As {@link #startOperator(KubernetesClient)}, the cache sync running {@code indexImage}. */
  public static MirrorOperator startOperator(KubernetesClient client, String indexImage)
      throws IOException {
    installCrds(client);
    return OperatorApp.reconcilers(
            client,
            OperatorSettings.defaults()
                .withOperatorNamespace(OPERATOR_NAMESPACE)
                .withReconcile(r -> r.withIndexImage(indexImage)),
            Clock.systemUTC())
        .start();
  }

  /** Creates every CRD this build generated. */
  public static void installCrds(KubernetesClient client) throws IOException {
    try (var files = Files.list(Path.of("target/classes/META-INF/fabric8"))) {
      for (Path file : files.filter(p -> p.toString().endsWith("-v1.yml")).toList()) {
        client
            .resource(
                client
                    .getKubernetesSerialization()
                    .unmarshal(Files.readString(file), CustomResourceDefinition.class))
            .create();
      }
    }
  }

  public static void namespace(KubernetesClient client, String name, Map<String, String> labels) {
    client
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(labels)
                .endMetadata()
                .build())
        .create();
  }

  public static void relabel(KubernetesClient client, String name, Map<String, String> labels) {
    client
        .namespaces()
        .withName(name)
        .edit(
            ns -> {
              var merged = new java.util.HashMap<String, String>();
              if (ns.getMetadata().getLabels() != null) {
                ns.getMetadata()
                    .getLabels()
                    .forEach(
                        (k, v) -> {
                          if (k.startsWith("pypimirror.dev/")) {
                            merged.put(k, v);
                          }
                        });
              }
              merged.putAll(labels);
              ns.getMetadata().setLabels(merged);
              return ns;
            });
  }
}
