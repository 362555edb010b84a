package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;
import java.util.Objects;

/** What the last cache sync left. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CacheStatus {
  @JsonPropertyDescription("When the last successful sync finished (RFC 3339).")
  private String lastSyncTime;

  @JsonPropertyDescription(
      "Distribution files (wheels and sdists) in the cache after the last sync.")
  private Integer packageCount;

  @JsonPropertyDescription("Projects in the cache's index after the last sync.")
  private Integer projectCount;

  @JsonPropertyDescription("Total size of the distribution files in the cache, in bytes.")
  private Long sizeBytes;

  @JsonPropertyDescription(
      "Files and folders under the cache that the last sync's index step could not read: skipped,"
          + " each named in a warning in that step's log; the rest is indexed.")
  private Integer unreadableCount;

  @JsonPropertyDescription("The name of the last sync Job.")
  private String lastSyncJob;

  /** The sync spec hash of the last successful sync. */
  @JsonPropertyDescription("Hash of the sync Job template the cache was last filled with.")
  private String syncedHash;

  @JsonPropertyDescription("Files the last sync added to the cache.")
  private Integer added;

  @JsonPropertyDescription("Files the last sync downloaded that the cache already held, unchanged.")
  private Integer alreadyPresent;

  @JsonPropertyDescription("Files the last sync refused to add (see refusals).")
  private Integer refused;

  @JsonPropertyDescription("Why, per refused file (the first ones; the Job's log has them all).")
  private List<String> refusals;

  public Integer getAdded() {
    return added;
  }

  public void setAdded(Integer added) {
    this.added = added;
  }

  public Integer getAlreadyPresent() {
    return alreadyPresent;
  }

  public void setAlreadyPresent(Integer alreadyPresent) {
    this.alreadyPresent = alreadyPresent;
  }

  public Integer getRefused() {
    return refused;
  }

  public void setRefused(Integer refused) {
    this.refused = refused;
  }

  public List<String> getRefusals() {
    return refusals;
  }

  public void setRefusals(List<String> refusals) {
    this.refusals = refusals;
  }

  public String getLastSyncTime() {
    return lastSyncTime;
  }

  public void setLastSyncTime(String lastSyncTime) {
    this.lastSyncTime = lastSyncTime;
  }

  public Integer getPackageCount() {
    return packageCount;
  }

  public void setPackageCount(Integer packageCount) {
    this.packageCount = packageCount;
  }

  public Integer getProjectCount() {
    return projectCount;
  }

  public void setProjectCount(Integer projectCount) {
    this.projectCount = projectCount;
  }

  public Long getSizeBytes() {
    return sizeBytes;
  }

  public void setSizeBytes(Long sizeBytes) {
    this.sizeBytes = sizeBytes;
  }

  public Integer getUnreadableCount() {
    return unreadableCount;
  }

  public void setUnreadableCount(Integer unreadableCount) {
    this.unreadableCount = unreadableCount;
  }

  public String getLastSyncJob() {
    return lastSyncJob;
  }

  public void setLastSyncJob(String lastSyncJob) {
    this.lastSyncJob = lastSyncJob;
  }

  public String getSyncedHash() {
    return syncedHash;
  }

  public void setSyncedHash(String syncedHash) {
    this.syncedHash = syncedHash;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CacheStatus c
        && Objects.equals(lastSyncTime, c.lastSyncTime)
        && Objects.equals(packageCount, c.packageCount)
        && Objects.equals(projectCount, c.projectCount)
        && Objects.equals(sizeBytes, c.sizeBytes)
        && Objects.equals(unreadableCount, c.unreadableCount)
        && Objects.equals(lastSyncJob, c.lastSyncJob)
        && Objects.equals(syncedHash, c.syncedHash)
        && Objects.equals(added, c.added)
        && Objects.equals(alreadyPresent, c.alreadyPresent)
        && Objects.equals(refused, c.refused)
        && Objects.equals(refusals, c.refusals);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        lastSyncTime, packageCount, sizeBytes, unreadableCount, lastSyncJob, syncedHash);
  }
}
