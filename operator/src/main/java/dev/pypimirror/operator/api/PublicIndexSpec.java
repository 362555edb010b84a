package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PublicIndexSpec {
  public static final String DEFAULT_URL = "https://pypi.org/simple";

  @Default("true")
  @JsonPropertyDescription(
      "Add the public index (pip extra-index-url, uv's default index); default true. pip installs the"
          + " highest version found on any index, so beside a private index this invites dependency"
          + " confusion (the mirror's DependencyConfusionRisk condition says so).")
  private boolean enabled = true;

  @Default(DEFAULT_URL)
  @Pattern("^https?://[^\\s]+$")
  @JsonPropertyDescription("The public index; default https://pypi.org/simple.")
  private String url = DEFAULT_URL;

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    this.url = url;
  }
}
