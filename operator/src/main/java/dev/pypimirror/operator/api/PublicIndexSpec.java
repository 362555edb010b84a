package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PublicIndexSpec {
  public static final String DEFAULT_URL = "https://pypi.org/simple";

  @Default("true")
  private boolean enabled = true;

  @Default(DEFAULT_URL)
  @Pattern("^https?://[^\\s]+$")
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
