package dev.pypimirror.operator.owned;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PublicIndexSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.SecretRef;
import dev.pypimirror.operator.api.SyncSpec;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.Requirements;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
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
 * What filling a mirror's cache looks like: the sync Job (pip download into a scratch volume, then
 * the operator image's {@code ingest}, which checks and adds to the cache PVC and indexes it), the
 * CronJob when scheduled, and the hash that names a sync. Pure: no I/O.
 */
public final class CacheSync {
  /** Where the sync pod's trusted container mounts the cache PVC, read-write. */
  public static final String CACHE_ROOT = "/cache";

  public static final String COMPONENT = "cache-sync";
  public static final String HASH_ANNOTATION = "pypimirror.dev/sync-hash";

  /** Change this annotation on a PypiMirror to sync again with an unchanged spec. */
  public static final String RESYNC_ANNOTATION = "pypimirror.dev/resync";

  static final int TTL_AFTER_FINISHED_SECONDS = 24 * 3600;

  private CacheSync() {}

  /** The sync of one mirror: its Job template and the hash of it. */
  public record Plan(JobSpec jobSpec, String hash) {}

  /** Where the sync pod mounts the scratch volume the download step writes to. */
  public static final String SCRATCH_ROOT = "/scratch";

  /** Carries the checked requirements file into both steps (the Job template is immutable). */
  public static final String REQUIREMENTS_ENV = "PYPI_MIRROR_REQUIREMENTS";

  /**
   * Run by the download container as {@code python -I -B -c SCRIPT REQUIREMENTS_FILE PIP_ARGS...}:
   * drops every PIP_* variable the image sets (any case), so only the arguments decide the indexes
   * (PIP_CONFIG_FILE=/dev/null: no config file), writes the requirements file, then runs pip.
   */
  static final String DOWNLOAD_SCRIPT =
      String.join(
          "\n",
          "import os, runpy, sys",
          "for k in [k for k in os.environ if k.upper().startswith('PIP_')]: del os.environ[k]",
          "os.environ['PIP_CONFIG_FILE'] = os.devnull",
          "with open(sys.argv[1], 'w') as f: f.write(os.environ.pop('" + REQUIREMENTS_ENV + "'))",
          "sys.argv = ['pip'] + sys.argv[2:]",
          "runpy.run_module('pip', run_name='__main__', alter_sys=True)");

  /** The variable prefix of upstream i's credentials in the download container. */
  public static final String CREDENTIALS_ENV_PREFIX = "PYPI_MIRROR_UPSTREAM_";

  /**
   * {@link #DOWNLOAD_SCRIPT} for a sync with credentials: before pip runs, the i-th index option's
   * URL (in upstream order) takes upstream i's {@code _USERNAME}/{@code _PASSWORD} or {@code
   * _TOKEN} (as user {@code __token__}) as its user info, as pip takes an index's login; the
   * variables are removed from the environment first, so nothing pip starts sees them (pip shows an
   * index URL with its password masked).
   */
  static final String DOWNLOAD_SCRIPT_WITH_CREDENTIALS =
      DOWNLOAD_SCRIPT.replace(
          "sys.argv = ['pip'] + sys.argv[2:]",
          String.join(
              "\n",
              "from urllib.parse import quote",
              "creds = {k: os.environ.pop(k) for k in [k for k in os.environ if k.startswith('"
                  + CREDENTIALS_ENV_PREFIX
                  + "')]}",
              "n = 0",
              "for j in range(3, len(sys.argv)):",
              "  if sys.argv[j - 1] in ('--index-url', '--extra-index-url'):",
              "    p = '" + CREDENTIALS_ENV_PREFIX + "%d_' % n",
              "    n += 1",
              "    u, w, t = (creds.get(p + x, '') for x in ('USERNAME', 'PASSWORD', 'TOKEN'))",
              "    u, w = ('__token__', t) if t else (u, w)",
              "    if u or w:",
              "      s, r = sys.argv[j].split('://', 1)",
              "      sys.argv[j] = s + '://' + quote(u, safe='') + ':' + quote(w, safe='') + '@' + r",
              "sys.argv = ['pip'] + sys.argv[2:]"));

