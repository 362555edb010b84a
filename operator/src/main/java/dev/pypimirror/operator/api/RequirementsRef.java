package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;

/** A requirements file held in a ConfigMap key of the mirror's namespace. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RequirementsRef {
  @Required private String name;

  @Default("requirements.txt")
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
