package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class PypiMirrorStatus {
  private Long observedGeneration;
  private List<Condition> conditions = new ArrayList<>();
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
  public Optional<Condition> condition(String type) {
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  @JsonIgnore
  public boolean isReady() {
    return condition(Conditions.READY).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
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
        && Objects.equals(observedGeneration, s.observedGeneration)
        && Objects.equals(conditions, s.conditions)
        && Objects.equals(configMapName, s.configMapName)
        && Objects.equals(claimName, s.claimName)
        && Objects.equals(indexUrls, s.indexUrls)
        && Objects.equals(configHash, s.configHash)
        && Objects.equals(cache, s.cache);
  }

  @Override
  public int hashCode() {
    return Objects.hash(observedGeneration, conditions, configMapName, claimName, configHash);
  }
}
