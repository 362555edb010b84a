package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class InjectionSpec {
  public static final String DEFAULT_HOME_DIR = "/root";

  @Default(DEFAULT_HOME_DIR)
  @Size(max = CacheSpec.MAX_MOUNT_PATH)
  @Pattern("^/[^\\s]*$")
  @JsonPropertyDescription("Where .pydistutils.cfg goes when the container sets no HOME.")
  private String homeDir = DEFAULT_HOME_DIR;

  public String getHomeDir() {
    return homeDir;
  }

  public void setHomeDir(String homeDir) {
    this.homeDir = homeDir;
  }
}
