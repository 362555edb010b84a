package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;

/** A requirements file held in a ConfigMap key of the mirror's namespace. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RequirementsRef {
  @JsonPropertyDescription("Name of the ConfigMap in the mirror's namespace.")
  @Required
  private String name;

  @Default("requirements.txt")
  @JsonPropertyDescription(
      "Key of the ConfigMap that holds the requirements file; default requirements.txt.")
  private String key = "requirements.txt";

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getKey() {
    return key;
  }

  public void setKey(String key) {
    this.key = key;
  }
}
