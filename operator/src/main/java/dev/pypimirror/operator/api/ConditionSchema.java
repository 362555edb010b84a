package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/**
 * The CRD schema of a status condition, with the descriptions of Kubernetes' metav1.Condition
 * (never instantiated: the code reads fabric8's {@code Condition}, which carries none).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class ConditionSchema {
  @Required
  @JsonPropertyDescription("The condition's kind, e.g. Ready.")
  public String type;

  @Required
  @JsonPropertyDescription("True, False or Unknown.")
  public String status;

  @JsonPropertyDescription("Why the condition is in this status: one CamelCase word.")
  public String reason;

  @JsonPropertyDescription("What a person should know about this status.")
  public String message;

  @JsonPropertyDescription("When the status last changed (RFC 3339).")
  public String lastTransitionTime;

  @JsonPropertyDescription("The metadata.generation the condition was set for.")
  public Long observedGeneration;

  private ConditionSchema() {}
}
