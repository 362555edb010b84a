package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "!has(self.indexes) || self.indexes.all(i, !i.url.startsWith('file://') || (has(self.cache)"
            + " && self.cache.enabled && i.url == 'file://' + self.cache.mountPath))",
    message =
        "a file:// index must be the enabled cache's own mount path (file://<cache.mountPath>)")
@ValidationRule(
    value =
        "!has(self.cache) || ("
            + PypiMirrorSpec.CACHE_BESIDE_CONFIG_DIR
            + " && "
            + PypiMirrorSpec.CACHE_BESIDE_PIP_CONF
            + " && "
            + PypiMirrorSpec.CACHE_BESIDE_UV_TOML
            + " && "
            + PypiMirrorSpec.CACHE_BESIDE_PYDISTUTILS
            + ")",
    message =
        "cache.mountPath may not be at, above or below a path the mirror's configuration is"
            + " mounted at (/etc/pypi-mirror, /etc/pip.conf, /etc/uv/uv.toml,"
            + " <injection.homeDir>/.pydistutils.cfg)")
@ValidationRule(
    value =
        "!has(self.indexes) || !self.indexes.exists(i, has(i.credentialsSecret)) ||"
            + " (has(self.cache) && has(self.cache.serve) && self.cache.serve == 'Proxy')",
    message =
        "indexes[].credentialsSecret needs cache.serve: Proxy (with Mount the credentials would"
            + " be in every build pod)")
public class PypiMirrorSpec {
  // CEL, one clause per configuration path P: the cache is not at P, under P, or above P
  static final String MOUNT = "self.cache.mountPath";
  static final String CACHE_BESIDE_CONFIG_DIR =
      MOUNT
          + " != '"
          + MountedConfig.CONFIG_DIR
          + "' && !"
          + MOUNT
          + ".startsWith('"
          + MountedConfig.CONFIG_DIR
          + "/') && !'"
          + MountedConfig.CONFIG_DIR
          + "'.startsWith("
          + MOUNT
          + " + '/')";
  static final String CACHE_BESIDE_PIP_CONF =
      MOUNT
          + " != '"
          + MountedConfig.PIP_CONF
          + "' && !"
          + MOUNT
          + ".startsWith('"
          + MountedConfig.PIP_CONF
          + "/') && !'"
          + MountedConfig.PIP_CONF
          + "'.startsWith("
          + MOUNT
          + " + '/')";
  static final String CACHE_BESIDE_UV_TOML =
      MOUNT
          + " != '"
          + MountedConfig.UV_TOML
          + "' && !"
          + MOUNT
          + ".startsWith('"
          + MountedConfig.UV_TOML
          + "/') && !'"
          + MountedConfig.UV_TOML
          + "'.startsWith("
          + MOUNT
          + " + '/')";
  static final String PYDISTUTILS_PATH =
      "((has(self.injection) && has(self.injection.homeDir) ? self.injection.homeDir"
          + " + (self.injection.homeDir.endsWith('/') ? '' : '/') : '"
          + InjectionSpec.DEFAULT_HOME_DIR
          + "/') + '"
          + MountedConfig.PYDISTUTILS_FILE
          + "')";
  static final String CACHE_BESIDE_PYDISTUTILS =
      MOUNT
          + " != "
          + PYDISTUTILS_PATH
          + " && !"
          + MOUNT
          + ".startsWith("
          + PYDISTUTILS_PATH
          + " + '/') && !"
          + PYDISTUTILS_PATH
          + ".startsWith("
          + MOUNT
          + " + '/')";

  @JsonPropertyDescription(
      "Mirror indexes: the first is pip's index-url, the rest extra-index-url (pip asks all and"
          + " takes the highest version on any); uv asks them in this order and takes the first"
          + " that has the project.")
  @Size(max = 32)
  private List<IndexSpec> indexes = new ArrayList<>();

  @JsonPropertyDescription("The cache PVC, served to build pods as file://<mountPath>.")
  private CacheSpec cache;

  @JsonPropertyDescription("The public index, added after the mirrors unless offline.")
  private PublicIndexSpec publicIndex;

  @JsonPropertyDescription("Use only the mirrors, never the public index.")
  private boolean offline;

  @JsonPropertyDescription("pip's own settings: retries and timeout.")
  private PipSpec pip;

  @JsonPropertyDescription("The .pydistutils.cfg for legacy setup_requires (easy_install).")
  private PydistutilsSpec pydistutils;

  @JsonPropertyDescription("How the webhook injects the mirror into pods.")
  private InjectionSpec injection;

  public List<IndexSpec> getIndexes() {
    return indexes;
  }

  public void setIndexes(List<IndexSpec> indexes) {
    this.indexes = indexes;
  }

  public CacheSpec getCache() {
    return cache;
  }

  public void setCache(CacheSpec cache) {
    this.cache = cache;
  }

  public PublicIndexSpec getPublicIndex() {
    return publicIndex;
  }

  public void setPublicIndex(PublicIndexSpec publicIndex) {
    this.publicIndex = publicIndex;
  }

  public boolean isOffline() {
    return offline;
  }

  public void setOffline(boolean offline) {
    this.offline = offline;
  }

  public PipSpec getPip() {
    return pip;
  }

  public void setPip(PipSpec pip) {
    this.pip = pip;
  }

  public PydistutilsSpec getPydistutils() {
    return pydistutils;
  }

  public void setPydistutils(PydistutilsSpec pydistutils) {
    this.pydistutils = pydistutils;
  }

  public InjectionSpec getInjection() {
    return injection;
  }

  public void setInjection(InjectionSpec injection) {
    this.injection = injection;
  }
}
