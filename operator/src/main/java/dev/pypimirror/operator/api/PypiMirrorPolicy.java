package dev.pypimirror.operator.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Cluster-wide mirrors for the namespaces a selector picks, their enforcement and allowed indexes.
 */
@Group(PypiMirror.GROUP)
@Version(PypiMirror.VERSION)
@ShortNames("pypimp")
@AdditionalPrinterColumn(
    name = "Enforcement",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".spec.enforcement")
@AdditionalPrinterColumn(
    name = "Namespaces",
    type = AdditionalPrinterColumn.Type.INTEGER,
    jsonPath = ".status.governedNamespaces")
@AdditionalPrinterColumn(
    name = "Violations",
    type = AdditionalPrinterColumn.Type.INTEGER,
    jsonPath = ".status.violations")
@AdditionalPrinterColumn(
    name = "Age",
    type = AdditionalPrinterColumn.Type.DATE,
    jsonPath = ".metadata.creationTimestamp")
public class PypiMirrorPolicy extends CustomResource<PypiMirrorPolicySpec, PypiMirrorPolicyStatus> {
  @Override
  protected PypiMirrorPolicySpec initSpec() {
    return new PypiMirrorPolicySpec();
  }
}
