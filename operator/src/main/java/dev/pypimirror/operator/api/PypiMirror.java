package dev.pypimirror.operator.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A PyPI mirror for the build pods of one namespace. */
@Group(PypiMirror.GROUP)
@Version(PypiMirror.VERSION)
@ShortNames("pypim")
@AdditionalPrinterColumn(
    name = "Ready",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status")
@AdditionalPrinterColumn(
    name = "Reason",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason",
    priority = 1)
@AdditionalPrinterColumn(
    name = "Index",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.indexUrls[0]")
@AdditionalPrinterColumn(
    name = "Age",
    type = AdditionalPrinterColumn.Type.DATE,
    jsonPath = ".metadata.creationTimestamp")
public class PypiMirror extends CustomResource<PypiMirrorSpec, PypiMirrorStatus>
    implements Namespaced {
  public static final String GROUP = "pypimirror.dev";
  public static final String VERSION = "v1alpha1";

  @Override
  protected PypiMirrorSpec initSpec() {
    return new PypiMirrorSpec();
  }
}
