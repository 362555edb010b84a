package dev.pypimirror.operator.admissionpolicy;

import static dev.pypimirror.operator.admissionpolicy.CelText.string;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.Annotations;
import dev.pypimirror.operator.api.InjectionSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.SystemNamespaces;
import dev.pypimirror.operator.config.InvalidMirrorException;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.inject.MirrorSelector;
import dev.pypimirror.operator.inject.MirrorSelector.Selection;
import dev.pypimirror.operator.inject.PolicyMode;
import dev.pypimirror.operator.policy.LabelSelectors;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.policy.PolicyRules;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The webhook's injection as MutatingAdmissionPolicies (admissionregistration.k8s.io/v1, Kubernetes
 * 1.36+): for one namespace, a policy and its binding per mirror a pod there can get, whose CEL
 * makes the same choice as {@link MirrorSelector} and the same additions as {@code
 * inject.PodPatchPlanner}, and one that marks pods that asked for a mirror they cannot get ({@code
 * pypimirror.dev/skipped}). Pure: the mirrors' readiness and the namespace default are decided here
 * by the webhook's own selection and written into the expressions as literals; the operator
 * rewrites the objects when they change.
 *
 * <p>Under an Enforce policy the mutating policies inject as the webhook does under Enforce (every
 * container, the opt-out overridden without the cache, the environment rewritten by the
 * allow-list), and ValidatingAdmissionPolicies ({@link EnforcePolicies}) refuse what the webhook
 * refuses; {@link #forPolicy} covers the namespaces without mirrors. Left to the webhook:
 * containers that {@code kubectl debug} adds to a running pod (an update of {@code
 * pods/ephemeralcontainers}).
 */
public final class InjectionPolicies {
  public static final String API_VERSION = "admissionregistration.k8s.io/v1";
  public static final String POLICY_KIND = "MutatingAdmissionPolicy";
  public static final String BINDING_KIND = "MutatingAdmissionPolicyBinding";
  public static final String VALIDATING_KIND = "ValidatingAdmissionPolicy";

  /** Label on every object generated here, with the namespace it serves. */
  public static final String NAMESPACE_LABEL = "pypimirror.dev/namespace";

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final String ANNOTATIONS = "object.metadata.annotations";
  private static final String HAS_ANNOTATIONS = "has(object.metadata.annotations)";

  /** Volume names tried for each of the mirror's volumes: base, base-2, ... (as the webhook). */
  static final int VOLUME_NAME_CANDIDATES = 32;

  /** What admission-policy mode writes for a namespace. */
  public record Generated(List<ObjectNode> objects) {
    public Generated {
      objects = List.copyOf(objects);
    }
  }

  private InjectionPolicies() {}

  /**
   * The policies and bindings for every pod created in {@code namespace}.
   *
   * @param operatorNamespace the operator's own namespace (never injected), or null
   */
  public static Generated forNamespace(
      String namespace,
      MirrorDirectory mirrors,
      PolicyDirectory policies,
      String operatorNamespace) {
    if (SystemNamespaces.NAMES.contains(namespace) || namespace.equals(operatorNamespace)) {
      return new Generated(List.of());
    }
    PypiMirrorPolicy policy = policies.governing(namespace).orElse(null);
    PolicyMode mode = PolicyMode.of(policy);
    Targets targets = targets(namespace, policy, mirrors);
    String podSelected = podSelected(policy);
    List<ObjectNode> objects = new ArrayList<>();
    for (Target target : targets.usable().values()) {
      objects.addAll(injecting(namespace, target, mode, podSelected));
    }
    if (mode.enforce()) {
      String name = unavailableName(namespace);
      objects.add(
          EnforcePolicies.unavailable(
              name, namespace, mode, unavailableProblem(namespace, targets, podSelected, mirrors)));
      objects.add(binding(EnforcePolicies.KIND, name, namespace));
      return new Generated(objects);
    }
    String skips =
        skips(
            targets.usable().keySet(),
            usable(targets.byDefault(), mirrors) == null,
            targets.byDefault(),
            podSelected,
            targets.byPolicy());
    if (skips != null) {
      String name = skippedName(namespace);
      objects.add(
          policy(name, namespace, skips.split("\n")[0], Map.of(), skips.split("\n")[1], false));
      objects.add(binding(POLICY_KIND, name, namespace));
    }
    return new Generated(objects);
  }

  /**
   * The mirrors a pod of the namespace can get (by name, as the namespace default, by the policy),
   * why each named one cannot, and the default's and the policy's selections.
   */
  private record Targets(
      Map<String, Target> usable,
      Map<String, String> namedProblems,
      Selection byDefault,
      Selection byPolicy) {}

  private static Targets targets(
      String namespace, PypiMirrorPolicy policy, MirrorDirectory mirrors) {
    Map<String, Target> usable = new LinkedHashMap<>();
    Map<String, String> namedProblems = new java.util.TreeMap<>();
    Selection byDefault = choose(facts(namespace, Annotations.INJECT, "true"), policy, mirrors);
    Selection byPolicy = policyChoice(policy, namespace, mirrors);
    for (PypiMirror mirror : mirrors.inNamespace(namespace)) {
      String name = mirror.getMetadata().getName();
      Selection named = choose(facts(namespace, Annotations.MIRROR, name), policy, mirrors);
      if (usable(named, mirrors) != null) {
        usable.computeIfAbsent(name, n -> new Target(mirror, mirrors)).named = true;
      } else {
        namedProblems.put(name, problem(named, mirrors));
      }
    }
    PypiMirror defaultMirror = usable(byDefault, mirrors);
    if (defaultMirror != null) {
      target(usable, defaultMirror, mirrors).byDefault = true;
    }
    PypiMirror policyMirror = usable(byPolicy, mirrors);
    if (policyMirror != null) {
      target(usable, policyMirror, mirrors).byPolicy = true;
    }
    return new Targets(usable, namedProblems, byDefault, byPolicy);
  }

  /** A mirror's mutating policy and binding, and under Enforce its refusals and their binding. */
  private static List<ObjectNode> injecting(
      String namespace, Target target, PolicyMode mode, String podSelected) {
    String name = objectName(namespace, target.mirror.getMetadata().getName());
    Map<String, String> variables =
        InjectionExpression.variables(target.mirror, target.rendered, mode);
    String selects = target.selects(podSelected, mode.enforce());
    List<ObjectNode> objects = new ArrayList<>();
    objects.add(
        policy(
            name,
            namespace,
            selects,
            variables,
            InjectionExpression.patch(target.mirror, target.rendered, mode),
            mode.enforce()));
    objects.add(binding(POLICY_KIND, name, namespace));
    if (mode.enforce()) {
      objects.add(
          EnforcePolicies.refusals(
              name, namespace, mode, selects, variables, target.mirror, target.rendered));
      objects.add(binding(EnforcePolicies.KIND, name, namespace));
    }
    return objects;
  }

  /**
   * Under Enforce, why a pod of the namespace gets no mirror ('' when it gets one): the policy's
   * mirror for an opt-out, the named mirror's problem, the default's, or the policy's.
   */
  private static String unavailableProblem(
      String namespace, Targets targets, String podSelected, MirrorDirectory mirrors) {
    return "%s ? %s : (%s ? (%s in %s ? %s[%s] : (%s in %s ? '' : %s + %s + ' not found')) : (%s ? %s : (%s ? %s : '')))"
        .formatted(
            OPTED_OUT,
            string(problem(targets.byPolicy(), mirrors)),
            NAMED,
            NAMED_VALUE,
            mapOf(targets.namedProblems()),
            mapOf(targets.namedProblems()),
            NAMED_VALUE,
            NAMED_VALUE,
            CelText.strings(
                targets.usable().values().stream()
                    .filter(t -> t.named)
                    .map(t -> t.mirror.getMetadata().getName())
                    .toList()),
            string("PypiMirror " + namespace + "/"),
            NAMED_VALUE,
            INJECT_TRUE,
            string(problem(targets.byDefault(), mirrors)),
            podSelected == null ? "false" : podSelected,
            string(problem(targets.byPolicy(), mirrors)));
  }

  /**
   * What admission-policy mode writes for an Enforce policy beyond its namespaces that hold mirrors
   * ({@link #forNamespace} covers those): a ValidatingAdmissionPolicy refusing, in every other
   * namespace it governs, the pods the webhook would refuse there (they ask for a mirror, or the
   * policy selects them, and there is none). Empty for a policy that does not enforce or has an
   * invalid selector.
   *
   * @param namespacesWithMirrors left out of the binding: {@link #forNamespace} covers them
   */
  public static List<ObjectNode> forPolicy(
      PypiMirrorPolicy policy,
      java.util.Collection<String> namespacesWithMirrors,
      String operatorNamespace) {
    if (!PolicyRules.enforces(policy)
        || policy.getMetadata().getDeletionTimestamp() != null
        || !dev.pypimirror.operator.policy.Governance.problems(policy).isEmpty()) {
      return List.of();
    }
    String name = policy.getMetadata().getName();
    String namespace = "request.namespace";
    String policyProblem =
        policy.getSpec().getMirror() == null
            ? "%s + %s".formatted(string("no PypiMirror in namespace "), namespace)
            : "%s + %s + %s"
                .formatted(
                    string("PypiMirrorPolicy %s's mirror ".formatted(name)),
                    namespace,
                    string("/" + name + " does not exist (yet)"));
    String podSelected = podSelected(policy);
    String problem =
        "%s ? %s : (%s ? 'PypiMirror ' + %s + '/' + %s + ' not found' : (%s ? 'no PypiMirror in namespace ' + %s : (%s ? %s : '')))"
            .formatted(
                OPTED_OUT,
                policyProblem,
                NAMED,
                namespace,
                NAMED_VALUE,
                INJECT_TRUE,
                namespace,
                podSelected == null ? "false" : podSelected,
                policyProblem);
    java.util.TreeSet<String> never = new java.util.TreeSet<>(SystemNamespaces.NAMES);
    if (operatorNamespace != null) {
      never.add(operatorNamespace);
    }
    never.addAll(namespacesWithMirrors);
    String objectName = policyName(name);
    ObjectNode vap = EnforcePolicies.unavailable(objectName, null, PolicyMode.of(policy), problem);
    ObjectNode selector = vap.withObject("/spec/matchConstraints").putObject("namespaceSelector");
    LabelSelector governed = policy.getSpec().getNamespaceSelector();
    if (governed.getMatchLabels() != null && !governed.getMatchLabels().isEmpty()) {
      ObjectNode labels = selector.putObject("matchLabels");
      governed.getMatchLabels().forEach(labels::put);
    }
    ArrayNode expressions = selector.putArray("matchExpressions");
    if (governed.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : governed.getMatchExpressions()) {
        ObjectNode e =
            expressions.addObject().put("key", r.getKey()).put("operator", r.getOperator());
        if (r.getValues() != null && !r.getValues().isEmpty()) {
          r.getValues().forEach(e.putArray("values")::add);
        }
      }
    }
    ObjectNode excluded =
        expressions.addObject().put("key", "kubernetes.io/metadata.name").put("operator", "NotIn");
    never.forEach(excluded.putArray("values")::add);
    return List.of(vap, binding(EnforcePolicies.KIND, objectName, null));
  }

  private static String mapOf(Map<String, String> map) {
    return map.isEmpty()
        ? "{'': ''}"
        : map.entrySet().stream()
            .map(e -> string(e.getKey()) + ": " + string(e.getValue()))
            .collect(java.util.stream.Collectors.joining(", ", "{", "}"));
  }

  /** Why a choice cannot be injected, as the webhook words it; '' for a usable one. */
  private static String problem(Selection selection, MirrorDirectory mirrors) {
    if (selection == null || selection instanceof Selection.Untouched) {
      return "";
    }
    if (selection instanceof Selection.Unavailable u) {
      return u.problem();
    }
    PypiMirror mirror = ((Selection.Use) selection).mirror();
    try {
      mirrors.rendered(mirror);
      return "";
    } catch (InvalidMirrorException e) {
      return "PypiMirror %s/%s is invalid (%s)"
          .formatted(
              mirror.getMetadata().getNamespace(), mirror.getMetadata().getName(), e.getMessage());
    }
  }

  /** A mirror the pod gets, and which rules give it. */
  private static final class Target {
    final PypiMirror mirror;
    final RenderedConfig rendered;
    boolean named;
    boolean byDefault;
    boolean byPolicy;

    Target(PypiMirror mirror, MirrorDirectory mirrors) {
      this.mirror = mirror;
      this.rendered = mirrors.rendered(mirror);
    }

    /**
     * The contract's rules 2-5 as CEL: this mirror is the pod's. Under Enforce an opt-out gets the
     * policy's mirror.
     */
    String selects(String podSelected, boolean enforce) {
      String name = mirror.getMetadata().getName();
      String asked =
          "(%s ? %s == %s : (%s ? %s : %s))"
              .formatted(
                  NAMED,
                  NAMED_VALUE,
                  named ? string(name) : "''",
                  INJECT_TRUE,
                  CelText.bool(byDefault),
                  byPolicy && podSelected != null ? podSelected : "false");
      return enforce
          ? "(%s ? %s : %s)".formatted(OPTED_OUT, CelText.bool(byPolicy), asked)
          : "!(%s) && %s".formatted(OPTED_OUT, asked);
    }
  }

  private static Target target(Map<String, Target> usable, PypiMirror m, MirrorDirectory mirrors) {
    return usable.computeIfAbsent(m.getMetadata().getName(), n -> new Target(m, mirrors));
  }

  /** pypimirror.dev/inject: "false" as Java's equalsIgnoreCase reads it (ſ upper-cases to S). */
  static final String OPTED_OUT =
      "%s && %s in %s && %s[%s].lowerAscii().replace('\\u017f', 's') == 'false'"
          .formatted(
              HAS_ANNOTATIONS,
              string(Annotations.INJECT),
              ANNOTATIONS,
              ANNOTATIONS,
              string(Annotations.INJECT));

  static final String INJECT_TRUE = OPTED_OUT.replace("'false'", "'true'");

  /** pypimirror.dev/mirror names a mirror (not blank). */
  static final String NAMED =
      "(%s && %s in %s && %s[%s].trim() != '')"
          .formatted(
              HAS_ANNOTATIONS,
              string(Annotations.MIRROR),
              ANNOTATIONS,
              ANNOTATIONS,
              string(Annotations.MIRROR));

  static final String NAMED_VALUE =
      "%s[%s].trim()".formatted(ANNOTATIONS, string(Annotations.MIRROR));

  /** The governing policy's podSelector over the pod's labels; null when it selects no pod. */
  private static String podSelected(PypiMirrorPolicy policy) {
    if (policy == null
        || policy.getSpec().getPodSelector() == null
        || !LabelSelectors.problems(policy.getSpec().getPodSelector()).isEmpty()) {
      return null;
    }
    return "(has(object.metadata.labels) && (%s) || !has(object.metadata.labels) && (%s))"
        .formatted(
            CelText.selector(policy.getSpec().getPodSelector(), "object.metadata.labels"),
            CelText.selector(policy.getSpec().getPodSelector(), "{}"));
  }

  /**
   * The condition and patch of the policy that marks pods asking for a mirror they cannot get, as
   * two lines; null when every choice is usable.
   */
  private static String skips(
      java.util.Set<String> usableNames,
      boolean defaultUnusable,
      Selection byDefault,
      String podSelected,
      Selection byPolicy) {
    String namedUnusable =
        "!(%s in %s)".formatted(NAMED_VALUE, CelText.strings(List.copyOf(usableNames)));
    String defaultValue = skippedValue(byDefault);
    String policyValue = podSelected == null ? null : skippedValue(byPolicy);
    String value =
        "%s ? %s : (%s ? %s : %s)"
            .formatted(
                NAMED,
                string(Annotations.SKIPPED_MIRROR_NOT_READY),
                INJECT_TRUE,
                defaultValue == null ? "''" : string(defaultValue),
                policyValue == null ? "''" : string(policyValue));
    String condition =
        "!(%s) && (%s ? %s : (%s ? %s : %s))"
            .formatted(
                OPTED_OUT,
                NAMED,
                namedUnusable,
                INJECT_TRUE,
                CelText.bool(defaultUnusable && defaultValue != null),
                policyValue == null ? "false" : podSelected);
    return condition + "\n" + InjectionExpression.annotate(value);
  }

  /** The pypimirror.dev/skipped value for a choice that cannot be used; null for a usable one. */
  private static String skippedValue(Selection selection) {
    return selection instanceof Selection.Unavailable u ? u.reason().skippedAnnotation() : null;
  }

  private static MirrorSelector.PodFacts facts(String namespace, String key, String value) {
    return new MirrorSelector.PodFacts(Map.of(key, value), Map.of(), namespace);
  }

  private static Selection choose(
      MirrorSelector.PodFacts pod, PypiMirrorPolicy policy, MirrorDirectory mirrors) {
    return MirrorSelector.select(pod, policy, null, mirrors, new ArrayList<>());
  }

  private static Selection policyChoice(
      PypiMirrorPolicy policy, String namespace, MirrorDirectory mirrors) {
    return policy == null ? null : MirrorSelector.policyMirror(policy, namespace, mirrors);
  }

  /** The mirror of a usable choice (Ready and renderable), else null. */
  private static PypiMirror usable(Selection selection, MirrorDirectory mirrors) {
    if (!(selection instanceof Selection.Use use)) {
      return null;
    }
    try {
      mirrors.rendered(use.mirror());
      return use.mirror();
    } catch (InvalidMirrorException e) {
      return null;
    }
  }

  /**
   * {@code pypi-mirror.<namespace>.<mirror>}: a namespace name holds no dot, so names never
   * collide; shortened with a hash beyond the 253 characters a name may have.
   */
  public static String objectName(String namespace, String mirror) {
    return prefixedName("pypi-mirror.", namespace + "." + mirror);
  }

  /** The mutating policy that marks pods asking for a mirror they cannot get. */
  public static String skippedName(String namespace) {
    return prefixedName("pypi-mirror-skipped.", namespace);
  }

  /** The validating policy refusing, under Enforce, a pod whose mirror cannot be injected. */
  public static String unavailableName(String namespace) {
    return prefixedName("pypi-mirror-unavailable.", namespace);
  }

  /** The validating policy of an Enforce policy for its namespaces without mirrors. */
  public static String policyName(String policy) {
    return prefixedName("pypi-mirror-policy.", policy);
  }

  /**
   * {@code prefix + name}, shortened with a hash beyond 253 characters; the prefixes differ from
   * {@code pypi-mirror.} before its dot, so no such name is ever a mirror's.
   */
  static String prefixedName(String prefix, String suffix) {
    String name = prefix + suffix;
    if (name.length() <= 253) {
      return name;
    }
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
      return name.substring(0, 236) + "." + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The labels of every generated object; the namespace's when it serves one. */
  static ObjectNode metadata(ObjectNode object, String name, String namespace) {
    ObjectNode metadata = object.putObject("metadata").put("name", name);
    ObjectNode labels =
        metadata.putObject("labels").put(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY);
    if (namespace != null) {
      labels.put(NAMESPACE_LABEL, namespace);
    }
    return metadata;
  }

  /**
   * A policy's spec with its matchConstraints (pod CREATE; in {@code namespace} when not null) and
   * matchConditions (not a static pod, then {@code selects} when not null).
   */
  static ObjectNode podPolicySpec(
      ObjectNode policy, String namespace, String selects, boolean enforce) {
    ObjectNode spec = policy.putObject("spec");
    ObjectNode constraints = spec.putObject("matchConstraints");
    ObjectNode rule = constraints.putArray("resourceRules").addObject();
    rule.putArray("apiGroups").add("");
    rule.putArray("apiVersions").add("v1");
    rule.putArray("operations").add("CREATE");
    rule.putArray("resources").add("pods");
    rule.put("scope", "Namespaced");
    if (namespace != null) {
      ObjectNode expression =
          constraints.putObject("namespaceSelector").putArray("matchExpressions").addObject();
      expression.put("key", "kubernetes.io/metadata.name").put("operator", "In");
      expression.putArray("values").add(namespace);
    }
    ArrayNode conditions = spec.putArray("matchConditions");
    String staticPod =
        "%s && %s in %s".formatted(HAS_ANNOTATIONS, string(Annotations.STATIC_POD), ANNOTATIONS);
    if (enforce) {
      // under Enforce the annotation counts only on a pod a node creates (anyone can write it)
      conditions
          .addObject()
          .put("name", "not-a-static-pod-of-a-node")
          .put("expression", "!(%s && %s)".formatted(staticPod, CREATED_BY_NODE));
    } else {
      conditions
          .addObject()
          .put("name", "not-a-static-pod")
          .put("expression", "!(%s)".formatted(staticPod));
    }
    if (selects != null) {
      conditions.addObject().put("name", "selects-this-mirror").put("expression", selects);
    }
    return spec;
  }

  /** The request comes from a node (as {@code webhook.PodAdmission.requester} reads it). */
  static final String CREATED_BY_NODE =
      "has(request.userInfo) && has(request.userInfo.groups) && 'system:nodes' in request.userInfo.groups && has(request.userInfo.username) && request.userInfo.username.startsWith('system:node:')";

  private static ObjectNode policy(
      String name,
      String namespace,
      String selects,
      Map<String, String> variables,
      String patchExpression,
      boolean enforce) {
    ObjectNode policy = JSON.objectNode().put("apiVersion", API_VERSION).put("kind", POLICY_KIND);
    metadata(policy, name, namespace);
    ObjectNode spec = podPolicySpec(policy, namespace, selects, enforce);
    variables.forEach(
        (variable, text) ->
            spec.withArray("variables").addObject().put("name", variable).put("expression", text));
    ObjectNode mutation = spec.putArray("mutations").addObject().put("patchType", "JSONPatch");
    mutation.putObject("jsonPatch").put("expression", patchExpression);
    spec.put("failurePolicy", "Ignore");
    spec.put("reinvocationPolicy", "IfNeeded");
    return policy;
  }

  /** The binding of policy {@code name} of {@code kind}, with no selector of its own. */
  private static ObjectNode binding(String kind, String name, String namespace) {
    ObjectNode binding =
        JSON.objectNode().put("apiVersion", API_VERSION).put("kind", kind + "Binding");
    metadata(binding, name, namespace);
    ObjectNode spec = binding.putObject("spec").put("policyName", name);
    if (kind.equals(EnforcePolicies.KIND)) {
      spec.putArray("validationActions").add("Deny");
    }
    return binding;
  }

  /** Where the mirror's .pydistutils.cfg goes when nothing on the pod says. */
  static String homeDir(PypiMirror mirror) {
    InjectionSpec injection = mirror.getSpec().getInjection();
    return Optional.ofNullable(injection)
        .map(InjectionSpec::getHomeDir)
        .orElse(InjectionSpec.DEFAULT_HOME_DIR);
  }
}
