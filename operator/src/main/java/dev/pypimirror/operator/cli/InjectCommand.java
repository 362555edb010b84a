package dev.pypimirror.operator.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.inject.PodInjector;
import dev.pypimirror.operator.inject.Requester;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.policy.PolicyMirrors;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "inject",
    mixinStandardHelpOptions = true,
    description = {
      "Print Pods and workloads with the mirror injected, as the webhook would (like istioctl"
          + " kube-inject). Without --policy every pod that does not opt out gets the given"
          + " mirror; with --policy pods are decided as the webhook decides them in a namespace"
          + " that policy governs. Other objects pass through unchanged."
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  pypi-mirror-operator inject -f deploy/examples/build-job.yaml \\",
      "      --mirror deploy/examples/pypimirror.yaml",
      "  # as a namespace the policy governs gets them (its own mirror, Enforce)",
      "  pypi-mirror-operator inject -f deploy/examples/build-job.yaml \\",
      "      --policy deploy/examples/pypimirrorpolicy.yaml",
      "  # every manifest of a folder and its subfolders",
      "  pypi-mirror-operator inject -f deploy/examples/ -R \\",
      "      --mirror deploy/examples/pypimirror.yaml",
      "  # a workload of the cluster",
      "  kubectl get deploy -n builds app -o yaml \\",
      "      | pypi-mirror-operator inject -f - \\",
      "      --mirror deploy/examples/pypimirror.yaml"
    })
class InjectCommand implements Callable<Integer> {
  /** Where each workload kind keeps its pod template. */
  static final Map<String, String> TEMPLATES =
      Map.of(
          "Pod", "",
          "Deployment", "/spec/template",
          "StatefulSet", "/spec/template",
          "DaemonSet", "/spec/template",
          "ReplicaSet", "/spec/template",
          "Job", "/spec/template",
          "CronJob", "/spec/jobTemplate/spec/template");

  @Spec CommandSpec spec;

  @Option(
      names = {"-f", "--filename"},
      required = true,
      paramLabel = "FILE|DIR",
      description =
          "Pods, workloads, multi-document streams or Lists: a file, a folder of .yaml, .yml and"
              + " .json files, or - for standard input.")
  String file;

  @Mixin RecursiveOption folders;

  @Option(
      names = "--mirror",
      paramLabel = "FILE",
      description = "The PypiMirror to inject (default: the policy's own mirror).")
  String mirrorFile;

  @Option(
      names = "--policy",
      paramLabel = "FILE",
      description =
          "A PypiMirrorPolicy taken to govern the objects' namespaces: pods are decided as the webhook decides them there (podSelector, enforcement, rules).")
  String policyFile;

  @Option(
      names = {"-o", "--output"},
      defaultValue = "yaml",
      paramLabel = "yaml|json",
      description = "Output format (default: ${DEFAULT-VALUE}).")
  OutputFormat output;

