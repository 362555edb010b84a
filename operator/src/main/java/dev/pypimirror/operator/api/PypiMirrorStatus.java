package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PypiMirrorStatus extends ConditionedStatus {
  @JsonPropertyDescription(
      "The ConfigMap holding the rendered pip.conf, uv.toml and pydistutils.cfg.")
  private String configMapName;

  @JsonPropertyDescription("The cache PVC build pods mount, when the cache is enabled.")
  private String claimName;

  @JsonPropertyDescription(
      "The indexes pip gets: index-url, then each extra-index-url (pip asks all of them and installs"
          + " the highest version found on any).")
  private List<String> indexUrls = new ArrayList<>();

  @JsonPropertyDescription(
      "sha256 of the rendered configuration; its prefix is in the pods' pypimirror.dev/injected annotation.")
  private String configHash;

  @JsonPropertyDescription(
      "The caching proxy's URL (serve: Proxy): the one index build pods are given.")
  private String proxyUrl;

  @JsonPropertyDescription("What the last cache sync put into the cache.")
  private CacheStatus cache;

  public CacheStatus getCache() {
    return cache;
  }

  public void setCache(CacheStatus cache) {
    this.cache = cache;
  }

  @JsonIgnore
  public boolean isReady() {
    return condition(Conditions.READY).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  public String getProxyUrl() {
    return proxyUrl;
  }

  public void setProxyUrl(String proxyUrl) {
    this.proxyUrl = proxyUrl;
  }

  public String getConfigMapName() {
    return configMapName;
  }

  public void setConfigMapName(String configMapName) {
    this.configMapName = configMapName;
  }

  public String getClaimName() {
    return claimName;
  }

  public void setClaimName(String claimName) {
    this.claimName = claimName;
  }

  public List<String> getIndexUrls() {
    return indexUrls;
  }

  public void setIndexUrls(List<String> indexUrls) {
    this.indexUrls = indexUrls;
  }

  public String getConfigHash() {
    return configHash;
  }

  public void setConfigHash(String configHash) {
    this.configHash = configHash;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PypiMirrorStatus s
        && sameConditions(s)
        && Objects.equals(configMapName, s.configMapName)
        && Objects.equals(claimName, s.claimName)
        && Objects.equals(proxyUrl, s.proxyUrl)
        && Objects.equals(indexUrls, s.indexUrls)
        && Objects.equals(configHash, s.configHash)
        && Objects.equals(cache, s.cache);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        getObservedGeneration(), getConditions(), configMapName, claimName, configHash);
  }
}
