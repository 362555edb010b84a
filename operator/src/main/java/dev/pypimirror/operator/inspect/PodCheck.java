package dev.pypimirror.operator.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.admissionpolicy.InjectionPolicies;
import dev.pypimirror.operator.api.Annotations;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.InjectionPlan.Outcome;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.inject.MirrorSelector;
import dev.pypimirror.operator.inject.PodInjector;
import dev.pypimirror.operator.inject.PodMetadata;
import dev.pypimirror.operator.policy.Governance;
import dev.pypimirror.operator.policy.LabelSelectors;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.policy.PolicyMirrors;
import dev.pypimirror.operator.policy.PolicyRules;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Why a pod is (not) injected: the webhook's own decision ({@link PodInjector}) on a snapshot of
 * the cluster, explained with the rule of the contract, the policy, the mirror's readiness and, for
 * an existing pod, whether it carries what the decision says. Pure: {@code check} reads the cluster
 * and prints the report.
 */
public final class PodCheck {
  /** Exit statuses of {@code check}, for scripts. */
  public static final int OK = 0;

  public static final int NOT_A_TARGET = 3;
  public static final int NO_MIRROR = 4;
  public static final int DIFFERS = 5;

  /**
   * A policy's own entry of the pod webhook configuration.
   *
   * @param name the entry's name
   * @param failsClosed whether the configuration holds it with failurePolicy Fail
   */
  public record PolicyEntry(String name, boolean failsClosed) {}

  /**
   * What {@code check} read from the cluster.
   *
   * @param policyEntries each policy's webhook entry, by policy name
   * @param admissionPolicies the admission policies the operator wrote ({@code kind/name}): empty
   *     in webhook mode
   */
  public record Cluster(
      String namespace,
      Map<String, String> namespaceLabels,
      List<PypiMirrorPolicy> policies,
      List<PypiMirror> mirrors,
      String operatorNamespace,
      Map<String, PolicyEntry> policyEntries,
      Set<String> admissionPolicies) {

    Optional<PypiMirrorPolicy> governing() {
      return Governance.governing(policies, namespace, namespaceLabels, operatorNamespace);
    }

    PolicyDirectory governingDirectory() {
      PypiMirrorPolicy policy = governing().orElse(null);
      return anyNamespace -> Optional.ofNullable(policy);
    }

    /** The mirrors read, each in its namespace (the one checked). */
    MirrorDirectory directory() {
      return MirrorDirectory.of(mirrors);
    }
  }

  /** Whether the pod checked exists in the cluster (then what it carries is checked too). */
  public enum Stage {
    CREATED,
    NOT_CREATED
  }

  /** The report: label/value lines in order, and the exit status. */
  public record Report(Map<String, List<String>> lines, int status) {
    public String text() {
      int width = lines.keySet().stream().mapToInt(String::length).max().orElse(0) + 2;
      StringBuilder out = new StringBuilder();
      lines.forEach(
          (label, values) -> {
            for (int i = 0; i < values.size(); i++) {
              String head = i == 0 ? label + ":" : "";
              out.append(head).append(" ".repeat(width - head.length())).append(values.get(i));
              out.append('\n');
            }
          });
      return out.toString();
    }
  }

  /** A line (or lines) of the report and the exit status it leads to. */
  private record Said(List<String> lines, int status) {}

  private PodCheck() {}

