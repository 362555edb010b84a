package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PypiMirrorPolicyStatus extends ConditionedStatus {

  /** How many namespaces this policy governs (selected and not won by another policy). */
  private Integer governedNamespaces;

  /** How many PypiMirrors it made and keeps. */
  private Integer mirrorsMade;

  /** How many PypiMirrors in governed namespaces break its rules. */
  private Integer violations;

  /** The first violations, "namespace/name: rule". */
  private List<String> violatingMirrors = new ArrayList<>();

  /** Selected namespaces that a higher-ranked policy governs, "namespace (policy)". */
  private List<String> overlaps = new ArrayList<>();

  public Integer getGovernedNamespaces() {
    return governedNamespaces;
  }

  public void setGovernedNamespaces(Integer governedNamespaces) {
    this.governedNamespaces = governedNamespaces;
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
