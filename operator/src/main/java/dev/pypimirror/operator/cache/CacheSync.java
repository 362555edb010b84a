package dev.pypimirror.operator.cache;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PublicIndexSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.SyncSpec;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.MirrorObjects;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.CronJobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobSpec;
import io.fabric8.kubernetes.api.model.batch.v1.JobSpecBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * What filling a mirror's cache looks like: the sync Job (pip download into the cache PVC, then the
 * operator image's {@code index}), the CronJob when scheduled, and the hash that names a sync.
 * Pure: no I/O.
 */
public final class CacheSync {
  /** Where the sync pod mounts the cache PVC, read-write. */
  public static final String CACHE_ROOT = "/cache";

  /**
   * Where downloaded files go under the cache root (never a PEP 503 project name: it has a '_').
   */
  public static final String FILES_DIR = "_files";

  public static final String COMPONENT = "cache-sync";
  public static final String HASH_ANNOTATION = "pypimirror.dev/sync-hash";

  /** Change this annotation on a PypiMirror to sync again with an unchanged spec. */
  public static final String RESYNC_ANNOTATION = "pypimirror.dev/resync";

  static final long NON_ROOT_ID = 65532;
  static final int TTL_AFTER_FINISHED_SECONDS = 24 * 3600;

  private CacheSync() {}

  /** The sync of one mirror: its Job template and the hash of it. */
  public record Plan(JobSpec jobSpec, String hash) {}

  public static Plan plan(PypiMirror mirror, String claimName, String indexImage) {
    CacheSpec cache = mirror.getSpec().getCache();
    SyncSpec sync = cache.getSync() == null ? new SyncSpec() : cache.getSync();
    String name = mirror.getMetadata().getName();
    List<VolumeMount> mounts = new ArrayList<>();
    mounts.add(new VolumeMountBuilder().withName("cache").withMountPath(CACHE_ROOT).build());
    mounts.add(new VolumeMountBuilder().withName("tmp").withMountPath("/tmp").build());
    List<Volume> volumes = new ArrayList<>();
    volumes.add(
        new VolumeBuilder()
            .withName("cache")
            .withNewPersistentVolumeClaim(claimName, false)
            .build());
    volumes.add(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build());
    String requirementsFile = null;
    if (cache.getRequirementsConfigMap() != null) {
      requirementsFile = "/requirements/requirements.txt";
      mounts.add(
          new VolumeMountBuilder()
              .withName("requirements")
              .withMountPath("/requirements")
              .withReadOnly(true)
              .build());
      volumes.add(
          new VolumeBuilder()
              .withName("requirements")
              .withNewConfigMap()
              .withName(cache.getRequirementsConfigMap().getName())
              .addNewItem()
              .withKey(cache.getRequirementsConfigMap().getKey())
              .withPath("requirements.txt")
              .endItem()
              .endConfigMap()
              .build());
    }
    Container download =
        new ContainerBuilder()
            .withName("download")
            .withImage(sync.getImage())
            .withCommand("python", "-m", "pip")
            .withArgs(downloadArgs(mirror, CACHE_ROOT, requirementsFile))
            .addNewEnv()
            .withName("HOME")
            .withValue("/tmp")
            .endEnv()
            .addNewEnv()
            .withName("PIP_CONFIG_FILE")
            .withValue("/dev/null")
            .endEnv()
            .addNewEnv()
            .withName("PYTHONDONTWRITEBYTECODE")
            .withValue("1")
            .endEnv()
            .withVolumeMounts(mounts)
            .withSecurityContext(restricted())
            .withTerminationMessagePolicy("FallbackToLogsOnError")
            .withNewResources()
            .addToRequests("cpu", new Quantity("100m"))
            .addToRequests("memory", new Quantity("256Mi"))
            .addToLimits("memory", new Quantity("1Gi"))
            .endResources()
            .build();
    Container index =
        new ContainerBuilder()
            .withName("index")
            .withImage(indexImage)
            .withArgs("index", CACHE_ROOT, "--summary-file", "/dev/termination-log")
            .withVolumeMounts(mounts.subList(0, 2))
            .withSecurityContext(restricted())
            .withTerminationMessagePolicy("FallbackToLogsOnError")
            .withNewResources()
            .addToRequests("cpu", new Quantity("100m"))
            .addToRequests("memory", new Quantity("128Mi"))
            .addToLimits("memory", new Quantity("256Mi"))
            .endResources()
            .build();
    PodTemplateSpec template =
        new PodTemplateSpecBuilder()
            .withNewMetadata()
            .withLabels(MirrorObjects.labels(name, COMPONENT))
            // the sync pod downloads from upstream itself: never a target of the webhook
            .withAnnotations(Map.of("pypimirror.dev/inject", "false"))
            .endMetadata()
            .withNewSpec()
            .withRestartPolicy("Never")
            .withAutomountServiceAccountToken(false)
            .withNewSecurityContext()
            .withRunAsNonRoot(true)
            .withRunAsUser(NON_ROOT_ID)
            .withRunAsGroup(NON_ROOT_ID)
            .withFsGroup(NON_ROOT_ID)
            .withNewSeccompProfile()
            .withType("RuntimeDefault")
            .endSeccompProfile()
            .endSecurityContext()
            // the download runs first; the index is rebuilt only once it succeeded
            .withInitContainers(download)
            .withContainers(index)
            .withVolumes(volumes)
            .endSpec()
            .build();
    JobSpec spec =
        new JobSpecBuilder()
            .withBackoffLimit(sync.getBackoffLimit())
            .withActiveDeadlineSeconds(sync.getActiveDeadlineSeconds().longValue())
            .withTtlSecondsAfterFinished(TTL_AFTER_FINISHED_SECONDS)
            .withTemplate(template)
            .build();
    String resync =
        mirror.getMetadata().getAnnotations() == null
            ? ""
            : mirror.getMetadata().getAnnotations().getOrDefault(RESYNC_ANNOTATION, "");
    return new Plan(spec, sha256(Serialization.asJson(spec) + "\0" + resync));
  }

