package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

/**
 * How the operator fills the cache: a Job (and a CronJob when scheduled) that downloads and
 * indexes.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SyncSpec {
  public static final String DEFAULT_IMAGE = "python:3.12-slim";
  public static final String DEFAULT_MAX_FILE_SIZE = "2Gi";

  /**
   * A CronJob schedule's shape (config.CronSchedule checks the values): five fields, each a list of
   * items {@code *}, {@code ?}, a number or a three-letter name, a range, each with an optional
   * step; or a macro.
   */
  public static final String SCHEDULE_PATTERN =
      "^\\s*(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every [0-9.a-z]+|"
          + "((\\*|\\?|[0-9]{1,2}|[A-Za-z]{3})(-([0-9]{1,2}|[A-Za-z]{3}))?(/[0-9]{1,2})?(,(\\*|\\?|[0-9]{1,2}|[A-Za-z]{3})(-([0-9]{1,2}|[A-Za-z]{3}))?(/[0-9]{1,2})?)*)"
          + "(\\s+((\\*|\\?|[0-9]{1,2}|[A-Za-z]{3})(-([0-9]{1,2}|[A-Za-z]{3}))?(/[0-9]{1,2})?(,(\\*|\\?|[0-9]{1,2}|[A-Za-z]{3})(-([0-9]{1,2}|[A-Za-z]{3}))?(/[0-9]{1,2})?)*)){4})\\s*$";

  @JsonPropertyDescription(
      "Cron schedule for refreshing the cache, as a CronJob takes it (five fields, e.g. '0 3 * * *', or"
          + " @hourly, @daily, ...); none: sync when the spec changes only.")
  @Size(max = 128)
  @Pattern(SCHEDULE_PATTERN)
  private String schedule;

  @Default(DEFAULT_IMAGE)
  @JsonPropertyDescription(
      "Image with Python and pip that runs pip download. It never mounts the cache: what it"
          + " downloads reaches the cache only through the operator image's checks.")
  private String image = DEFAULT_IMAGE;

  @Pattern("^https?://[^\\s]+$")
  @JsonPropertyDescription(
      "Index to download from; default: the mirror's own non-cache indexes, else the public index.")
  private String upstream;

  @Size(max = 16)
  @JsonPropertyDescription(
      "Wheel platform tags of the build images (pip download --platform), e.g. manylinux2014_x86_64.")
  private List<@Pattern("^[A-Za-z0-9_.]+$") String> platforms = new ArrayList<>();

  @Pattern("^[0-9]+(\\.[0-9]+){0,2}$")
  @JsonPropertyDescription(
      "Python version of the build images (pip download --python-version), e.g. 3.12.")
  private String pythonVersion;

  @Default("false")
  @JsonPropertyDescription(
      "Also download source distributions and build their metadata (pip runs each one's build code"
          + " in the download step, which never mounts the cache). Default false: wheels only"
          + " (--only-binary=:all:), no package code runs. A dedicated user with no privileges may be"
          + " desirable when running this for unattended installs, since pypi-mirror will compile"
          + " fairly arbitrary code from the internet.")
  private boolean allowSourceBuilds;

  @Default(DEFAULT_MAX_FILE_SIZE)
  @Pattern("^([+]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
  @JsonPropertyDescription(
      "Largest file the sync adds to the cache (a Kubernetes quantity); larger ones are refused.")
  private String maxFileSize = DEFAULT_MAX_FILE_SIZE;

  @Default("1800")
  @Min(60)
  @Max(Integer.MAX_VALUE)
  @JsonPropertyDescription(
      "How long a sync Job may run before it is stopped (activeDeadlineSeconds); default 1800.")
  private Integer activeDeadlineSeconds = 1800;

  @Default("2")
  @Min(0)
  @Max(Integer.MAX_VALUE)
  @JsonPropertyDescription("How often a failed sync Job is retried (backoffLimit); default 2.")
  private Integer backoffLimit = 2;

  public String getSchedule() {
    return schedule;
  }

  public void setSchedule(String schedule) {
    this.schedule = schedule;
  }

  public String getImage() {
    return image;
  }

  public void setImage(String image) {
    this.image = image;
  }

  public String getUpstream() {
    return upstream;
  }

  public void setUpstream(String upstream) {
    this.upstream = upstream;
  }

  public List<String> getPlatforms() {
    return platforms;
  }

  public void setPlatforms(List<String> platforms) {
    this.platforms = platforms;
  }

  public String getPythonVersion() {
    return pythonVersion;
  }

  public void setPythonVersion(String pythonVersion) {
    this.pythonVersion = pythonVersion;
  }

  public boolean isAllowSourceBuilds() {
    return allowSourceBuilds;
  }

  public void setAllowSourceBuilds(boolean allowSourceBuilds) {
    this.allowSourceBuilds = allowSourceBuilds;
  }

  public String getMaxFileSize() {
    return maxFileSize;
  }

  public void setMaxFileSize(String maxFileSize) {
    this.maxFileSize = maxFileSize;
  }

  public Integer getActiveDeadlineSeconds() {
    return activeDeadlineSeconds;
  }

  public void setActiveDeadlineSeconds(Integer activeDeadlineSeconds) {
    this.activeDeadlineSeconds = activeDeadlineSeconds;
  }

  public Integer getBackoffLimit() {
    return backoffLimit;
  }

  public void setBackoffLimit(Integer backoffLimit) {
    this.backoffLimit = backoffLimit;
  }
}
