package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.ResourceRequirements;

/** The caching proxy that serves a mirror's cache when {@code cache.serve} is Proxy. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProxySpec {
  public static final int DEFAULT_INDEX_TTL_SECONDS = 600;

  public enum Resolution {
    FirstMatch,
    Merge
  }

  @Default("1")
  @Min(1)
  @Max(20)
  @JsonPropertyDescription(
      "Proxy replicas; default 1. More than 1 needs cache.accessModes [ReadWriteMany]: every"
          + " replica mounts the cache read-write.")
  private int replicas = 1;

  @Default("600")
  @Min(0)
  @Max(86400)
  @JsonPropertyDescription(
      "A cached index page older than this is revalidated upstream; default 600 seconds.")
  private int indexTTLSeconds = DEFAULT_INDEX_TTL_SECONDS;

  @Default("FirstMatch")
  @JsonPropertyDescription(
      "FirstMatch (default): the first upstream that has a project answers alone (the"
          + " dependency-confusion defence). Merge: every upstream's files together (pip's"
          + " extra-index-url behaviour).")
  private Resolution resolution = Resolution.FirstMatch;

  @SchemaFrom(type = ResourcesSchema.class)
  @JsonPropertyDescription(
      "The proxy container's resources; default requests 100m CPU and 256Mi memory, limit 512Mi.")
  private ResourceRequirements resources;

  public int getReplicas() {
    return replicas;
  }

  public void setReplicas(int replicas) {
    this.replicas = replicas;
  }

  public int getIndexTTLSeconds() {
    return indexTTLSeconds;
  }

  public void setIndexTTLSeconds(int indexTTLSeconds) {
    this.indexTTLSeconds = indexTTLSeconds;
  }

  public Resolution getResolution() {
    return resolution;
  }

  public void setResolution(Resolution resolution) {
    this.resolution = resolution;
  }

  public ResourceRequirements getResources() {
    return resources;
  }

  public void setResources(ResourceRequirements resources) {
    this.resources = resources;
  }
}