  /**
   * The sync of one mirror with its checked {@code requirements} (packages, then the ConfigMap's
   * lines): its Job template and the hash of it. The download container never mounts the cache: it
   * writes to a scratch emptyDir, which the index container (the operator image) reads read-only
   * and adds from, after checking, to the cache.
   */
  public static Plan plan(
      PypiMirror mirror, String claimName, String indexImage, Requirements.Parsed requirements) {
    SyncSpec sync = sync(mirror.getSpec());
    EnvVar requirementsEnv = new EnvVar(REQUIREMENTS_ENV, requirements.text(), null);
    PodTemplateSpec template =
        podTemplate(
            mirror.getMetadata().getName(),
            downloadContainer(mirror, sync, requirements, requirementsEnv),
            indexContainer(mirror, indexImage, requirements, requirementsEnv),
            volumes(claimName, mirror.getSpec().getCache()));
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

  /** The cache PVC, the scratch volume the download fills (at most the cache's size), and /tmps. */
  private static List<Volume> volumes(String claimName, CacheSpec cache) {
    return List.of(
        new VolumeBuilder()
            .withName("cache")
            .withNewPersistentVolumeClaim(claimName, false)
            .build(),
        new VolumeBuilder()
            .withName("scratch")
            .withNewEmptyDir()
            .withSizeLimit(new Quantity(cache.getSize()))
            .endEmptyDir()
            .build(),
        new VolumeBuilder().withName("download-tmp").withNewEmptyDir().endEmptyDir().build(),
        new VolumeBuilder().withName("index-tmp").withNewEmptyDir().endEmptyDir().build());
  }

  /** The untrusted step: pip download from the upstreams into the scratch volume, nothing else. */
  private static Container downloadContainer(
      PypiMirror mirror, SyncSpec sync, Requirements.Parsed requirements, EnvVar requirementsEnv) {
    String requirementsFile = "/tmp/requirements.txt";
    List<SecretRef> credentials =
        upstream(mirror.getSpec()).stream().map(Upstream::credentials).toList();
    List<String> command =
        credentials.stream().allMatch(java.util.Objects::isNull)
            ? downloadCommand(requirementsFile)
            : downloadCommand(DOWNLOAD_SCRIPT_WITH_CREDENTIALS, requirementsFile);
    return new ContainerBuilder()
        .withName("download")
        .withImage(sync.getImage())
        .withCommand(command.subList(0, 1))
        .withArgs(
            concat(
                command.subList(1, command.size()),
                downloadArgs(mirror, SCRATCH_ROOT, requirementsFile, requirements)))
        .addNewEnv()
        .withName("HOME")
        .withValue("/tmp")
        .endEnv()
        .addToEnv(requirementsEnv)
        // the step that talks to the upstreams is the one that needs their logins
        .addAllToEnv(MirrorObjects.credentialVariables(CREDENTIALS_ENV_PREFIX, credentials))
        .withVolumeMounts(
            mount("scratch", SCRATCH_ROOT, false), mount("download-tmp", "/tmp", false))
        .withSecurityContext(MirrorObjects.restrictedContainer())
        .withTerminationMessagePolicy("FallbackToLogsOnError")
        .withResources(resources("256Mi", "1Gi"))
        .build();
  }

  /**
   * The trusted step (this operator's image): check the downloads, add them to the cache, index.
   */
  private static Container indexContainer(
      PypiMirror mirror,
      String indexImage,
      Requirements.Parsed requirements,
      EnvVar requirementsEnv) {
    return new ContainerBuilder()
        .withName("index")
        .withImage(indexImage)
        .withArgs(ingestArgs(mirror, requirements))
        .addToEnv(requirementsEnv)
        .withVolumeMounts(
            mount("cache", CACHE_ROOT, false),
            mount("scratch", SCRATCH_ROOT, true),
            mount("index-tmp", "/tmp", false))
        .withSecurityContext(MirrorObjects.restrictedContainer())
        .withTerminationMessagePolicy("FallbackToLogsOnError")
        .withResources(resources("128Mi", "256Mi"))
        .build();
  }

  /** A tenth of a core and {@code memoryRequest} asked for; at most {@code memoryLimit} used. */
  private static ResourceRequirements resources(String memoryRequest, String memoryLimit) {
    return new ResourceRequirementsBuilder()
        .addToRequests("cpu", new Quantity("100m"))
        .addToRequests("memory", new Quantity(memoryRequest))
        .addToLimits("memory", new Quantity(memoryLimit))
        .build();
  }

  private static PodTemplateSpec podTemplate(
      String mirrorName, Container download, Container index, List<Volume> volumes) {
    return new PodTemplateSpecBuilder()
        .withNewMetadata()
        .withLabels(MirrorObjects.labels(mirrorName, COMPONENT))
        // the sync pod downloads from upstream itself: never a target of the webhook
        .withAnnotations(Map.of("pypimirror.dev/inject", "false"))
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withAutomountServiceAccountToken(false)
        .withSecurityContext(MirrorObjects.restrictedPod())
        // the download runs first; the index container adds to the cache only once it succeeded
        .withInitContainers(download)
        .withContainers(index)
        .withVolumes(volumes)
        .endSpec()
        .build();
  }

  /** The download container's command up to pip's arguments: python running DOWNLOAD_SCRIPT. */
  public static List<String> downloadCommand(String requirementsFile) {
    return downloadCommand(DOWNLOAD_SCRIPT, requirementsFile);
  }

  private static List<String> downloadCommand(String script, String requirementsFile) {
    return List.of("python", "-I", "-B", "-c", script, requirementsFile);
  }

  /** pip's arguments (after {@code pip}): download {@code requirementsFile} into {@code dest}. */
  public static List<String> downloadArgs(
      PypiMirror mirror, String dest, String requirementsFile, Requirements.Parsed requirements) {
    SyncSpec sync = sync(mirror.getSpec());
    List<String> args =
        new ArrayList<>(
            List.of(
                "download",
                "--dest",
                dest,
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--progress-bar",
                "off"));
    List<String> upstream = upstream(mirror.getSpec()).stream().map(Upstream::url).toList();
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
    // wheels only unless the mirror opts in to building sdists' metadata (pip requires wheels
    // only for a foreign platform or Python version anyway)
    if (!sync.isAllowSourceBuilds() || !platforms.isEmpty() || sync.getPythonVersion() != null) {
      args.add("--only-binary=:all:");
    }
    if (requirements.hashed()) {
      args.add("--require-hashes");
    }
    args.addAll(List.of("-r", requirementsFile));
    return args;
  }

  /** The trusted step's arguments: check what the download left and add it, then index. */
  public static List<String> ingestArgs(PypiMirror mirror, Requirements.Parsed requirements) {
    SyncSpec sync = sync(mirror.getSpec());
    List<String> args =
        new ArrayList<>(
            List.of(
                "ingest",
                SCRATCH_ROOT,
                CACHE_ROOT,
                "--summary-file",
                "/dev/termination-log",
                "--max-file-size",
                Long.toString(maxFileSize(sync))));
    if (requirements.hashed()) {
      args.addAll(List.of("--requirements-env", REQUIREMENTS_ENV));
    }
    if (sync.isAllowSourceBuilds()) {
      args.add("--allow-source-distributions");
    }
    return args;
  }

  static long maxFileSize(SyncSpec sync) {
    return new Quantity(
            sync.getMaxFileSize() == null ? SyncSpec.DEFAULT_MAX_FILE_SIZE : sync.getMaxFileSize())
        .getNumericalAmount()
        .longValue();
  }

  /** One URL a sync downloads from, the field it comes from, and its credentials (or null). */
  public record Upstream(String url, String field, SecretRef credentials) {
    public Upstream(String url, String field) {
      this(url, field, null);
    }
  }

  /**
   * Where to download from: sync.upstream, else the mirror's own non-cache indexes, else the public
   * index.
   */
  public static List<Upstream> upstream(PypiMirrorSpec spec) {
    SyncSpec sync = spec.getCache() == null ? null : spec.getCache().getSync();
    if (sync != null && sync.getUpstream() != null) {
      return List.of(new Upstream(sync.getUpstream(), "spec.cache.sync.upstream"));
    }
    List<IndexSpec> indexes = spec.getIndexes() == null ? List.of() : spec.getIndexes();
    List<Upstream> own = new ArrayList<>();
    for (int i = 0; i < indexes.size(); i++) {
      String url = indexes.get(i).getUrl();
      if (url != null && !url.startsWith("file:")) {
        own.add(
            new Upstream(
                url, "spec.indexes[" + i + "].url", indexes.get(i).getCredentialsSecret()));
      }
    }
    if (!own.isEmpty()) {
      return own;
    }
    PublicIndexSpec publicIndex =
        spec.getPublicIndex() == null ? new PublicIndexSpec() : spec.getPublicIndex();
    return List.of(new Upstream(publicIndex.getUrl(), "spec.publicIndex.url"));
  }

  private static SyncSpec sync(PypiMirrorSpec spec) {
    SyncSpec sync = spec.getCache() == null ? null : spec.getCache().getSync();
    return sync == null ? new SyncSpec() : sync;
  }

  private static VolumeMount mount(String volume, String path, boolean readOnly) {
    return new VolumeMountBuilder()
        .withName(volume)
        .withMountPath(path)
        .withReadOnly(readOnly ? true : null)
        .build();
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  public static String jobName(String mirrorName, String hash) {
    return MirrorObjects.NAME_PREFIX + mirrorName + "-sync-" + hash.substring(0, 10);
  }

  public static String cronJobName(String mirrorName) {
    return MirrorObjects.NAME_PREFIX + mirrorName + "-sync";
  }

  /** The hex sha256 of {@code text}'s UTF-8 bytes. */
  public static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
