package dev.pypimirror.operator.webhook;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec;
import dev.pypimirror.operator.api.SystemNamespaces;
import dev.pypimirror.operator.policy.Governance;
import dev.pypimirror.operator.policy.PolicyRules;
import dev.pypimirror.operator.settings.OperatorSettings;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MatchCondition;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperations;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingWebhookBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.WebhookClientConfig;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.WebhookClientConfigBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * Which webhook entries route admissions, derived from the policies (pure). Routing never waits for
 * a label the operator writes: each policy gets its own entries whose namespaceSelector is the
 * policy's own, so the API server routes a namespace the moment its labels match, whether the
 * operator runs or not.
 *
 * <ul>
 *   <li>The static opt-in entry (deployed, fails open) takes pods that ask by annotation.
 *   <li>Per Enforce policy: a pod entry that fails closed, with no objectSelector and no
 *       matchConditions, so nothing the pod's author writes keeps a pod away from it.
 *   <li>Per Advisory policy with a podSelector: a pod entry that fails open, objectSelector = the
 *       podSelector (webhook matchConditions cannot see the namespace; selectors can).
 *   <li>Per policy: a PypiMirror validating entry that fails closed (its rules apply in Advisory
 *       too).
 * </ul>
 *
 * Every entry excludes the system namespaces and the operator's own, by the name label the API
 * server sets. Policies being deleted or with invalid selectors get no entry (an invalid selector
 * would make the API server refuse the whole configuration).
 */
public final class WebhookRoutes {
  /** The configurations' name by default ({@link OperatorSettings.Routing#name}). */
  public static final String CONFIGURATION = OperatorSettings.Routing.DEFAULTS.name();

  /** The opt-in entry ({@link #optIn}); the policies' entries copy its client config. */
  public static final String OPT_IN_ENTRY = "pods.pypimirror.dev";

  /**
   * The validating entry that warns about a PypiMirrorPolicy's settings that do nothing as written
   * ({@link PolicyAdmission}); it only warns, so it fails open.
   */
  public static final String POLICY_CHECK_ENTRY = "policies.pypimirror.dev";

  /** Entries derived from a policy are named {@code <policy>.policy.pypimirror.dev}. */
  public static final String POLICY_SUFFIX = ".policy.pypimirror.dev";

  static final String NAME_LABEL = "kubernetes.io/metadata.name";
  static final int MAX_NAME = 253;

  static final MatchCondition NOT_A_STATIC_POD =
      new MatchCondition(
          "!has(object.metadata.annotations) ||"
              + " !('kubernetes.io/config.mirror' in object.metadata.annotations)",
          "not-a-static-pod");

  static final MatchCondition ASKS_FOR_A_MIRROR =
      new MatchCondition(
          "has(object.metadata.annotations) &&"
              + " ('pypimirror.dev/mirror' in object.metadata.annotations ||"
              + " 'pypimirror.dev/inject' in object.metadata.annotations)",
          "asks-for-a-mirror");

  /** Pods that ask by annotation go through the opt-in entry; an Advisory entry leaves them. */
  static final MatchCondition NO_OPT_IN_ANNOTATION =
      new MatchCondition(
          "!has(object.metadata.annotations) ||"
              + " !('pypimirror.dev/mirror' in object.metadata.annotations ||"
              + " 'pypimirror.dev/inject' in object.metadata.annotations)",
          "no-opt-in-annotation");

  /** What an Enforce entry matches besides pod CREATE: containers added to a running pod. */
  static final RuleWithOperations EPHEMERAL_CONTAINERS =
      new RuleWithOperations(
          List.of(""),
          List.of("v1"),
          List.of("UPDATE"),
          List.of("pods/ephemeralcontainers"),
          "Namespaced");

  private WebhookRoutes() {}

  /**
   * The path a policy's pod entry calls: {@code /mutate-pods/enforce/<policy>} or {@code
   * /mutate-pods/advisory/<policy>}, so the webhook knows which entry the API server chose (and
   * that it fails closed) without asking its own caches.
   */
  public static String podPath(String policy, boolean enforce) {
    return WebhookServer.MUTATE_PODS + "/" + (enforce ? ENFORCE : ADVISORY) + "/" + policy;
  }

