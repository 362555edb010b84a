package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PypiMirrorPolicyStatus extends ConditionedStatus {

  /** How many governed namespaces {@link #namespaces} lists at most. */
  public static final int LISTED_NAMESPACES = 100;

  @JsonPropertyDescription(
      "How many namespaces this policy governs (selected, and not governed by a higher-ranked policy).")
  private Integer governedNamespaces;

  @JsonPropertyDescription(
      "The governed namespaces in name order, at most 100 (governedNamespaces is the count).")
  @Size(max = LISTED_NAMESPACES)
  private List<String> namespaces = new ArrayList<>();

  @JsonPropertyDescription("How many PypiMirrors it made and keeps, one per governed namespace.")
  private Integer mirrorsMade;

  @JsonPropertyDescription("How many PypiMirrors in governed namespaces break its rules.")
  private Integer violations;

  @JsonPropertyDescription("The first violations, as \"namespace/name: rule\".")
  private List<String> violatingMirrors = new ArrayList<>();

  @JsonPropertyDescription(
      "Selected namespaces that a higher-ranked policy governs, as \"namespace (policy)\".")
  private List<String> overlaps = new ArrayList<>();

  public Integer getGovernedNamespaces() {
    return governedNamespaces;
  }

  public void setGovernedNamespaces(Integer governedNamespaces) {
    this.governedNamespaces = governedNamespaces;
  }

  public List<String> getNamespaces() {
    return namespaces;
  }

  public void setNamespaces(List<String> namespaces) {
    this.namespaces = namespaces;
  }

  public Integer getMirrorsMade() {
    return mirrorsMade;
  }

  public void setMirrorsMade(Integer mirrorsMade) {
    this.mirrorsMade = mirrorsMade;
  }

  public Integer getViolations() {
    return violations;
  }

  public void setViolations(Integer violations) {
    this.violations = violations;
  }

  public List<String> getViolatingMirrors() {
    return violatingMirrors;
  }

  public void setViolatingMirrors(List<String> violatingMirrors) {
    this.violatingMirrors = violatingMirrors;
  }

  public List<String> getOverlaps() {
    return overlaps;
  }

  public void setOverlaps(List<String> overlaps) {
    this.overlaps = overlaps;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PypiMirrorPolicyStatus s
        && sameConditions(s)
        && Objects.equals(governedNamespaces, s.governedNamespaces)
        && Objects.equals(namespaces, s.namespaces)
        && Objects.equals(mirrorsMade, s.mirrorsMade)
        && Objects.equals(violations, s.violations)
        && Objects.equals(violatingMirrors, s.violatingMirrors)
        && Objects.equals(overlaps, s.overlaps);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        getObservedGeneration(), getConditions(), governedNamespaces, mirrorsMade, violations);
  }
}