  @Override
  public Integer call() {
    long fromStdin =
        java.util.stream.Stream.of(file, mirrorFile, policyFile).filter("-"::equals).count();
    if (fromStdin > 1) {
      throw new CliException("only one of -f, --mirror and --policy can read standard input");
    }
    PypiMirrorPolicy policy =
        policyFile == null ? null : ManifestReader.read(policyFile, System.in).singlePolicy();
    PypiMirror mirror;
    String mirrorSource;
    if (mirrorFile != null) {
      ManifestReader mirrorInput = ManifestReader.read(mirrorFile, System.in);
      mirror = mirrorInput.singleMirror();
      mirrorSource = mirrorInput.source();
    } else if (policy != null && policy.getSpec().getMirror() != null) {
      mirror = PolicyMirrors.desired(policy);
      mirrorSource = policyFile;
    } else {
      throw new CliException(
          "inject needs --mirror FILE, or --policy FILE with a spec.mirror: the PypiMirror to inject");
    }
    RenderCommand.objects(mirror, mirrorSource); // refuses an invalid mirror, exit 2
    if (policy != null) {
      RenderCommand.refuseViolations(mirror, policy, mirrorSource);
    }
    ManifestReader input = folders.read(file, System.in);
    PrintWriter err = spec.commandLine().getErr();
    MirrorDirectory mirrors = offline(mirror, policy);
    PolicyDirectory policies =
        policy == null ? PolicyDirectory.NONE : namespace -> Optional.of(policy);
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode document : input.documents()) {
      out.add(injectInto(document.deepCopy(), mirror, mirrors, policies, err));
    }
    spec.commandLine().getOut().print(output.format(out.size() == 1 ? out.get(0) : out));
    spec.commandLine().getOut().flush();
    err.flush();
    return 0;
  }

  /**
   * Injects a Pod or a workload's template, recursing into Lists; anything else is returned as is.
   */
  static JsonNode injectInto(
      JsonNode object,
      PypiMirror mirror,
      MirrorDirectory mirrors,
      PolicyDirectory policies,
      PrintWriter warnings) {
    String kind = object.path("kind").asText();
    if (kind.endsWith("List") && object.path("items").isArray()) {
      ArrayNode items = (ArrayNode) object.path("items");
      for (int i = 0; i < items.size(); i++) {
        items.set(i, injectInto(items.get(i), mirror, mirrors, policies, warnings));
      }
      return object;
    }
    String pointer = TEMPLATES.get(kind);
    if (pointer == null || !object.at(pointer).isObject()) {
      return object;
    }
    Placed placed = Placed.of(object);
    JsonNode template = object.at(pointer);
    // with a policy, the pod is decided as the webhook decides it; without, asking is the opt-in
    Requester requester =
        policies == PolicyDirectory.NONE ? Requester.OFFLINE_OPT_IN : Requester.CLIENT;
    InjectionPlan plan =
        PodInjector.inject(template, placed.namespace(), null, mirrors, policies, requester);
    tell(plan, placed.where(), warnings);
    if (plan.outcome() != InjectionPlan.Outcome.INJECTED) {
      return object; // offline, a skip annotation would describe this machine, not the cluster
    }
    checkNamespace(mirror, placed, warnings);
    return withTemplate(object, pointer, JsonPatch.apply(plan.patch(), template));
  }

  /**
   * Where an object goes: its own namespace (null when it names none), the namespace it is decided
   * in, and how to call it.
   */
  private record Placed(String ownNamespace, String namespace, String where) {
    static Placed of(JsonNode object) {
      String own = object.path("metadata").path("namespace").asText(null);
      return new Placed(
          own,
          own == null ? "default" : own,
          object.path("kind").asText() + "/" + object.path("metadata").path("name").asText("?"));
    }
  }

  /** The plan's warnings, and why the object is not injected when it is not. */
  private static void tell(InjectionPlan plan, String where, PrintWriter warnings) {
    plan.warnings().forEach(w -> warnings.println("warning: " + where + ": " + w));
    if (plan.outcome() == InjectionPlan.Outcome.DENIED) {
      warnings.println(
          "warning: " + where + ": the cluster would refuse this pod: " + plan.refusal());
    }
    if (plan.outcome() == InjectionPlan.Outcome.UNTOUCHED) {
      warnings.println("note: " + where + ": not injected: " + plan.why());
    }
  }

  /**
   * A mirror of another namespace: refused for an object that names its namespace (it would mount
   * what exists only there), a warning for one that does not.
   */
  private static void checkNamespace(PypiMirror mirror, Placed placed, PrintWriter warnings) {
    String mirrorNamespace = mirror.getMetadata().getNamespace();
    if (mirrorNamespace == null || mirrorNamespace.equals(placed.namespace())) {
      return;
    }
    String claim = MirrorObjects.mountedClaimName(mirror);
    if (placed.ownNamespace() != null) {
      throw new CliException(
          "%s is in namespace %s, but PypiMirror %s is in namespace %s: the pod would mount ConfigMap %s%s, which exist only there; use a mirror of namespace %s"
              .formatted(
                  placed.where(),
                  placed.namespace(),
                  mirror.getMetadata().getName(),
                  mirrorNamespace,
                  MirrorObjects.configMapName(mirror.getMetadata().getName()),
                  claim == null ? "" : " and PVC " + claim,
                  placed.namespace()));
    }
    warnings.println(
        "warning: %s: has no namespace; create it in namespace %s, where PypiMirror %s's ConfigMap%s are"
            .formatted(
                placed.where(),
                mirrorNamespace,
                mirror.getMetadata().getName(),
                claim == null ? "" : " and PVC"));
  }

  /** The object with the pod template at {@code pointer} replaced ("": the object is the pod). */
  private static JsonNode withTemplate(JsonNode object, String pointer, JsonNode template) {
    if (pointer.isEmpty()) {
      return template;
    }
    int cut = pointer.lastIndexOf('/');
    ((ObjectNode) object.at(pointer.substring(0, cut))).set(pointer.substring(cut + 1), template);
    return object;
  }

  /**
   * The given mirror, taken as Ready, in whatever namespace the object is; with a policy it also
   * stands for the policy's own mirror.
   */
  static MirrorDirectory offline(PypiMirror mirror, PypiMirrorPolicy policy) {
    return new MirrorDirectory() {
      @Override
      public Optional<PypiMirror> get(String namespace, String name) {
        boolean policyName = policy != null && name.equals(policy.getMetadata().getName());
        return name.equals(mirror.getMetadata().getName()) || policyName
            ? Optional.of(readyIn(namespace, name))
            : Optional.empty();
      }

      @Override
      public List<PypiMirror> inNamespace(String namespace) {
        return List.of(readyIn(namespace, mirror.getMetadata().getName()));
      }

      private PypiMirror readyIn(String namespace, String name) {
        PypiMirror copy = Serialization.clone(mirror);
        copy.getMetadata().setNamespace(namespace);
        copy.getMetadata().setName(name);
        if (policy != null && name.equals(policy.getMetadata().getName())) {
          copy.getMetadata().setLabels(Map.of(PolicyMirrors.MADE_BY_POLICY_LABEL, name));
        }
        PypiMirrorStatus status = new PypiMirrorStatus();
        status.setConditions(
            List.of(Conditions.of(Conditions.READY, true, Conditions.REASON_READY, "offline", 0)));
        copy.setStatus(status);
        return copy;
      }
    };
  }
}