  static final String ENFORCE = "enforce";
  static final String ADVISORY = "advisory";

  private static WebhookClientConfig withPath(WebhookClientConfig config, String path) {
    if (config.getService() != null) {
      return new WebhookClientConfigBuilder(config)
          .editService()
          .withPath(path)
          .endService()
          .build();
    }
    java.net.URI url = java.net.URI.create(config.getUrl());
    return new WebhookClientConfigBuilder(config)
        .withUrl(url.getScheme() + "://" + url.getRawAuthority() + path)
        .build();
  }

  /** Whether an entry was derived from a policy (and so is rewritten by the leader). */
  public static boolean isPolicyEntry(String name) {
    return name != null && name.endsWith(POLICY_SUFFIX);
  }

  /**
   * {@code <policy>.policy.pypimirror.dev}: a valid, unique webhook name (a DNS subdomain of at
   * least three labels, at most 253 characters; longer policy names are cut and given a hash).
   */
  public static String entryName(String policy) {
    String name = policy + POLICY_SUFFIX;
    if (name.length() <= MAX_NAME) {
      return name;
    }
    String hash = sha256(policy).substring(0, 10);
    String cut = policy.substring(0, MAX_NAME - POLICY_SUFFIX.length() - hash.length() - 1);
    cut = cut.replaceAll("[-.]+$", "");
    return cut + "-" + hash + POLICY_SUFFIX;
  }

  /**
   * The opt-in entry: pods that ask for a mirror by annotation, in any namespace but the system
   * namespaces and the operator's own, failing as the settings say (open by default: a build
   * without the mirror is slower, not broken). Webhook matchConditions see the pod, never its
   * namespace (namespaceObject is null there), so namespaces are selected by label.
   */
  public static MutatingWebhook optIn(
      OperatorSettings.Routing routing, String operatorNamespace, String caBundle) {
    return new MutatingWebhookBuilder()
        .withName(OPT_IN_ENTRY)
        .withAdmissionReviewVersions("v1")
        .withNewClientConfig()
        .withCaBundle(caBundle)
        .withNewService()
        .withName(routing.service())
        .withNamespace(operatorNamespace)
        .withPath(WebhookServer.MUTATE_PODS)
        .withPort(443)
        .endService()
        .endClientConfig()
        .withRules(
            new RuleWithOperations(
                List.of(""), List.of("v1"), List.of("CREATE"), List.of("pods"), "Namespaced"))
        .withFailurePolicy(routing.failurePolicy())
        .withMatchPolicy("Equivalent")
        .withSideEffects("None")
        .withReinvocationPolicy("IfNeeded")
        .withTimeoutSeconds(routing.timeoutSeconds())
        .withNamespaceSelector(namespaces(new LabelSelector(), operatorNamespace))
        .withMatchConditions(ASKS_FOR_A_MIRROR, NOT_A_STATIC_POD)
        .build();
  }

  /** The policies that get entries, in name order. */
  static List<PypiMirrorPolicy> routed(Collection<PypiMirrorPolicy> policies) {
    return policies.stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(p -> p.getSpec() != null && Governance.problems(p).isEmpty())
        .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
        .toList();
  }

  /**
   * The mutating configuration's entries: the deployed ones as they are (caBundle set when given),
   * then one per policy. Null when there is no deployed entry to take the client config from.
   *
   * @param caBundle base64 PEM for every entry; null: keep each deployed entry's and give the
   *     policies' entries the opt-in entry's (as when cert-manager injects it)
   */
  public static List<MutatingWebhook> mutating(
      List<MutatingWebhook> current,
      Collection<PypiMirrorPolicy> policies,
      String operatorNamespace,
      String caBundle) {
    return mutating(current, policies, operatorNamespace, caBundle, false);
  }

