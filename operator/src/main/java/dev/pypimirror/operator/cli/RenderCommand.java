package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.admissionpolicy.InjectionPolicies;
import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.config.DependencyConfusion;
import dev.pypimirror.operator.config.InvalidMirrorException;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.config.Requirements;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.owned.CacheSync;
import dev.pypimirror.operator.owned.OwnedCacheClaim;
import dev.pypimirror.operator.owned.OwnedConfigMap;
import dev.pypimirror.operator.owned.OwnedProxyDeployment;
import dev.pypimirror.operator.owned.OwnedProxyService;
import dev.pypimirror.operator.owned.OwnedSyncCronJob;
import dev.pypimirror.operator.owned.OwnedSyncJob;
import dev.pypimirror.operator.policy.PolicyRules;
import dev.pypimirror.operator.settings.Defaults;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "render",
    mixinStandardHelpOptions = true,
    description =
        "Print the ConfigMap, (cache on) the PVC and (cache synced) the sync Job and CronJob a"
            + " PypiMirror reconciles into.",
    footerHeading = "%nExamples:%n",
    footer = {
      "  pypi-mirror-operator render -f deploy/examples/pypimirror.yaml",
      "  # every mirror of a folder, as a JSON List (other objects skipped)",
      "  pypi-mirror-operator render -f deploy/examples/ -o json",
      "  # exit 2 if the policy forbids the mirror",
      "  pypi-mirror-operator render -f deploy/examples/pypimirror-offline.yaml \\",
      "      --policy deploy/examples/pypimirrorpolicy.yaml",
      "  # the MutatingAdmissionPolicies that inject it in admission-policy mode",
      "  pypi-mirror-operator render -f deploy/examples/pypimirror.yaml \\",
      "      --injection admission-policy"
    })
class RenderCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-f", "--filename"},
      required = true,
      paramLabel = "FILE|DIR",
      description =
          "PypiMirror manifests (multi-document streams and Lists too): a file, a folder of .yaml,"
              + " .yml and .json files (its other objects skipped), or - for standard input.")
  String file;

  @Mixin RecursiveOption folders;

  @Option(
      names = "--policy",
      paramLabel = "FILE",
      description = "Refuse a mirror that this PypiMirrorPolicy forbids.")
  String policyFile;

  @Option(
      names = {"-o", "--output"},
      defaultValue = "yaml",
      paramLabel = "yaml|json",
      description = "Output format: a YAML stream or a JSON List (default: ${DEFAULT-VALUE}).")
  OutputFormat output;

  @Option(
      names = "--requirements",
      paramLabel = "FILE",
      description =
          "The requirements file the mirror's requirementsConfigMap holds, for the sync Job.")
  Path requirementsFile;

  @Option(
      names = "--injection",
      defaultValue = "webhook",
      paramLabel = "webhook|admission-policy",
      description =
          "admission-policy: also the Mutating- and ValidatingAdmissionPolicies and bindings that inject the mirrors (taken as Ready) and enforce the policy in admission-policy mode (default: ${DEFAULT-VALUE}).")
  String injection;

  @Override
  public Integer call() {
    if (!injection.equals("webhook") && !injection.equals("admission-policy")) {
      throw new CliException("--injection must be webhook or admission-policy, got " + injection);
    }
    if ("-".equals(file) && "-".equals(policyFile)) {
      throw new CliException("only one of -f and --policy can read standard input");
    }
    List<ManifestReader.Located<PypiMirror>> mirrors = mirrors();
    PypiMirrorPolicy policy =
        policyFile == null ? null : ManifestReader.read(policyFile, System.in).singlePolicy();
    List<HasMetadata> objects = new ArrayList<>();
    List<String> warnings = new ArrayList<>(); // printed only when every mirror renders
    for (ManifestReader.Located<PypiMirror> mirror : mirrors) {
      objects.addAll(objects(mirror.object(), mirror.where()));
      objects.addAll(syncObjects(mirror.object(), mirror.where(), requirementsText()));
      if (policy != null) {
        refuseViolations(mirror.object(), policy, mirror.where());
      }
      dependencyConfusion(mirror).ifPresent(warnings::add);
      noteRequirementsReadAtSyncTime(mirror.object());
    }
    if (injection.equals("admission-policy")) {
      objects.addAll(admissionPolicies(mirrors, policy));
    }
    warnings.forEach(spec.commandLine().getErr()::println);
    spec.commandLine()
        .getOut()
        .print(output.format(objects.size() == 1 ? objects.get(0) : objects));
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** The PypiMirrors of -f, other objects skipped with a note; none at all is bad input. */
  private List<ManifestReader.Located<PypiMirror>> mirrors() {
    ManifestReader input = folders.read(file, System.in);
    List<ManifestReader.Located<PypiMirror>> mirrors =
        input.mirrors(
            skipped ->
                spec.commandLine()
                    .getErr()
                    .println("note: " + skipped + " skipped: not a PypiMirror"));
    if (mirrors.isEmpty()) {
      throw new CliException(input.source() + ": no PypiMirror in the folder");
    }
    return mirrors;
  }

  /** The warning a mirror open to dependency confusion gets, naming where it was read. */
  private static Optional<String> dependencyConfusion(ManifestReader.Located<PypiMirror> mirror) {
    return DependencyConfusion.risk(mirror.object().getSpec())
        .map(
            why ->
                "warning: %s: PypiMirror %s: %s"
                    .formatted(mirror.where(), mirror.object().getMetadata().getName(), why));
  }

  /** Without --requirements, a synced cache's requirementsConfigMap is not shown: say so. */
  private void noteRequirementsReadAtSyncTime(PypiMirror mirror) {
    CacheSpec cache = mirror.getSpec().getCache();
    if (requirementsFile == null
        && cache != null
        && cache.isSynced()
        && cache.getRequirementsConfigMap() != null) {
      spec.commandLine()
          .getErr()
          .println(
              "note: the sync Job carries the requirementsConfigMap's lines as read at sync"
                  + " time; --requirements FILE shows them");
    }
  }

  private String requirementsText() {
    if (requirementsFile == null) {
      return null;
    }
    return ManifestReader.readBounded(requirementsFile.toString(), null);
  }

  /**
   * What the leader writes in admission-policy mode for these mirrors, each taken as Ready for its
   * generation (in its namespace, default {@code default}); with a policy, as in a namespace it
   * governs.
   */
  static List<HasMetadata> admissionPolicies(
      List<ManifestReader.Located<PypiMirror>> located, PypiMirrorPolicy policy) {
    List<PypiMirror> ready = located.stream().map(m -> readyAsRendered(m.object())).toList();
    MirrorDirectory directory = MirrorDirectory.of(ready);
    List<String> namespaces =
        ready.stream().map(m -> m.getMetadata().getNamespace()).distinct().sorted().toList();
    List<Object> generated = new ArrayList<>();
    for (String namespace : namespaces) {
      generated.addAll(
          InjectionPolicies.forNamespace(
                  namespace, directory, n -> Optional.ofNullable(policy), null)
              .objects());
    }
    if (policy != null) {
      generated.addAll(InjectionPolicies.forPolicy(policy, namespaces, null));
    }
    return generated.stream()
        .map(o -> (HasMetadata) SERIALIZATION.convertValue(o, GenericKubernetesResource.class))
        .toList();
  }

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  /**
   * A copy of the mirror as the leader sees one it writes policies for: Ready at its generation, in
   * its namespace (default when the file gives none).
   */
  private static PypiMirror readyAsRendered(PypiMirror mirror) {
    PypiMirror copy = SERIALIZATION.clone(mirror);
    if (copy.getMetadata().getNamespace() == null) {
      copy.getMetadata().setNamespace("default");
    }
    copy.getMetadata().setGeneration(1L);
    PypiMirrorStatus status = new PypiMirrorStatus();
    status.setObservedGeneration(1L);
    status.setConditions(
        new ArrayList<>(List.of(Conditions.of(Conditions.READY, true, "Ready", "rendered", 1))));
    copy.setStatus(status);
    return copy;
  }

  /** Exit 2 naming the policy and every rule the mirror breaks. */
  static void refuseViolations(PypiMirror mirror, PypiMirrorPolicy policy, String where) {
    List<String> violations = PolicyRules.violations(policy, mirror.getSpec());
    if (!violations.isEmpty()) {
      throw new CliException(
          where
              + ": PypiMirror "
              + mirror.getMetadata().getName()
              + " is forbidden: "
              + String.join("; ", violations));
    }
  }

  /** The objects the reconciler would create for {@code mirror}, by the same code. */
  static List<HasMetadata> objects(PypiMirror mirror, String where) {
    if (mirror.getMetadata() == null || mirror.getMetadata().getName() == null) {
      throw new CliException(where + ": metadata.name is required");
    }
    RenderedConfig rendered;
    try {
      rendered = MirrorConfigRenderer.render(mirror);
    } catch (InvalidMirrorException e) {
      throw new CliException(
          where + ": invalid PypiMirror " + mirror.getMetadata().getName() + ": " + e.getMessage());
    }
    List<HasMetadata> objects = new ArrayList<>();
    objects.add(OwnedConfigMap.desired(mirror, rendered));
    if (MirrorObjects.createsClaim(mirror)) {
      objects.add(OwnedCacheClaim.desired(mirror));
    }
    CacheSpec cache = mirror.getSpec().getCache();
    if (cache != null && cache.isProxied()) {
      objects.add(
          OwnedProxyDeployment.desired(
              mirror, Defaults.INDEX_IMAGE.defaultValue(), MirrorObjects.claimName(mirror)));
      objects.add(OwnedProxyService.desired(mirror));
    }
    return objects;
  }

  /**
   * The sync Job (and CronJob when scheduled) of a synced mirror, as the reconciler makes them;
   * {@code requirementsFile} stands for the requirementsConfigMap's content (null: none given).
   */
  static List<HasMetadata> syncObjects(PypiMirror mirror, String where, String requirementsFile) {
    CacheSpec cache = mirror.getSpec().getCache();
    if (cache == null || !cache.isSynced()) {
      return List.of();
    }
    Requirements.Parsed requirements =
        Requirements.ofPackages("spec.cache.packages", cache.getPackages());
    if (requirementsFile != null && cache.getRequirementsConfigMap() != null) {
      requirements =
          Requirements.concat(requirements, Requirements.ofFile("requirements", requirementsFile));
    }
    if (!requirements.problems().isEmpty()) {
      throw new CliException(where + ": " + String.join("; ", requirements.problems()));
    }
    CacheSync.Plan plan =
        CacheSync.plan(
            mirror,
            MirrorObjects.claimName(mirror),
            Defaults.INDEX_IMAGE.defaultValue(),
            requirements);
    List<HasMetadata> objects = new ArrayList<>();
    objects.add(OwnedSyncJob.desired(mirror, plan));
    if (cache.getSync() != null && cache.getSync().getSchedule() != null) {
      objects.add(OwnedSyncCronJob.desired(mirror, plan));
    }
    objects.forEach(o -> o.getMetadata().setOwnerReferences(null));
    return objects;
  }
}
