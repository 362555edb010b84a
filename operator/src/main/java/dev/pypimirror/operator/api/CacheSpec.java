package dev.pypimirror.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(self.serve) || self.serve != 'Proxy' || (has(self.enabled) && self.enabled)",
    message = "serve: Proxy needs the cache enabled")
@ValidationRule(
    value =
        "!has(self.proxy) || !has(self.proxy.replicas) || self.proxy.replicas <= 1"
            + " || (has(self.accessModes) && self.accessModes.exists(m, m == 'ReadWriteMany'))",
    message = "proxy.replicas above 1 needs accessModes [ReadWriteMany]")
public class CacheSpec {
  public static final String DEFAULT_MOUNT_PATH = "/tmp/pypi";
  public static final String DEFAULT_SIZE = "10Gi";

  /** Bounds the file:// rule's cost (kube-apiserver sizes an unbounded string at 3 MiB). */
  public static final int MAX_MOUNT_PATH = 1024;

  /**
   * An absolute path as the kubelet would see it (no empty, '.' or '..' segment, no trailing '/'):
   * one spelling per directory, so comparing strings compares places.
   */
  public static final String CLEAN_ABSOLUTE_PATH =
      "^(/([^/\\s.][^/\\s]*|\\.[^/\\s.][^/\\s]*|\\.\\.[^/\\s]+))+$";

  public enum AccessMode {
    ReadWriteOnce,
    ReadOnlyMany,
    ReadWriteMany,
    ReadWriteOncePod
  }

  /** How build pods get the cache. */
  public enum Serve {
    /** The PVC mounted into every build pod, read-only, as file://mountPath. */
    Mount,
    /** A caching proxy serves the cache over HTTP; build pods mount nothing. */
    Proxy
  }

  public enum ReclaimPolicy {
    Retain,
    Delete
  }

  @Default("false")
  @JsonPropertyDescription(
      "Create (or use) a cache PVC, mounted read-only into build pods at mountPath; default false.")
  private boolean enabled;

  @Default("Mount")
  @JsonPropertyDescription(
      "Mount (default): the PVC mounted read-only into build pods as file://<mountPath> (with"
          + " ReadWriteOnce storage, pods on one node only). Proxy: a caching proxy (Deployment and"
          + " Service pypi-mirror-<name>-proxy) serves the cache over HTTP, fetching what is"
          + " missing from the upstreams; build pods mount nothing.")
  private Serve serve = Serve.Mount;

  @JsonPropertyDescription("The caching proxy, when serve is Proxy.")
  private ProxySpec proxy;

  @Default(DEFAULT_MOUNT_PATH)
  @Size(max = MAX_MOUNT_PATH)
  @Pattern(CLEAN_ABSOLUTE_PATH)
  @JsonPropertyDescription(
      "Absolute path where build pods see the cache; its index is file://<mountPath>. Written"
          + " plainly (no '.' or '..' segment, '//' or trailing '/'), and not at, above or below"
          + " where the configuration is mounted: /etc/pypi-mirror, /etc/pip.conf, /etc/uv/uv.toml,"
          + " <injection.homeDir>/.pydistutils.cfg.")
  private String mountPath = DEFAULT_MOUNT_PATH;

  /** The cache's own index, as pods see it: {@code file://<mountPath>}. */
  public String indexUrl() {
    return "file://" + mountPath;
  }

  @Default(DEFAULT_SIZE)
  @Pattern("^([+]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
  @JsonPropertyDescription("Requested size of the cache PVC (a Kubernetes quantity).")
  private String size = DEFAULT_SIZE;

  @JsonPropertyDescription("Storage class of the cache PVC; default: the cluster's default class.")
  private String storageClassName;

  @Size(max = 4)
  @JsonPropertyDescription(
      "Access modes of the cache PVC; default [ReadWriteOnce] (one node: with serve Mount, build"
          + " pods on other nodes cannot attach it).")
  private List<AccessMode> accessModes = new ArrayList<>(List.of(AccessMode.ReadWriteOnce));

  @JsonPropertyDescription("Use this existing PVC and create none.")
  private String existingClaim;

  @Size(max = 1000)
  @JsonPropertyDescription(
      "Requirement specifiers (PEP 508, by name) to download into the cache, e.g. requests==2.32.3;"
          + " each may carry --hash=sha256:<hex> (pip's hash-checking mode: then every line must)."
          + " Other pip options are refused.")
  private List<@Pattern("^[A-Za-z0-9]") String> packages = new ArrayList<>();

  @JsonPropertyDescription(
      "A ConfigMap key holding a requirements file to download into the cache: the same lines as"
          + " packages (comments and continuations allowed), read by the operator at each sync.")
  private RequirementsRef requirementsConfigMap;

  @JsonPropertyDescription(
      "How the cache is filled; it is synced when packages or requirementsConfigMap are set.")
  private SyncSpec sync;

  @Default("Retain")
  @JsonPropertyDescription("Retain: the PVC outlives the mirror. Delete: it is deleted with it.")
  private ReclaimPolicy reclaimPolicy = ReclaimPolicy.Retain;

  public Serve getServe() {
    return serve;
  }

  public void setServe(Serve serve) {
    this.serve = serve;
  }

  public ProxySpec getProxy() {
    return proxy;
  }

  public void setProxy(ProxySpec proxy) {
    this.proxy = proxy;
  }

  /** Whether a caching proxy serves this cache: enabled and serve Proxy. */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean isProxied() {
    return enabled && serve == Serve.Proxy;
  }

  public List<String> getPackages() {
    return packages;
  }

  public void setPackages(List<String> packages) {
    this.packages = packages;
  }

  public RequirementsRef getRequirementsConfigMap() {
    return requirementsConfigMap;
  }

  public void setRequirementsConfigMap(RequirementsRef requirementsConfigMap) {
    this.requirementsConfigMap = requirementsConfigMap;
  }

  public SyncSpec getSync() {
    return sync;
  }

  public void setSync(SyncSpec sync) {
    this.sync = sync;
  }

  /** Whether the operator fills this cache. */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean isSynced() {
    return enabled && ((packages != null && !packages.isEmpty()) || requirementsConfigMap != null);
  }

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public String getMountPath() {
    return mountPath;
  }

  public void setMountPath(String mountPath) {
    this.mountPath = mountPath;
  }

  public String getSize() {
    return size;
  }

  public void setSize(String size) {
    this.size = size;
  }

  public String getStorageClassName() {
    return storageClassName;
  }

  public void setStorageClassName(String storageClassName) {
    this.storageClassName = storageClassName;
  }

  public List<AccessMode> getAccessModes() {
    return accessModes;
  }

  public void setAccessModes(List<AccessMode> accessModes) {
    this.accessModes = accessModes;
  }

  public String getExistingClaim() {
    return existingClaim;
  }

  public void setExistingClaim(String existingClaim) {
    this.existingClaim = existingClaim;
  }

  public ReclaimPolicy getReclaimPolicy() {
    return reclaimPolicy;
  }

  public void setReclaimPolicy(ReclaimPolicy reclaimPolicy) {
    this.reclaimPolicy = reclaimPolicy;
  }
}
