package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!self.url.startsWith('http://') || (has(self.trustedHost) && self.trustedHost)",
    message = "plain http index needs trustedHost: true")
public class IndexSpec {
  @Required
  @Size(max = 2048)
  @Pattern("^(https?|file)://[^\\s]+$")
  @JsonPropertyDescription("A PEP 503 simple index: https://, http:// (trusted only) or file://.")
  private String url;

  @JsonPropertyDescription(
      "Allow this plain-http index (pip trusted-host, uv allow-insecure-host).")
  private boolean trustedHost;

  @JsonPropertyDescription(
      "A Secret in the mirror's namespace with keys username and password, or token (sent as user"
          + " __token__), for this index. Used only by the caching proxy and the cache sync's"
          + " download step, never given to build pods: needs cache.serve Proxy.")
  private SecretRef credentialsSecret;

  public IndexSpec() {}

  public IndexSpec(String url, boolean trustedHost) {
    this.url = url;
    this.trustedHost = trustedHost;
  }

  public String getUrl() {
    return url;
  }

  public void setUrl(String url) {
    this.url = url;
  }

  public SecretRef getCredentialsSecret() {
    return credentialsSecret;
  }

  public void setCredentialsSecret(SecretRef credentialsSecret) {
    this.credentialsSecret = credentialsSecret;
  }

  public boolean isTrustedHost() {
    return trustedHost;
  }

  public void setTrustedHost(boolean trustedHost) {
    this.trustedHost = trustedHost;
  }
}
