package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.util.Map;

/**
 * The CRD schema of a container's resources (never instantiated: the code reads fabric8's {@code
 * ResourceRequirements}): requests and limits, each resource name to a quantity.
 */
public final class ResourcesSchema {
  @JsonPropertyDescription("Minimum resources, e.g. cpu: 100m, memory: 256Mi.")
  public Map<String, IntOrString> requests;

  @JsonPropertyDescription("Maximum resources, e.g. memory: 512Mi.")
  public Map<String, IntOrString> limits;

  private ResourcesSchema() {}
}
