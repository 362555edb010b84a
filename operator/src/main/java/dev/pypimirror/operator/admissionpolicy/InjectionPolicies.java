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
import dev.pypimirror.operator.policy.LabelSelectors;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.policy.PolicyRules;
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
 * <p>Not covered (the namespace is reported in {@link Generated#uncovered()} and the webhook keeps
 * it): a namespace an Enforce policy governs.
 */
public final class InjectionPolicies {
  public static final String API_VERSION = "admissionregistration.k8s.io/v1";
  public static final String POLICY_KIND = "MutatingAdmissionPolicy";
  public static final String BINDING_KIND = "MutatingAdmissionPolicyBinding";

  /** Label on every object generated here, with the namespace it serves. */
  public static final String NAMESPACE_LABEL = "pypimirror.dev/namespace";

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final String ANNOTATIONS = "object.metadata.annotations";
  private static final String HAS_ANNOTATIONS = "has(object.metadata.annotations)";

  /** Volume names tried for each of the mirror's volumes: base, base-2, ... (as the webhook). */
  static final int VOLUME_NAME_CANDIDATES = 32;

  /**
   * What admission-policy mode writes for a namespace, and why a namespace is left to the webhook.
   */
  public record Generated(List<ObjectNode> objects, List<String> uncovered) {
    public Generated {
      objects = List.copyOf(objects);
      uncovered = List.copyOf(uncovered);
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
      return new Generated(List.of(), List.of());
    }
    PypiMirrorPolicy policy = policies.governing(namespace).orElse(null);
    if (PolicyRules.enforces(policy)) {
      return new Generated(
          List.of(),
          List.of(
              "namespace %s: PypiMirrorPolicy %s enforces, which admission policies do not cover yet"
                  .formatted(namespace, policy.getMetadata().getName())));
    }
    Map<String, Target> usable = new LinkedHashMap<>();
    Selection byDefault = choose(facts(namespace, Annotations.INJECT, "true"), policy, mirrors);
    Selection byPolicy = policyChoice(policy, namespace, mirrors);
    for (PypiMirror mirror : mirrors.inNamespace(namespace)) {
      String name = mirror.getMetadata().getName();
      Selection named = choose(facts(namespace, Annotations.MIRROR, name), policy, mirrors);
      if (usable(named, mirrors) != null) {
        usable.computeIfAbsent(name, n -> new Target(mirror, mirrors)).named = true;
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
    String podSelected = podSelected(policy);
    List<ObjectNode> objects = new ArrayList<>();
    for (Target target : usable.values()) {
      String name = objectName(namespace, target.mirror.getMetadata().getName());
      objects.add(
          policy(
              name,
              namespace,
              target.selects(podSelected),
              InjectionExpression.variables(target.mirror, target.rendered),
              InjectionExpression.patch(target.mirror, target.rendered)));
      objects.add(binding(name, namespace));
    }
    String skips = skips(usable.keySet(), defaultMirror == null, byDefault, podSelected, byPolicy);
    if (skips != null) {
      String name = objectName(namespace, "") + "skipped";
      objects.add(policy(name, namespace, skips.split("\n")[0], Map.of(), skips.split("\n")[1]));
      objects.add(binding(name, namespace));
    }
    return new Generated(objects, List.of());
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

    /** The contract's rules 2-5 as CEL: this mirror is the pod's. */
    String selects(String podSelected) {
      String name = mirror.getMetadata().getName();
      return "!(%s) && (%s ? %s == %s : (%s ? %s : %s))"
          .formatted(
              OPTED_OUT,
              NAMED,
              NAMED_VALUE,
              named ? string(name) : "''",
              INJECT_TRUE,
              CelText.bool(byDefault),
              byPolicy && podSelected != null ? podSelected : "false");
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
    return MirrorSelector.select(pod, policy, null, mirrors, false, new ArrayList<>());
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
  static String objectName(String namespace, String mirror) {
    String name = "pypi-mirror." + namespace + "." + mirror;
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

  private static ObjectNode metadata(ObjectNode object, String name, String namespace) {
    ObjectNode metadata = object.putObject("metadata").put("name", name);
    metadata
        .putObject("labels")
        .put(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY)
        .put(NAMESPACE_LABEL, namespace);
    return metadata;
  }

  private static ObjectNode policy(
      String name,
      String namespace,
      String selects,
      Map<String, String> variables,
      String patchExpression) {
    ObjectNode policy = JSON.objectNode().put("apiVersion", API_VERSION).put("kind", POLICY_KIND);
    metadata(policy, name, namespace);
    ObjectNode spec = policy.putObject("spec");
    ObjectNode constraints = spec.putObject("matchConstraints");
    ObjectNode rule = constraints.putArray("resourceRules").addObject();
    rule.putArray("apiGroups").add("");
    rule.putArray("apiVersions").add("v1");
    rule.putArray("operations").add("CREATE");
    rule.putArray("resources").add("pods");
    rule.put("scope", "Namespaced");
    ObjectNode expression =
        constraints.putObject("namespaceSelector").putArray("matchExpressions").addObject();
    expression.put("key", "kubernetes.io/metadata.name").put("operator", "In");
    expression.putArray("values").add(namespace);
    ArrayNode conditions = spec.putArray("matchConditions");
    conditions
        .addObject()
        .put("name", "not-a-static-pod")
        .put(
            "expression",
            "!(%s && %s in %s)"
                .formatted(HAS_ANNOTATIONS, string(Annotations.STATIC_POD), ANNOTATIONS));
    conditions.addObject().put("name", "selects-this-mirror").put("expression", selects);
    variables.forEach(
        (variable, text) ->
            spec.withArray("variables").addObject().put("name", variable).put("expression", text));
    ObjectNode mutation = spec.putArray("mutations").addObject().put("patchType", "JSONPatch");
    mutation.putObject("jsonPatch").put("expression", patchExpression);
    spec.put("failurePolicy", "Ignore");
    spec.put("reinvocationPolicy", "IfNeeded");
    return policy;
  }

  private static ObjectNode binding(String name, String namespace) {
    ObjectNode binding = JSON.objectNode().put("apiVersion", API_VERSION).put("kind", BINDING_KIND);
    metadata(binding, name, namespace);
    binding.putObject("spec").put("policyName", name);
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
