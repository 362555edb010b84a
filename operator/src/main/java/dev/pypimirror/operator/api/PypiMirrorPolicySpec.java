package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PypiMirrorPolicySpec {
  public enum Enforcement {
    Advisory,
    Enforce
  }

  @Required
  @SchemaFrom(type = LabelSelectorSchema.class)
  @JsonPropertyDescription(
      "The namespaces this policy governs; {} selects every non-system namespace.")
  private LabelSelector namespaceSelector;

  @SchemaFrom(type = LabelSelectorSchema.class)
  @JsonPropertyDescription("Pods injected without any annotation; absent: none, {}: every pod.")
  private LabelSelector podSelector;

  @JsonPropertyDescription("Made as PypiMirror <policy name> in every governed namespace.")
  private PypiMirrorSpec mirror;

  @Default("Advisory")
  @JsonPropertyDescription(
      "Advisory: warn. Enforce: ignore opt-outs, replace pods' own index settings, deny what cannot be injected.")
  private Enforcement enforcement = Enforcement.Advisory;

  @Size(max = 32)
  @JsonPropertyDescription(
      "When set, every index of every PypiMirror in governed namespaces starts with one of these.")
  private List<@Pattern("^(https?|file)://.+$") String> allowedIndexPrefixes = new ArrayList<>();

  @Default("true")
  @JsonPropertyDescription("false: no PypiMirror in governed namespaces may use the public index.")
  private boolean allowPublicIndex = true;

  @Default("true")
  @JsonPropertyDescription("false: no plain http:// index in governed namespaces.")
  private boolean allowInsecureHttp = true;

  @Default("false")
  @JsonPropertyDescription(
      "true: every PypiMirror in governed namespaces gives pip exactly one index (serve: Proxy, or"
          + " one index with offline or publicIndex.enabled: false). pip installs the highest"
          + " version found on any of its indexes, so a private index beside the public one invites"
          + " dependency confusion.")
  private boolean requireSingleIndexForPip;

  @Default("0")
  @Min(Integer.MIN_VALUE)
  @Max(Integer.MAX_VALUE)
  @JsonPropertyDescription(
      "Where policies select the same namespace, the highest priority governs it; then name order.")
  private int priority;

  @Size(max = 64)
  @JsonPropertyDescription(
      "Enforce: variables (exact names) a pod may set that would otherwise be removed (PIP_*, UV_*) or refused (PYTHONPATH, proxies, CA bundles, ...); never the mirror's own or an index setting.")
  private List<@Size(min = 1, max = 256) @Pattern("^[^=]+$") String> allowedEnv = new ArrayList<>();

  @Default("false")
  @JsonPropertyDescription(
      "Enforce with a proxy mirror (cache.serve: Proxy): a NetworkPolicy in every governed namespace lets the pods the podSelector selects reach only the mirror's proxy, DNS and allowedEgressCIDRs.")
  private boolean restrictEgress;

  @Size(max = 32)
  @JsonPropertyDescription("With restrictEgress: what else those pods may reach (CIDRs).")
  private List<@Pattern("^[0-9a-fA-F.:]+/[0-9]{1,3}$") String> allowedEgressCIDRs =
      new ArrayList<>();

  public LabelSelector getNamespaceSelector() {
    return namespaceSelector;
  }

  public void setNamespaceSelector(LabelSelector namespaceSelector) {
    this.namespaceSelector = namespaceSelector;
  }

  public LabelSelector getPodSelector() {
    return podSelector;
  }

  public void setPodSelector(LabelSelector podSelector) {
    this.podSelector = podSelector;
  }

  public PypiMirrorSpec getMirror() {
    return mirror;
  }

  public void setMirror(PypiMirrorSpec mirror) {
    this.mirror = mirror;
  }

  public Enforcement getEnforcement() {
    return enforcement;
  }

  public void setEnforcement(Enforcement enforcement) {
    this.enforcement = enforcement;
  }

  public List<String> getAllowedIndexPrefixes() {
    return allowedIndexPrefixes;
  }

  public void setAllowedIndexPrefixes(List<String> allowedIndexPrefixes) {
    this.allowedIndexPrefixes = allowedIndexPrefixes;
  }

  public boolean isAllowPublicIndex() {
    return allowPublicIndex;
  }

  public void setAllowPublicIndex(boolean allowPublicIndex) {
    this.allowPublicIndex = allowPublicIndex;
  }

  public boolean isAllowInsecureHttp() {
    return allowInsecureHttp;
  }

  public void setAllowInsecureHttp(boolean allowInsecureHttp) {
    this.allowInsecureHttp = allowInsecureHttp;
  }

  public boolean isRequireSingleIndexForPip() {
    return requireSingleIndexForPip;
  }

  public void setRequireSingleIndexForPip(boolean requireSingleIndexForPip) {
    this.requireSingleIndexForPip = requireSingleIndexForPip;
  }

  public int getPriority() {
    return priority;
  }

  public void setPriority(int priority) {
    this.priority = priority;
  }

  public List<String> getAllowedEnv() {
    return allowedEnv;
  }

  public void setAllowedEnv(List<String> allowedEnv) {
    this.allowedEnv = allowedEnv;
  }

  public boolean isRestrictEgress() {
    return restrictEgress;
  }

  public void setRestrictEgress(boolean restrictEgress) {
    this.restrictEgress = restrictEgress;
  }

  public List<String> getAllowedEgressCIDRs() {
    return allowedEgressCIDRs;
  }

  public void setAllowedEgressCIDRs(List<String> allowedEgressCIDRs) {
    this.allowedEgressCIDRs = allowedEgressCIDRs;
  }
}
