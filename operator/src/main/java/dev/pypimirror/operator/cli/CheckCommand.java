package dev.pypimirror.operator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.admissionpolicy.InjectionPolicies;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.inspect.PodCheck;
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
import picocli.CommandLine.Mixin;
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
          + " Without a pod: what a new pod of the namespace gets."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  pypi-mirror-operator check -n builds kaniko-build",
      "  # manifests not yet created: each Pod and workload (the highest status)",
      "  pypi-mirror-operator check -f deploy/examples/build-job.yaml",
      "  pypi-mirror-operator check -f deploy/examples/ -R",
      "  # a namespace: its policy, its mirrors, what a new pod gets",
      "  pypi-mirror-operator check -n ml-training",
      "  # another cluster",
      "  pypi-mirror-operator check --kubeconfig staging.kubeconfig \\",
      "      --context staging -n builds kaniko-build"
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:injected, or would be, and carries it",
      "1:the cluster could not be reached or read (one line: its address and the cause)",
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
      paramLabel = "FILE|DIR",
      description =
          "Pods or workloads not yet created: a file, a folder of .yaml, .yml and .json files, or -"
              + " for standard input; each Pod and workload is checked, other objects skipped.")
  String file;

  @Mixin RecursiveOption folders;

  @Option(
      names = "--operator-namespace",
      paramLabel = "NS",
      description =
          "The operator's namespace, never injected (default: read from the webhook configuration).")
  String operatorNamespace;

  @Mixin ClusterOptions cluster;

  /** A Pod or workload read from -f, and how it is named in the report. */
  private record Workload(JsonNode pod, String where, String namespace) {}

  @Override
  public Integer call() {
    if (podName != null && file != null) {
      throw new CliException("give a POD name or -f FILE, not both");
    }
    List<Workload> workloads = file == null ? List.of() : workloads();
    var config = cluster.config();
    // one question, asked once, as kubectl does: no cluster is an answer, not a reason to retry
    config.setRequestRetryBackoffLimit(0);
    String masterUrl = String.valueOf(config.getMasterUrl());
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
      String ns =
          namespace != null
              ? namespace
              : client.getNamespace() != null ? client.getNamespace() : "default";
      PrintWriter out = spec.commandLine().getOut();
      int status;
      if (file != null) {
        status = printWorkloads(client, ns, workloads, out);
      } else {
        PodCheck.Report report = existing(client, ns);
        out.print(report.text());
        status = report.status();
      }
      out.flush();
      return status;
    } catch (KubernetesClientException e) {
      throw ClusterOptions.failed(masterUrl, e);
    }
  }

  /**
   * Each workload of -f checked as not yet created, in its own namespace or {@code ns} (each
   * namespace read once), a blank line between reports; the worst status.
   */
  private int printWorkloads(
      KubernetesClient client, String ns, List<Workload> workloads, PrintWriter out) {
    int status = 0;
    Map<String, PodCheck.Cluster> read = new java.util.HashMap<>();
    for (Workload workload : workloads) {
      String in = workload.namespace() != null ? workload.namespace() : ns;
      PodCheck.Report report =
          PodCheck.pod(
              workload.pod(),
              workload.where(),
              PodCheck.Stage.NOT_CREATED,
              read.computeIfAbsent(in, n -> read(client, n)));
      out.print(report.text());
      if (workloads.size() > 1 && workload != workloads.get(workloads.size() - 1)) {
        out.println();
      }
      status = Math.max(status, report.status());
    }
    return status;
  }

  /** The named pod as the cluster has it, or without a name the namespace. */
  private PodCheck.Report existing(KubernetesClient client, String ns) {
    PodCheck.Cluster read = read(client, ns);
    if (podName == null) {
      return PodCheck.namespace(read);
    }
    Pod pod = client.pods().inNamespace(ns).withName(podName).get();
    if (pod == null) {
      throw new CliException("pods \"%s\" not found in namespace %s".formatted(podName, ns));
    }
    return PodCheck.pod(
        Serialization.jsonMapper().valueToTree(pod), podName, PodCheck.Stage.CREATED, read);
  }

  /**
   * Every Pod and workload of -f (List items too), each in its own namespace if it names one; other
   * objects are skipped with a note. None at all is bad input.
   */
  private List<Workload> workloads() {
    ManifestReader input = folders.read(file, System.in);
    List<Workload> workloads = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    java.util.Set<String> skippedKinds = new java.util.LinkedHashSet<>();
    for (int i = 0; i < input.documents().size(); i++) {
      JsonNode document = input.documents().get(i);
      List<JsonNode> objects = new ArrayList<>();
      if (document.path("kind").asText().endsWith("List") && document.path("items").isArray()) {
        document.path("items").forEach(objects::add);
      } else {
        objects.add(document);
      }
      for (JsonNode object : objects) {
        String kind = object.path("kind").asText();
        String pointer = InjectCommand.TEMPLATES.get(kind);
        if (pointer == null) {
          skipped.add(input.where(i) + ": " + kind);
          skippedKinds.add(kind);
          continue;
        }
        String own = object.path("metadata").path("namespace").asText(null);
        if (own != null && namespace != null && !own.equals(namespace)) {
          throw new CliException(
              "the namespace of the object (%s) does not match --namespace %s"
                  .formatted(own, namespace));
        }
        workloads.add(
            new Workload(
                pointer.isEmpty() ? object : object.at(pointer),
                kind + "/" + object.path("metadata").path("name").asText("?"),
                own != null ? own : namespace));
      }
    }
    if (workloads.isEmpty()) {
      throw new CliException(
          input.source()
              + ": expected a Pod or a workload with a pod template, got kind "
              + String.join(", ", skippedKinds));
    }
    skipped.forEach(
        s -> spec.commandLine().getErr().println("note: " + s + " skipped: not a Pod or workload"));
    return workloads;
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
        policyEntries(policies, failClosedEntries(client)),
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

  /** Each policy's entry of the pod webhook configuration, and whether it fails closed yet. */
  private static Map<String, PodCheck.PolicyEntry> policyEntries(
      List<PypiMirrorPolicy> policies, Set<String> failClosed) {
    Map<String, PodCheck.PolicyEntry> entries = new java.util.HashMap<>();
    for (PypiMirrorPolicy policy : policies) {
      String entry = WebhookRoutes.entryName(policy.getMetadata().getName());
      entries.put(
          policy.getMetadata().getName(),
          new PodCheck.PolicyEntry(entry, failClosed.contains(entry)));
    }
    return entries;
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
}