  /**
   * @param pod the pod (or a workload's pod template) as JSON
   * @param name how to call it in the report
   */
  public static Report pod(JsonNode pod, String name, Stage stage, Cluster cluster) {
    boolean existing = stage == Stage.CREATED;
    Map<String, String> annotations = PodMetadata.annotations(pod);
    PypiMirrorPolicy policy = cluster.governing().orElse(null);
    // an existing pod is decided afresh, as its author wrote it (without our markers)
    JsonNode decided = existing ? withoutMarkers(pod) : pod;
    InjectionPlan plan =
        PodInjector.inject(
            decided,
            cluster.namespace(),
            cluster.operatorNamespace(),
            cluster.directory(),
            cluster.governingDirectory());
    var facts =
        new MirrorSelector.PodFacts(annotations, PodMetadata.labels(pod), cluster.namespace());
    ContractRule rule =
        rule(
            MirrorSelector.rule(facts, policy, cluster.operatorNamespace()),
            plan,
            annotations,
            policy);

    Map<String, List<String>> lines = new LinkedHashMap<>();
    lines.put(
        "Pod", List.of(cluster.namespace() + "/" + name + (existing ? "" : " (not created)")));
    lines.put("Policy", List.of(describePolicy(policy, facts.labels(), cluster)));
    lines.put("Rule", List.of(rule.line()));
    lines.put("Mirrors", mirrorLines(cluster));
    Said decision = decision(plan, decided);
    if (cluster.admissionPolicies().isEmpty()) {
      lines.put("Webhook would", decision.lines());
    } else {
      lines.put("Admission would", decision.lines());
      lines.put(
          "By", List.of(carrier(plan, chosenMirror(facts, policy, cluster), policy, cluster)));
    }
    if (rule.rule() == MirrorSelector.Rule.NOT_ASKED) {
      lines.put("To inject it", List.of(howToInject(policy)));
    }
    String carried = annotations.get(Annotations.INJECTED);
    if (!plan.warnings().isEmpty() && !(existing && carried != null)) {
      // an injected pod re-planned would report the webhook's own mounts as the pod's
      lines.put("Warnings", plan.warnings());
    }
    if (!existing) {
      return new Report(lines, decision.status());
    }
    Said carries = carries(pod, plan, carried);
    lines.put("Pod carries", carries.lines());
    return new Report(lines, carries.status() == DIFFERS ? DIFFERS : decision.status());
  }

  /** What the webhook (or the admission policies) would do with the pod, and the exit status. */
  private static Said decision(InjectionPlan plan, JsonNode decided) {
    return switch (plan.outcome()) {
      case INJECTED -> {
        List<String> lines = new ArrayList<>();
        lines.add("inject PypiMirror " + plan.mirror() + ", adding:");
        PatchDescription.describe(decided, plan.patch()).forEach(l -> lines.add("  " + l));
        yield new Said(lines, OK);
      }
      case UNTOUCHED -> new Said(List.of("leave the pod untouched: " + plan.why()), NOT_A_TARGET);
      case ALREADY_INJECTED ->
          new Said(
              List.of("leave the pod untouched: it is already injected (" + plan.mirror() + ")"),
              OK);
      case SKIPPED ->
          new Said(
              List.of(
                  "admit the pod without a mirror, annotated pypimirror.dev/skipped: "
                      + plan.skipped()),
              NO_MIRROR);
      case DENIED -> new Said(List.of("refuse the pod: " + plan.refusal()), NO_MIRROR);
    };
  }

  /** The mirror selection gives the pod, whether or not it can be injected; or null. */
  private static String chosenMirror(
      MirrorSelector.PodFacts facts, PypiMirrorPolicy policy, Cluster cluster) {
    MirrorSelector.Selection chosen =
        MirrorSelector.select(
            facts, policy, cluster.operatorNamespace(), cluster.directory(), new ArrayList<>());
    return chosen instanceof MirrorSelector.Selection.Use use
        ? use.mirror().getMetadata().getName()
        : null;
  }

  private static String howToInject(PypiMirrorPolicy policy) {
    return "annotate it pypimirror.dev/mirror: NAME, or pypimirror.dev/inject: \"true\" for the"
        + " namespace's default mirror"
        + (policy != null && policy.getSpec().getPodSelector() != null
            ? ", or label it to match the policy's podSelector"
            : "");
  }

