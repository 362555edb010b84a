package dev.pypimirror.operator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.admissionpolicy.InjectionPolicies;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.webhook.WebhookRoutes;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    description = {
      "Explain why a pod is (or would be) injected or not, against the cluster of the kubeconfig:"
          + " the rule that applies, the governing policy, the mirror and its readiness, what the"
          + " webhook would add or why not, and for an existing pod whether it carries that."
          + " Without a pod: what a new pod of the namespace gets.",
      "",
      "Exit status: 0 injected (or would be) and carrying it; 1 the cluster could not be read;"
          + " 2 bad input; 3 not a target of injection (by the rules); 4 asks for a mirror that"
          + " cannot be injected now (missing, not Ready, ambiguous; or refused under Enforce);"
          + " 5 an existing pod does not carry what the webhook decides now."
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:injected, or would be, and carries it",
      "1:the cluster could not be read",
      "2:bad input",
      "3:not a target of injection",
      "4:a mirror is wanted but cannot be injected (or the pod would be refused)",
      "5:an existing pod differs from what the webhook decides now"
    })
class CheckCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(
      arity = "0..1",
      paramLabel = "POD",
      description = "A pod of the namespace; without it (and without -f) the namespace is checked.")
  String podName;

  @Option(
      names = {"-n", "--namespace"},
      paramLabel = "NS",
      description = "The namespace (default: the object's, else the kubeconfig's, else default).")
  String namespace;

  @Option(
      names = {"-f", "--filename"},
      paramLabel = "FILE",
      description =
          "A Pod or workload manifest not yet created (first object; - reads standard input).")
  String file;

  @Option(
      names = "--operator-namespace",
      paramLabel = "NS",
      description =
          "The operator's namespace, never injected (default: read from the webhook configuration).")
  String operatorNamespace;

  @Override
  public Integer call() {
    if (podName != null && file != null) {
      throw new CliException("give a POD name or -f FILE, not both");
    }
    JsonNode object = null;
    String where = null;
    if (file != null) {
      ManifestReader input = ManifestReader.read(file, System.in);
      object = input.documents().get(0);
      String kind = object.path("kind").asText();
      if (!InjectCommand.TEMPLATES.containsKey(kind)) {
        throw new CliException(
            input.source()
                + ": expected a Pod or a workload with a pod template, got kind "
                + kind);
      }
      String own = object.path("metadata").path("namespace").asText(null);
      if (own != null && namespace != null && !own.equals(namespace)) {
        throw new CliException(
            "the namespace of the object (%s) does not match --namespace %s"
                .formatted(own, namespace));
      }
      if (own != null) {
        namespace = own;
      }
      where = kind + "/" + object.path("metadata").path("name").asText("?");
    }
    String masterUrl = "?";
    try (KubernetesClient client = new KubernetesClientBuilder().build()) {
      masterUrl = String.valueOf(client.getMasterUrl());
      String ns =
          namespace != null
              ? namespace
              : client.getNamespace() != null ? client.getNamespace() : "default";
      PodCheck.Cluster cluster = read(client, ns);
      PodCheck.Report report;
      if (object != null) {
        String pointer = InjectCommand.TEMPLATES.get(object.path("kind").asText());
        JsonNode pod = pointer.isEmpty() ? object : object.at(pointer);
        report = PodCheck.pod(pod, where, false, cluster);
      } else if (podName != null) {
        Pod pod = client.pods().inNamespace(ns).withName(podName).get();
        if (pod == null) {
          throw new CliException("pods \"%s\" not found in namespace %s".formatted(podName, ns));
        }
        report = PodCheck.pod(Serialization.jsonMapper().valueToTree(pod), podName, true, cluster);
      } else {
        report = PodCheck.namespace(cluster);
      }
      PrintWriter out = spec.commandLine().getOut();
      out.print(report.text());
      out.flush();
      return report.status();
    } catch (KubernetesClientException e) {
      throw new ClusterUnreadable(masterUrl, e);
    }
  }

  /** Everything the decision needs, read once. */
  private PodCheck.Cluster read(KubernetesClient client, String ns) {
    Namespace namespaceObject = client.namespaces().withName(ns).get();
    if (namespaceObject == null) {
      throw new CliException("namespaces \"%s\" not found".formatted(ns));
    }
    Map<String, String> labels =
        namespaceObject.getMetadata().getLabels() == null
            ? Map.of()
            : namespaceObject.getMetadata().getLabels();
    List<PypiMirrorPolicy> policies = client.resources(PypiMirrorPolicy.class).list().getItems();
    List<PypiMirror> mirrors =
        new ArrayList<>(client.resources(PypiMirror.class).inNamespace(ns).list().getItems());
    return new PodCheck.Cluster(
        ns,
        labels,
        policies,
        mirrors,
        operatorNamespace != null ? operatorNamespace : webhookNamespace(client),
        failClosedEntries(client),
        admissionPolicies(client, ns));
  }

  /**
   * The admission policies the operator wrote ({@code kind/name}): admission-policy mode. Empty in
   * webhook mode, and when they cannot be read (not served, or no right to list them).
   */
  private static Set<String> admissionPolicies(KubernetesClient client, String namespace) {
    Set<String> found = new java.util.TreeSet<>();
    for (String kind : List.of("MutatingAdmissionPolicy", "ValidatingAdmissionPolicy")) {
      try {
        client
            .genericKubernetesResources(
                dev.pypimirror.operator.cluster.AdmissionPolicyWriter.resource(kind))
            .withLabel(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY)
            .list()
            .getItems()
            .stream()
            .filter(
                p -> {
                  var labels = p.getMetadata().getLabels();
                  String served =
                      labels == null ? null : labels.get(InjectionPolicies.NAMESPACE_LABEL);
                  return served == null || served.equals(namespace); // null: an Enforce policy's
                })
            .forEach(p -> found.add(kind + "/" + p.getMetadata().getName()));
      } catch (KubernetesClientException e) {
        // not served or not allowed: what the webhook decides is the answer
      }
    }
    return found;
  }

  /** The pod webhook entries that fail closed (empty when the configuration cannot be read). */
  private static Set<String> failClosedEntries(KubernetesClient client) {
    try {
      var configuration =
          client
              .admissionRegistration()
              .v1()
              .mutatingWebhookConfigurations()
              .withName(WebhookRoutes.CONFIGURATION)
              .get();
      return configuration == null
          ? Set.of()
          : configuration.getWebhooks().stream()
              .filter(w -> "Fail".equals(w.getFailurePolicy()))
              .map(w -> w.getName())
              .collect(java.util.stream.Collectors.toSet());
    } catch (KubernetesClientException e) {
      return Set.of();
    }
  }

  /** The namespace of the service the pod webhook calls: the operator's own. */
  private static String webhookNamespace(KubernetesClient client) {
    try {
      return client
          .admissionRegistration()
          .v1()
          .mutatingWebhookConfigurations()
          .list()
          .getItems()
          .stream()
          .flatMap(c -> c.getWebhooks().stream())
          .filter(w -> w.getName().endsWith(WebhookRoutes.OPT_IN_ENTRY))
          .filter(w -> w.getClientConfig() != null && w.getClientConfig().getService() != null)
          .map(w -> w.getClientConfig().getService().getNamespace())
          .findFirst()
          .orElse(null);
    } catch (KubernetesClientException e) {
      return null; // not allowed to read webhook configurations: the operator's namespace is
      // unknown
    }
  }

  /** The API server could not be asked: exit 1 with its reason. */
  static final class ClusterUnreadable extends RuntimeException {
    ClusterUnreadable(String masterUrl, KubernetesClientException cause) {
      super("cannot read the cluster at " + masterUrl + ": " + Main.causes(cause), cause);
    }
  }
}
