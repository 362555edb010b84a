package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Cluster-wide mirrors for the namespaces a selector picks, their enforcement and allowed indexes.
 *
 * <p>Printer columns: a leading ".." (recursive descent to the same unique field) orders them
 * before AGE, since the CRD generator sorts columns by JSONPath (see {@link PypiMirror}).
 */
@Group(PypiMirror.GROUP)
@Version(PypiMirror.VERSION)
@ShortNames("pypimp")
@AdditionalPrinterColumn(
    name = "Enforcement",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = "..spec.enforcement")
@AdditionalPrinterColumn(
    name = "Ready",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = "..status.conditions[?(@.type==\"Ready\")].status")
@AdditionalPrinterColumn(
    name = "Namespaces",
    type = AdditionalPrinterColumn.Type.INTEGER,
    jsonPath = "..status.governedNamespaces")
@AdditionalPrinterColumn(
    name = "Violations",
    type = AdditionalPrinterColumn.Type.INTEGER,
    jsonPath = "..status.violations")
@AdditionalPrinterColumn(
    name = "Age",
    type = AdditionalPrinterColumn.Type.DATE,
    jsonPath = ".metadata.creationTimestamp")
public class PypiMirrorPolicy extends CustomResource<PypiMirrorPolicySpec, PypiMirrorPolicyStatus> {
  @Override
  protected PypiMirrorPolicySpec initSpec() {
    return new PypiMirrorPolicySpec();
  }

  @Override
  @JsonPropertyDescription(
      "Which namespaces the policy governs, the mirror it makes there, which pods get it, and the rules every mirror there obeys.")
  public PypiMirrorPolicySpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription(
      "What the policy governs: namespaces, mirrors made, violations, overlaps with other policies.")
  public PypiMirrorPolicyStatus getStatus() {
    return super.getStatus();
  }
}