  /**
   * Whether an existing pod carries what the decision gives it: planned afresh, a pod that holds
   * the mirror's content gets only the marker, which must match the one it carries.
   */
  private static Said carries(JsonNode pod, InjectionPlan plan, String carried) {
    InjectionPlan.Injected injected = plan.injected();
    if (injected == null) {
      return carried == null
          ? new Said(List.of("no mirror, as decided"), OK)
          : differs(
              "pypimirror.dev/injected: %s, though the webhook would not inject it now"
                  .formatted(carried));
    }
    if (carried == null) {
      return differs(
          "no pypimirror.dev/injected: created while the webhook was unavailable or the mirror"
              + " was not Ready; recreate it to get the mirror");
    }
    String expected = injected.marker();
    if (!carried.equals(expected)) {
      return differs(
          carried.startsWith(injected.mirror() + "@")
              ? "pypimirror.dev/injected: %s, but the mirror's configuration is now %s (changed since the pod was created); recreate it to pick that up"
                  .formatted(carried, expected)
              : "pypimirror.dev/injected: %s, but it would get %s now"
                  .formatted(carried, expected));
    }
    String configMap = MirrorObjects.configMapName(injected.mirror());
    if (!hasConfigVolume(pod, configMap)) {
      return differs(
          "pypimirror.dev/injected: %s, but no volume of ConfigMap %s: the marker was not written by the webhook"
              .formatted(carried, configMap));
    }
    return new Said(
        List.of(
            "pypimirror.dev/injected: %s, the mirror's current configuration".formatted(carried)),
        OK);
  }

  private static Said differs(String verdict) {
    return new Said(List.of(verdict), DIFFERS);
  }

  /**
   * In admission-policy mode (the operator wrote admission policies for the namespace): which of
   * them carries the decision, as kube-apiserver applies it, and whether it is in the cluster yet.
   */
  public static String carrier(
      InjectionPlan plan, String mirror, PypiMirrorPolicy policy, Cluster cluster) {
    String ns = cluster.namespace();
    String kind;
    String name;
    switch (plan.outcome()) {
      case INJECTED, ALREADY_INJECTED -> {
        kind = "MutatingAdmissionPolicy";
        name = InjectionPolicies.objectName(ns, plan.mirror());
      }
      case SKIPPED -> {
        kind = "MutatingAdmissionPolicy";
        name = InjectionPolicies.skippedName(ns);
      }
      case DENIED -> {
        kind = "ValidatingAdmissionPolicy";
        if (mirror != null) {
          // the pod's mirror is usable: what the pod holds is refused
          name = InjectionPolicies.objectName(ns, mirror);
        } else {
          name =
              cluster.mirrors().isEmpty() && policy != null
                  ? InjectionPolicies.policyName(policy.getMetadata().getName())
                  : InjectionPolicies.unavailableName(ns);
        }
      }
      default -> {
        return "no admission policy: none selects the pod";
      }
    }
    return "%s %s%s"
        .formatted(
            kind,
            name,
            cluster.admissionPolicies().contains(kind + "/" + name)
                ? ""
                : " (not in the cluster yet: the leader writes it within 15 s)");
  }

  /** What a new pod in the namespace gets: the policy, the mirrors, the default mirror. */
  public static Report namespace(Cluster cluster) {
    Map<String, List<String>> lines = new LinkedHashMap<>();
    PypiMirrorPolicy policy = cluster.governing().orElse(null);
    lines.put("Namespace", List.of(cluster.namespace()));
    lines.put("Policy", List.of(describePolicy(policy, null, cluster)));
    lines.put("Mirrors", mirrorLines(cluster));
    InjectionPlan asked =
        PodInjector.inject(
            optedInProbe(),
            cluster.namespace(),
            cluster.operatorNamespace(),
            cluster.directory(),
            cluster.governingDirectory());
    String answer =
        switch (asked.outcome()) {
          case INJECTED -> "PypiMirror " + asked.mirror();
          case UNTOUCHED -> "nothing: " + asked.why();
          case DENIED -> "refused: " + asked.refusal();
          default -> "no mirror: " + String.join("; ", asked.warnings());
        };
    lines.put("inject: \"true\" gets", List.of(answer));
    if (PolicyRules.enforces(policy)) {
      lines.put("Fail-closed", List.of(failClosed(policy, cluster)));
    }
    return new Report(lines, asked.outcome() == Outcome.INJECTED ? OK : NO_MIRROR);
  }