  /**
   * As {@link #mutating(List, Collection, String, String)}; with {@code policiesInject}
   * (admission-policy mode, once the admission policies are written) only what they cannot do: each
   * Enforce policy's entry for containers added to a running pod ({@code kubectl debug}), and
   * neither the opt-in entry nor an Advisory policy's.
   */
  public static List<MutatingWebhook> mutating(
      List<MutatingWebhook> current,
      Collection<PypiMirrorPolicy> policies,
      String operatorNamespace,
      String caBundle,
      boolean policiesInject) {
    List<MutatingWebhook> deployed =
        current == null
            ? List.of()
            : current.stream().filter(w -> !isPolicyEntry(w.getName())).toList();
    MutatingWebhook template = template(deployed);
    if (template == null) {
      return null;
    }
    String bundle = caBundle != null ? caBundle : template.getClientConfig().getCaBundle();
    List<MutatingWebhook> entries = new ArrayList<>();
    for (MutatingWebhook w : policiesInject ? List.<MutatingWebhook>of() : deployed) {
      entries.add(
          caBundle == null
              ? w
              : new MutatingWebhookBuilder(w)
                  .withClientConfig(withCa(w.getClientConfig(), caBundle))
                  .build());
    }
    for (PypiMirrorPolicy policy : routed(policies)) {
      PypiMirrorPolicySpec spec = policy.getSpec();
      if (!PolicyRules.enforces(policy) && (spec.getPodSelector() == null || policiesInject)) {
        continue; // Advisory without podSelector: only annotated pods, the opt-in entry's
      }
      entries.add(policyEntry(policy, template, bundle, operatorNamespace, policiesInject));
    }
    return entries;
  }

  /**
   * A policy's own entry, made from the deployed template: its namespaces, and under Enforce every
   * pod and its ephemeral containers failing closed, else the podSelector's pods failing open.
   */
  private static MutatingWebhook policyEntry(
      PypiMirrorPolicy policy,
      MutatingWebhook template,
      String bundle,
      String operatorNamespace,
      boolean policiesInject) {
    PypiMirrorPolicySpec spec = policy.getSpec();
    boolean enforce = PolicyRules.enforces(policy);
    List<RuleWithOperations> rules =
        new ArrayList<>(policiesInject ? List.of() : template.getRules());
    if (enforce) {
      rules.add(EPHEMERAL_CONTAINERS); // kubectl debug adds containers by this update
    }
    var entry =
        new MutatingWebhookBuilder()
            .withName(entryName(policy.getMetadata().getName()))
            .withAdmissionReviewVersions(template.getAdmissionReviewVersions())
            .withClientConfig(
                withPath(
                    withCa(template.getClientConfig(), bundle),
                    podPath(policy.getMetadata().getName(), enforce)))
            .withRules(rules)
            .withMatchPolicy(template.getMatchPolicy())
            .withSideEffects(template.getSideEffects())
            .withReinvocationPolicy(template.getReinvocationPolicy())
            .withTimeoutSeconds(template.getTimeoutSeconds())
            .withNamespaceSelector(namespaces(spec.getNamespaceSelector(), operatorNamespace));
    if (enforce) {
      entry.withFailurePolicy("Fail"); // no objectSelector, no matchConditions: nothing exempts
    } else {
      entry
          .withFailurePolicy("Ignore")
          .withObjectSelector(copy(spec.getPodSelector()))
          .withMatchConditions(NOT_A_STATIC_POD, NO_OPT_IN_ANNOTATION);
    }
    return entry.build();
  }