  /** pip download's arguments (after {@code python -m pip}), writing under {@code cacheRoot}. */
  public static List<String> downloadArgs(
      PypiMirror mirror, String cacheRoot, String requirementsFile) {
    CacheSpec cache = mirror.getSpec().getCache();
    SyncSpec sync = cache.getSync() == null ? new SyncSpec() : cache.getSync();
    List<String> args =
        new ArrayList<>(
            List.of(
                "download",
                "--dest",
                cacheRoot + "/" + FILES_DIR,
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--progress-bar",
                "off"));
    List<String> upstream = upstream(mirror);
    args.addAll(List.of("--index-url", upstream.get(0)));
    upstream.subList(1, upstream.size()).forEach(u -> args.addAll(List.of("--extra-index-url", u)));
    LinkedHashSet<String> trusted = new LinkedHashSet<>();
    for (String url : upstream) {
      URI uri = URI.create(url);
      if ("http".equalsIgnoreCase(uri.getScheme())) {
        trusted.add(MirrorConfigRenderer.hostAndPort(uri));
      }
    }
    trusted.forEach(h -> args.addAll(List.of("--trusted-host", h)));
    List<String> platforms = sync.getPlatforms() == null ? List.of() : sync.getPlatforms();
    platforms.forEach(p -> args.addAll(List.of("--platform", p)));
    if (sync.getPythonVersion() != null) {
      args.addAll(List.of("--python-version", sync.getPythonVersion()));
    }
    if (!platforms.isEmpty() || sync.getPythonVersion() != null) {
      // pip requires it with a foreign target: only wheels can be chosen without building
      args.add("--only-binary=:all:");
    }
    if (requirementsFile != null) {
      args.addAll(List.of("-r", requirementsFile));
    }
    if (cache.getPackages() != null) {
      args.addAll(
          cache.getPackages().stream().map(String::trim).filter(p -> !p.isEmpty()).toList());
    }
    return args;
  }

  /**
   * Where to download from: sync.upstream, else the mirror's own non-cache indexes, else the public
   * index.
   */
  static List<String> upstream(PypiMirror mirror) {
    SyncSpec sync = mirror.getSpec().getCache().getSync();
    if (sync != null && sync.getUpstream() != null) {
      return List.of(sync.getUpstream());
    }
    List<String> own =
        (mirror.getSpec().getIndexes() == null
                ? List.<IndexSpec>of()
                : mirror.getSpec().getIndexes())
            .stream().map(IndexSpec::getUrl).filter(u -> !u.startsWith("file:")).toList();
    if (!own.isEmpty()) {
      return own;
    }
    PublicIndexSpec publicIndex =
        mirror.getSpec().getPublicIndex() == null
            ? new PublicIndexSpec()
            : mirror.getSpec().getPublicIndex();
    return List.of(publicIndex.getUrl());
  }

  public static String jobName(String mirrorName, String hash) {
    return "pypi-mirror-" + mirrorName + "-sync-" + hash.substring(0, 10);
  }

  public static String cronJobName(String mirrorName) {
    return "pypi-mirror-" + mirrorName + "-sync";
  }

  /** The one-off sync Job for the plan, owned by the mirror. */
  public static Job job(PypiMirror mirror, Plan plan) {
    String name = mirror.getMetadata().getName();
    return new JobBuilder()
        .withNewMetadata()
        .withName(jobName(name, plan.hash()))
        .withNamespace(mirror.getMetadata().getNamespace())
        .withLabels(MirrorObjects.labels(name, COMPONENT))
        .withAnnotations(Map.of(HASH_ANNOTATION, plan.hash()))
        .withOwnerReferences(MirrorObjects.ownerReference(mirror))
        .endMetadata()
        .withSpec(plan.jobSpec())
        .build();
  }

  /** The scheduled refresh: the same Job, one at a time (concurrencyPolicy Forbid). */
  public static CronJob cronJob(PypiMirror mirror, Plan plan) {
    String name = mirror.getMetadata().getName();
    return new CronJobBuilder()
        .withNewMetadata()
        .withName(cronJobName(name))
        .withNamespace(mirror.getMetadata().getNamespace())
        .withLabels(MirrorObjects.labels(name, COMPONENT))
        .withOwnerReferences(MirrorObjects.ownerReference(mirror))
        .endMetadata()
        .withNewSpec()
        .withSchedule(mirror.getSpec().getCache().getSync().getSchedule())
        .withConcurrencyPolicy("Forbid")
        .withSuccessfulJobsHistoryLimit(1)
        .withFailedJobsHistoryLimit(1)
        .withNewJobTemplate()
        .withNewMetadata()
        .withLabels(MirrorObjects.labels(name, COMPONENT))
        .withAnnotations(Map.of(HASH_ANNOTATION, plan.hash()))
        .endMetadata()
        .withSpec(plan.jobSpec())
        .endJobTemplate()
        .endSpec()
        .build();
  }

  private static SecurityContext restricted() {
    return new SecurityContextBuilder()
        .withAllowPrivilegeEscalation(false)
        .withReadOnlyRootFilesystem(true)
        .withRunAsNonRoot(true)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .build();
  }

  static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