  /** A rule of the contract's "Which pods" list and what it means for this pod. */
  record ContractRule(MirrorSelector.Rule rule, String text) {
    String line() {
      return rule.number() + ". " + text;
    }
  }

  /** What the rule of the contract that decided ({@code rule}) means for this pod. */
  static ContractRule rule(
      MirrorSelector.Rule rule,
      InjectionPlan plan,
      Map<String, String> annotations,
      PypiMirrorPolicy policy) {
    String policyName = policy == null ? null : policy.getMetadata().getName();
    String text =
        switch (rule) {
          case NEVER_INJECTED -> "never injected: " + plan.why();
          case OPTED_OUT ->
              PolicyRules.enforces(policy)
                  ? "pypimirror.dev/inject: \"false\", ignored: PypiMirrorPolicy %s enforces the mirror"
                      .formatted(policyName)
                  : "pypimirror.dev/inject: \"false\": opted out";
          case NAMED_MIRROR ->
              "pypimirror.dev/mirror: "
                  + annotations.get(Annotations.MIRROR).trim()
                  + ": that PypiMirror of the namespace";
          case NAMESPACE_DEFAULT ->
              "pypimirror.dev/inject: \"true\": the namespace's default mirror";
          case POLICY_SELECTED ->
              "selected by PypiMirrorPolicy %s's podSelector: the policy's mirror"
                  .formatted(policyName);
          case NOT_ASKED ->
              "no pypimirror.dev/mirror or pypimirror.dev/inject annotation"
                  + (policy == null
                      ? ""
                      : " and not selected by the podSelector of PypiMirrorPolicy " + policyName)
                  + ": untouched";
        };
    return new ContractRule(rule, text);
  }

  private static String describePolicy(
      PypiMirrorPolicy policy, Map<String, String> podLabels, Cluster cluster) {
    if (policy == null) {
      return "none governs namespace " + cluster.namespace();
    }
    PypiMirrorPolicySpec spec = policy.getSpec();
    StringBuilder text =
        new StringBuilder(
            "%s (%s, priority %d) governs namespace %s"
                .formatted(
                    policy.getMetadata().getName(),
                    spec.getEnforcement(),
                    spec.getPriority(),
                    cluster.namespace()));
    text.append("; podSelector ").append(selector(spec.getPodSelector()));
    if (podLabels != null && spec.getPodSelector() != null) {
      text.append(
          LabelSelectors.matches(spec.getPodSelector(), podLabels)
              ? " (matches)"
              : " (does not match)");
    }
    return text.toString();
  }

  private static String selector(LabelSelector selector) {
    if (selector == null) {
      return "none (selects no pod)";
    }
    List<String> terms = new ArrayList<>();
    if (selector.getMatchLabels() != null) {
      selector.getMatchLabels().forEach((k, v) -> terms.add(k + "=" + v));
    }
    if (selector.getMatchExpressions() != null) {
      selector
          .getMatchExpressions()
          .forEach(
              e ->
                  terms.add(
                      e.getKey()
                          + " "
                          + e.getOperator()
                          + (e.getValues() == null || e.getValues().isEmpty()
                              ? ""
                              : " " + e.getValues())));
    }
    return terms.isEmpty() ? "{} (every pod)" : String.join(", ", terms);
  }

  /** Each mirror of the namespace: Ready for its current generation, or why not. */
  static List<String> mirrorLines(Cluster cluster) {
    if (cluster.mirrors().isEmpty()) {
      return List.of("none in namespace " + cluster.namespace());
    }
    return cluster.mirrors().stream()
        .sorted(Comparator.comparing(m -> m.getMetadata().getName()))
        .map(PodCheck::readiness)
        .toList();
  }

