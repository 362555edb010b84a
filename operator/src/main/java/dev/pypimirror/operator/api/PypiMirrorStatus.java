package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PypiMirrorStatus extends ConditionedStatus {
  private String configMapName;
  private String claimName;
  private List<String> indexUrls = new ArrayList<>();
  private String configHash;
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
