package dev.pypimirror.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.UUID;

/**
 * A mock API server (CRUD mode) in its own process, for measuring the operator from outside: the
 * project's CRDs, 100 namespaces, and as many unrelated ConfigMaps and pods as asked, loaded
 * straight into the server's store (creating 70,000 objects through the API would take the mock,
 * which scans its store on every write, far too long). Prints the kubeconfig path, then serves
 * until killed; also writes a serving certificate for the webhook. Usage: ClusterServer CONFIGMAPS
 * PODS
 */
public final class ClusterServer {
  static final List<String> CRDS =
      List.of("pypimirrors.pypimirror.dev-v1.yml", "pypimirrorpolicies.pypimirror.dev-v1.yml");
  static final int NAMESPACES = 100;

  private ClusterServer() {}

  public static void main(String[] args) throws Exception {
    int configMaps = Integer.parseInt(args[0]);
    int pods = Integer.parseInt(args[1]);
    KubernetesCrudDispatcher store = new KubernetesCrudDispatcher();
    KubernetesMockServer server = started(store);
    KubernetesClient client = server.createClient();
    installCrds(client);
    for (int n = 0; n < NAMESPACES; n++) {
      client
          .resource(
              new NamespaceBuilder().withNewMetadata().withName("team-" + n).endMetadata().build())
          .create();
    }
    long resourceVersion = 1_000_000;
    for (int i = 0; i < configMaps; i++) {
      load(store, configMap("team-" + i % NAMESPACES, "settings-" + i, resourceVersion++));
    }
    for (int i = 0; i < pods; i++) {
      load(store, pod("team-" + i % NAMESPACES, "build-" + i, resourceVersion++));
    }
    Path kubeconfig = Files.createTempFile("bench-kubeconfig", ".yaml");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: mock, cluster: {server: "%s"}}]
        users: [{name: nobody, user: {}}]
        contexts: [{name: mock, context: {cluster: mock, user: nobody, namespace: default}}]
        current-context: mock
        """
            .formatted(client.getMasterUrl()));
    System.out.println("tls=" + BenchTls.servingFiles());
    System.out.println("kubeconfig=" + kubeconfig);
    System.out.flush();
    Thread.currentThread().join();
  }

  /** A mock API server in CRUD mode over plain HTTP, serving {@code store}. */
  static KubernetesMockServer started(KubernetesCrudDispatcher store) {
    KubernetesMockServer server =
        new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), store, false);
    server.init();
    return server;
  }

  /** The CRDs as generated into the operator jar. */
  static void installCrds(KubernetesClient client) throws IOException {
    for (String crd : CRDS) {
      try (InputStream in = ClusterServer.class.getResourceAsStream("/META-INF/fabric8/" + crd)) {
        client
            .resource(
                client
                    .getKubernetesSerialization()
                    .unmarshal(
                        new String(in.readAllBytes(), StandardCharsets.UTF_8),
                        CustomResourceDefinition.class))
            .create();
      }
    }
  }

  private static void load(KubernetesCrudDispatcher store, String json) {
    store.getMap().put(store.getAttributeExtractor().fromResource(json), json);
  }

  private static String metadata(String namespace, String name, long resourceVersion) {
    return """
        "metadata":{"name":"%s","namespace":"%s","uid":"%s","resourceVersion":"%d",\
        "creationTimestamp":"2026-11-01T00:00:00Z","labels":{"app":"team-app","tier":"build"}}"""
        .formatted(name, namespace, UUID.randomUUID(), resourceVersion);
  }

  static String configMap(String namespace, String name, long resourceVersion) {
    return """
        {"apiVersion":"v1","kind":"ConfigMap",%s,"data":{"settings.yaml":"replicas: 3\\nimage: registry.corp.example/app:1.2.3\\nfeature_flags: [a, b, c]\\n","LOG_LEVEL":"info"}}"""
        .formatted(metadata(namespace, name, resourceVersion));
  }

  static String pod(String namespace, String name, long resourceVersion) {
    return """
        {"apiVersion":"v1","kind":"Pod",%s,"spec":{"serviceAccountName":"builder","restartPolicy":"Never",\
        "containers":[{"name":"build","image":"gcr.io/kaniko-project/executor:v1.23.2",\
        "args":["--context=dir:///workspace","--destination=registry.corp.example/app:1"],\
        "env":[{"name":"DOCKER_CONFIG","value":"/kaniko/.docker"}],\
        "resources":{"requests":{"cpu":"500m","memory":"1Gi"}},\
        "volumeMounts":[{"name":"workspace","mountPath":"/workspace"}]}],\
        "volumes":[{"name":"workspace","emptyDir":{}}]},\
        "status":{"phase":"Succeeded","podIP":"10.1.2.3"}}"""
        .formatted(metadata(namespace, name, resourceVersion));
  }
}