  public static String readiness(PypiMirror mirror) {
    String name = mirror.getMetadata().getName();
    Long generation = mirror.getMetadata().getGeneration();
    List<String> marks = new ArrayList<>();
    var annotations = mirror.getMetadata().getAnnotations();
    if (annotations != null && "true".equals(annotations.get(Annotations.DEFAULT))) {
      marks.add("default");
    }
    var mirrorLabels = mirror.getMetadata().getLabels();
    if (mirrorLabels != null && mirrorLabels.containsKey(PolicyMirrors.MADE_BY_POLICY_LABEL)) {
      marks.add("made by PypiMirrorPolicy " + mirrorLabels.get(PolicyMirrors.MADE_BY_POLICY_LABEL));
    }
    if (mirror.getStatus() == null) {
      return name + ": not reconciled yet (no status)" + suffix(marks);
    }
    if (mirror.getStatus().getProxyUrl() != null) {
      marks.add(
          "served by its caching proxy "
              + mirror.getStatus().getProxyUrl()
              + mirror
                  .getStatus()
                  .condition(Conditions.PROXY_READY)
                  .map(p -> ", ProxyReady " + p.getStatus() + " (" + p.getReason() + ")")
                  .orElse(""));
    }
    String suffix = suffix(marks);
    Optional<Condition> ready = mirror.getStatus().condition("Ready");
    Long observed = mirror.getStatus().getObservedGeneration();
    if (ready.isEmpty()) {
      return name + ": not reconciled yet (no Ready condition)" + suffix;
    }
    Condition c = ready.get();
    String state =
        "True".equals(c.getStatus())
            ? "Ready"
            : "not Ready (%s: %s)".formatted(c.getReason(), c.getMessage());
    if (generation != null && observed != null && !generation.equals(observed)) {
      return "%s: %s for generation %d, but the spec is at generation %d (not reconciled yet)%s"
          .formatted(name, state, observed, generation, suffix);
    }
    return "%s: %s%s%s"
        .formatted(name, state, generation == null ? "" : " for generation " + generation, suffix);
  }

  private static String suffix(List<String> marks) {
    return marks.isEmpty() ? "" : " [" + String.join(", ", marks) + "]";
  }

  /** The pod as its author wrote it, as far as our markers go: decided afresh. */
  private static JsonNode withoutMarkers(JsonNode pod) {
    JsonNode copy = pod.deepCopy();
    if (copy.path("metadata").path("annotations") instanceof ObjectNode a) {
      a.remove(Annotations.INJECTED);
      a.remove(Annotations.SKIPPED);
    }
    return copy;
  }

  private static boolean hasConfigVolume(JsonNode pod, String configMap) {
    for (JsonNode volume : pod.path("spec").path("volumes")) {
      if (configMap.equals(volume.path("configMap").path("name").asText(null))) {
        return true;
      }
    }
    return false;
  }

  /** Whether the pods of an Enforce policy's namespaces go through its fail-closed entry. */
  private static String failClosed(PypiMirrorPolicy policy, Cluster cluster) {
    PolicyEntry entry = cluster.policyEntries().get(policy.getMetadata().getName());
    return entry.failsClosed()
        ? "yes: webhook entry %s fails closed".formatted(entry.name())
        : "not yet: no fail-closed webhook entry %s (the operator's leader writes it; until then pods go through the fail-open entry)"
            .formatted(entry.name());
  }

  /** A minimal pod that asks for the namespace's default mirror. */
  private static ObjectNode optedInProbe() {
    ObjectNode pod = JsonNodeFactory.instance.objectNode();
    pod.putObject("metadata").putObject("annotations").put(Annotations.INJECT, "true");
    pod.putObject("spec").putArray("containers").addObject().put("name", "probe");
    return pod;
  }
}
