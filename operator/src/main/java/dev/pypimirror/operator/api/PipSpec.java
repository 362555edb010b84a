package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PipSpec {
  @Min(0)
  @Max(Integer.MAX_VALUE)
  @JsonPropertyDescription(
      "pip retries per request; 0: an unreachable index fails at once instead of after the retries (pip asks every index either way).")
  private Integer retries;

  @Min(1)
  @Max(Integer.MAX_VALUE)
  @JsonPropertyDescription("pip socket timeout in seconds.")
  private Integer timeoutSeconds;

  public Integer getRetries() {
    return retries;
  }

  public void setRetries(Integer retries) {
    this.retries = retries;
  }

  public Integer getTimeoutSeconds() {
    return timeoutSeconds;
  }

  public void setTimeoutSeconds(Integer timeoutSeconds) {
    this.timeoutSeconds = timeoutSeconds;
  }
}