  /**
   * The validating configuration's entries: deployed ones kept, the entry that warns about a
   * policy's ineffective settings ({@link #POLICY_CHECK_ENTRY}), then one per policy refusing
   * PypiMirrors that break it, failing closed. Null without a template (see {@link #mutating}).
   */
  public static List<ValidatingWebhook> validating(
      List<ValidatingWebhook> current,
      List<MutatingWebhook> mutatingDeployed,
      Collection<PypiMirrorPolicy> policies,
      String operatorNamespace,
      String caBundle) {
    MutatingWebhook template =
        template(
            mutatingDeployed == null
                ? List.of()
                : mutatingDeployed.stream().filter(w -> !isPolicyEntry(w.getName())).toList());
    if (template == null) {
      return null;
    }
    String bundle = caBundle != null ? caBundle : template.getClientConfig().getCaBundle();
    List<ValidatingWebhook> entries = new ArrayList<>();
    for (ValidatingWebhook w : current == null ? List.<ValidatingWebhook>of() : current) {
      if (!isPolicyEntry(w.getName()) && !POLICY_CHECK_ENTRY.equals(w.getName())) {
        entries.add(
            caBundle == null
                ? w
                : new ValidatingWebhookBuilder(w)
                    .withClientConfig(withCa(w.getClientConfig(), caBundle))
                    .build());
      }
    }
    WebhookClientConfig client =
        new WebhookClientConfigBuilder(withCa(template.getClientConfig(), bundle))
            .editOrNewService()
            .withPath(WebhookServer.VALIDATE_MIRRORS)
            .endService()
            .build();
    entries.add(
        ownResources(
                POLICY_CHECK_ENTRY,
                withPath(
                    withCa(template.getClientConfig(), bundle), WebhookServer.VALIDATE_POLICIES),
                "pypimirrorpolicies",
                "Cluster",
                template.getTimeoutSeconds())
            .withFailurePolicy("Ignore") // it only warns
            .build());
    for (PypiMirrorPolicy policy : routed(policies)) {
      entries.add(
          ownResources(
                  entryName(policy.getMetadata().getName()),
                  client,
                  "pypimirrors",
                  "Namespaced",
                  template.getTimeoutSeconds())
              .withFailurePolicy("Fail")
              .withNamespaceSelector(
                  namespaces(policy.getSpec().getNamespaceSelector(), operatorNamespace))
              .build());
    }
    return entries;
  }

  /** A validating entry for CREATE and UPDATE of one of the operator's own resources. */
  private static ValidatingWebhookBuilder ownResources(
      String name, WebhookClientConfig client, String resource, String scope, Integer timeout) {
    return new ValidatingWebhookBuilder()
        .withName(name)
        .withAdmissionReviewVersions("v1")
        .withClientConfig(client)
        .withRules(
            new RuleWithOperations(
                List.of(PypiMirror.GROUP),
                List.of(PypiMirror.VERSION),
                List.of("CREATE", "UPDATE"),
                List.of(resource),
                scope))
        .withMatchPolicy("Equivalent")
        .withSideEffects("None")
        .withTimeoutSeconds(timeout);
  }

  /**
   * The policy's namespaceSelector, less the system namespaces and the operator's own (the same
   * namespaces {@link Governance#selects} never governs).
   */
  static LabelSelector namespaces(LabelSelector policy, String operatorNamespace) {
    LabelSelector selector = copy(policy);
    List<LabelSelectorRequirement> expressions =
        new ArrayList<>(
            selector.getMatchExpressions() == null ? List.of() : selector.getMatchExpressions());
    TreeSet<String> never = new TreeSet<>(SystemNamespaces.NAMES);
    if (operatorNamespace != null) {
      never.add(operatorNamespace);
    }
    expressions.add(new LabelSelectorRequirement(NAME_LABEL, "NotIn", List.copyOf(never)));
    selector.setMatchExpressions(expressions);
    return selector;
  }

  private static MutatingWebhook template(List<MutatingWebhook> deployed) {
    return deployed.stream()
        .filter(w -> OPT_IN_ENTRY.equals(w.getName()))
        .findFirst()
        .orElse(deployed.isEmpty() ? null : deployed.get(0));
  }

  private static WebhookClientConfig withCa(WebhookClientConfig config, String caBundle) {
    return new WebhookClientConfigBuilder(config).withCaBundle(caBundle).build();
  }

  private static LabelSelector copy(LabelSelector selector) {
    LabelSelector copy = new LabelSelector();
    if (selector.getMatchLabels() != null && !selector.getMatchLabels().isEmpty()) {
      copy.setMatchLabels(new java.util.TreeMap<>(selector.getMatchLabels()));
    }
    if (selector.getMatchExpressions() != null && !selector.getMatchExpressions().isEmpty()) {
      copy.setMatchExpressions(
          selector.getMatchExpressions().stream()
              .map(
                  r ->
                      new LabelSelectorRequirement(
                          r.getKey(),
                          r.getOperator(),
                          r.getValues() == null ? null : List.copyOf(r.getValues())))
              .toList());
    }
    return copy;
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
