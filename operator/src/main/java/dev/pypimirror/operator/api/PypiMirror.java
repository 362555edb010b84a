package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A PyPI mirror for the build pods of one namespace.
 *
 * <p>The CRD generator orders printer columns by JSONPath (case-insensitively), not as declared. A
 * leading "..", recursive descent to the same unique field, puts READY and INDEX before AGE
 * (".metadata..."); REASON, shown only with -o wide, comes after AGE as kubectl's wide columns do.
 */
@Group(PypiMirror.GROUP)
@Version(PypiMirror.VERSION)
@ShortNames("pypim")
@AdditionalPrinterColumn(
    name = "Ready",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = "..status.conditions[?(@.type==\"Ready\")].status")
@AdditionalPrinterColumn(
    name = "Reason",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason",
    priority = 1)
@AdditionalPrinterColumn(
    name = "Index",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = "..status.indexUrls[0]")
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

  @Override
  @JsonPropertyDescription(
      "The desired mirror: its indexes, the cache, the public index, and what build pods get.")
  public PypiMirrorSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription(
      "What the operator made of the mirror: conditions, the ConfigMap and PVC, the indexes pip gets.")
  public PypiMirrorStatus getStatus() {
    return super.getStatus();
  }
}
