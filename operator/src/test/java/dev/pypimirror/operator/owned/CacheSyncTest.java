package dev.pypimirror.operator.owned;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static dev.pypimirror.operator.testing.Mirrors.withCredentials;
import static dev.pypimirror.operator.testing.Mirrors.withProxy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.RequirementsRef;
import dev.pypimirror.operator.api.SyncSpec;
import dev.pypimirror.operator.config.Requirements;
import dev.pypimirror.operator.settings.Defaults;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sync Job, CronJob and pip arguments a mirror's cache gets. */
class CacheSyncTest {
  static PypiMirror synced(String... packages) {
    PypiMirror m =
        mirror(
            "builds",
            "corp",
            withCache(
                spec(
                    https("https://devpi.corp.example/simple/"),
                    trustedHttp("http://10.0.0.5:3141/simple/")),
                "/tmp/pypi"));
    m.getMetadata().setUid("u-1");
    m.setApiVersion("pypimirror.dev/v1alpha1");
    m.getSpec().getCache().setPackages(List.of(packages));
    return m;
  }

  static CacheSync.Plan plan(PypiMirror mirror, String claim, String image) {
    return CacheSync.plan(
        mirror,
        claim,
        image,
        Requirements.ofPackages("p", mirror.getSpec().getCache().getPackages()));
  }

  @Test
  void theJobDownloadsThenIndexesUnderTheRestrictedProfile() {
    PypiMirror mirror = synced("requests==2.32.3", "numpy>=2");

    CacheSync.Plan plan =
        plan(mirror, "pypi-mirror-corp-cache", "registry.example/pypi-mirror-operator:1");
    Job job = OwnedSyncJob.desired(mirror, plan);

    assertThat(job.getMetadata().getName())
        .isEqualTo("pypi-mirror-corp-sync-" + plan.hash().substring(0, 10));
    assertThat(job.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "pypi-mirror-operator")
        .containsEntry("app.kubernetes.io/component", "cache-sync")
        .containsEntry("pypimirror.dev/mirror", "corp");
    assertThat(job.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(r -> assertThat(r.getUid()).isEqualTo("u-1"));
    var spec = job.getSpec();
    assertThat(spec.getActiveDeadlineSeconds()).isEqualTo(1800L);
    assertThat(spec.getBackoffLimit()).isEqualTo(2);
    assertThat(spec.getTtlSecondsAfterFinished()).isEqualTo(86400);
    var pod = spec.getTemplate().getSpec();
    assertThat(spec.getTemplate().getMetadata().getAnnotations())
        .containsEntry("pypimirror.dev/inject", "false");
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(65532L);
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    Container download = pod.getInitContainers().get(0);
    Container index = pod.getContainers().get(0);
    for (Container c : List.of(download, index)) {
      assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
      assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
      assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
      assertThat(c.getResources().getLimits()).containsKey("memory");
    }
    // the step that talks to the internet never sees the cache: scratch and its own /tmp only
    assertThat(download.getVolumeMounts())
        .extracting(m -> m.getName() + ":" + m.getMountPath() + ":" + m.getReadOnly())
        .containsExactlyInAnyOrder("scratch:/scratch:null", "download-tmp:/tmp:null");
    assertThat(index.getVolumeMounts())
        .extracting(m -> m.getName() + ":" + m.getMountPath() + ":" + m.getReadOnly())
        .containsExactlyInAnyOrder(
            "cache:/cache:null", "scratch:/scratch:true", "index-tmp:/tmp:null");
    assertThat(pod.getVolumes())
        .anySatisfy(
            v -> {
              assertThat(v.getPersistentVolumeClaim().getClaimName())
                  .isEqualTo("pypi-mirror-corp-cache");
              assertThat(v.getPersistentVolumeClaim().getReadOnly()).isFalse();
            })
        .anySatisfy(
            v -> {
              assertThat(v.getName()).isEqualTo("scratch");
              assertThat(v.getEmptyDir().getSizeLimit().toString()).isEqualTo("10Gi");
            });
    assertThat(download.getImage()).isEqualTo("python:3.12-slim");
    assertThat(download.getCommand()).containsExactly("python");
    assertThat(download.getArgs())
        .containsExactly(
            "-I",
            "-B",
            "-c",
            CacheSync.DOWNLOAD_SCRIPT,
            "/tmp/requirements.txt",
            "download",
            "--dest",
            "/scratch",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "--index-url",
            "https://devpi.corp.example/simple/",
            "--extra-index-url",
            "http://10.0.0.5:3141/simple/",
            "--trusted-host",
            "10.0.0.5:3141",
            "--only-binary=:all:",
            "-r",
            "/tmp/requirements.txt");
    assertThat(download.getEnv())
        .anySatisfy(
            e ->
                assertThat(e.getName() + "=" + e.getValue())
                    .isEqualTo("PYPI_MIRROR_REQUIREMENTS=requests==2.32.3\nnumpy>=2\n"));
    assertThat(index.getImage()).isEqualTo("registry.example/pypi-mirror-operator:1");
    assertThat(index.getArgs())
        .containsExactly(
            "ingest",
            "/scratch",
            "/cache",
            "--summary-file",
            "/dev/termination-log",
            "--max-file-size",
            "2147483648");
  }

  @Test
  void targetsUpstreamAndRequirementsShapeTheDownload() {
    PypiMirror mirror = synced("lxml");
    SyncSpec sync = new SyncSpec();
    sync.setUpstream("https://pypi.internal/simple/");
    sync.setPlatforms(List.of("manylinux2014_x86_64", "manylinux_2_28_x86_64"));
    sync.setPythonVersion("3.12");
    sync.setAllowSourceBuilds(true);
    mirror.getSpec().getCache().setSync(sync);
    RequirementsRef requirements = new RequirementsRef();
    requirements.setName("build-deps");
    mirror.getSpec().getCache().setRequirementsConfigMap(requirements);

    var plan =
        CacheSync.plan(
            mirror,
            "claim",
            "img",
            Requirements.concat(
                Requirements.ofPackages("p", List.of("lxml")),
                Requirements.ofFile("f", "six==1.16.0\n")));
    var download = plan.jobSpec().getTemplate().getSpec().getInitContainers().get(0);
    var index = plan.jobSpec().getTemplate().getSpec().getContainers().get(0);

    assertThat(download.getArgs())
        .containsSubsequence("--index-url", "https://pypi.internal/simple/")
        .containsSubsequence(
            "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64")
        // a foreign platform needs wheels only, opt-in or not
        .containsSubsequence(
            "--python-version", "3.12", "--only-binary=:all:", "-r", "/tmp/requirements.txt")
        .doesNotContain("--extra-index-url", "--trusted-host", "lxml");
    assertThat(download.getEnv())
        .anySatisfy(e -> assertThat(e.getValue()).isEqualTo("lxml\nsix==1.16.0\n"));
    // the ConfigMap's lines are in the Job itself, checked: the ConfigMap is never mounted
    assertThat(plan.jobSpec().getTemplate().getSpec().getVolumes())
        .allSatisfy(v -> assertThat(v.getConfigMap()).isNull());
    assertThat(index.getArgs()).endsWith("--allow-source-distributions");
  }

  @Test
  void sourceBuildsAreAnOptInAndHashesAreCheckedTwice() {
    PypiMirror mirror = synced("a");
    Requirements.Parsed wheelsOnly = Requirements.ofPackages("p", List.of("a"));
    assertThat(CacheSync.downloadArgs(mirror, "/d", "/r", wheelsOnly))
        .contains("--only-binary=:all:")
        .doesNotContain("--require-hashes");

    SyncSpec sync = new SyncSpec();
    sync.setAllowSourceBuilds(true);
    mirror.getSpec().getCache().setSync(sync);
    Requirements.Parsed pinned =
        Requirements.ofPackages("p", List.of("a==1.0 --hash=sha256:" + "ab".repeat(32)));
    assertThat(CacheSync.downloadArgs(mirror, "/d", "/r", pinned))
        .doesNotContain("--only-binary=:all:")
        .contains("--require-hashes");
    var index = CacheSync.plan(mirror, "c", "img", pinned).jobSpec().getTemplate().getSpec();
    assertThat(index.getContainers().get(0).getArgs())
        .containsSubsequence("--requirements-env", "PYPI_MIRROR_REQUIREMENTS");
  }

  @Test
  void withoutOwnIndexesItDownloadsFromThePublicIndex() {
    PypiMirror mirror = mirror("b", "cache-only", withCache(spec(), "/tmp/pypi"));
    mirror.getSpec().getCache().setPackages(List.of("six"));

    assertThat(
            CacheSync.downloadArgs(
                mirror, "/cache", "/r", Requirements.ofPackages("p", List.of("six"))))
        .containsSubsequence("--index-url", "https://pypi.org/simple");
  }

  @Test
  void theHashFollowsTheSpecAndTheResyncAnnotation() {
    String base = plan(synced("a"), "c", "img").hash();

    assertThat(plan(synced("a"), "c", "img").hash()).isEqualTo(base);
    assertThat(plan(synced("b"), "c", "img").hash()).isNotEqualTo(base);
    assertThat(plan(synced("a"), "c", "img2").hash()).isNotEqualTo(base);
    PypiMirror resync = synced("a");
    resync.getMetadata().setAnnotations(Map.of("pypimirror.dev/resync", "2026-11-22"));
    assertThat(plan(resync, "c", "img").hash()).isNotEqualTo(base);
  }

  @Test
  void theCronJobRunsOneSyncAtATime() {
    PypiMirror mirror = synced("a");
    SyncSpec sync = new SyncSpec();
    sync.setSchedule("0 3 * * *");
    mirror.getSpec().getCache().setSync(sync);
    var plan = plan(mirror, "c", "img");

    var cron = OwnedSyncCronJob.desired(mirror, plan);

    assertThat(cron.getMetadata().getName()).isEqualTo("pypi-mirror-corp-sync");
    assertThat(cron.getSpec().getSchedule()).isEqualTo("0 3 * * *");
    assertThat(cron.getSpec().getConcurrencyPolicy()).isEqualTo("Forbid");
    assertThat(cron.getSpec().getJobTemplate().getSpec()).isEqualTo(plan.jobSpec());
    assertThat(cron.getSpec().getJobTemplate().getMetadata().getAnnotations())
        .containsEntry("pypimirror.dev/sync-hash", plan.hash());
  }

  @Test
  void onlyTheDownloadStepGetsAnIndexsCredentialsAsSecretReferencesAndPipGetsThemInTheUrl()
      throws Exception {
    PypiMirror mirror =
        mirror(
            "builds",
            "m",
            withProxy(
                spec(
                    https("https://open.example/simple/"),
                    withCredentials(https("https://corp.jfrog.example/simple/"), "jfrog"))));
    mirror.getSpec().getCache().setPackages(List.of("requests"));
    Requirements.Parsed requirements =
        Requirements.ofPackages("packages", mirror.getSpec().getCache().getPackages());
    Job job =
        OwnedSyncJob.desired(
            mirror,
            CacheSync.plan(mirror, "claim", Defaults.INDEX_IMAGE.defaultValue(), requirements));
    var pod = job.getSpec().getTemplate().getSpec();
    Container download = pod.getInitContainers().get(0);
    assertThat(download.getEnv())
        .filteredOn(e -> e.getName().startsWith(CacheSync.CREDENTIALS_ENV_PREFIX))
        .extracting(
            e -> e.getName(),
            e -> e.getValue(),
            e ->
                e.getValueFrom().getSecretKeyRef().getName()
                    + "/"
                    + e.getValueFrom().getSecretKeyRef().getKey())
        .containsExactly(
            tuple("PYPI_MIRROR_UPSTREAM_1_USERNAME", null, "jfrog/username"),
            tuple("PYPI_MIRROR_UPSTREAM_1_PASSWORD", null, "jfrog/password"),
            tuple("PYPI_MIRROR_UPSTREAM_1_TOKEN", null, "jfrog/token"));
    assertThat(download.getArgs()).contains(CacheSync.DOWNLOAD_SCRIPT_WITH_CREDENTIALS);
    assertThat(pod.getContainers().get(0).getEnv())
        .noneMatch(e -> e.getName().startsWith(CacheSync.CREDENTIALS_ENV_PREFIX));

    // the script itself, run by Debian's python3 up to where it hands over to pip
    String script =
        CacheSync.DOWNLOAD_SCRIPT_WITH_CREDENTIALS.replace(
            "runpy.run_module('pip', run_name='__main__', alter_sys=True)",
            "print(repr(sys.argv)); print([k for k in os.environ if 'UPSTREAM' in k])");
    List<String> command = new ArrayList<>(List.of("/usr/bin/python3", "-I", "-B", "-c", script));
    command.add(java.nio.file.Files.createTempFile("requirements", ".txt").toString());
    command.addAll(
        List.of(
            "download",
            "--index-url",
            "https://open.example/simple/",
            "--extra-index-url",
            "https://corp.jfrog.example/simple/"));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().clear();
    builder
        .environment()
        .putAll(
            Map.of(
                CacheSync.REQUIREMENTS_ENV,
                "requests\n",
                "PYPI_MIRROR_UPSTREAM_1_USERNAME",
                "ci bot",
                "PYPI_MIRROR_UPSTREAM_1_PASSWORD",
                "p@ss:w/rd"));
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor()).as(out).isZero();
    assertThat(out)
        .contains(
            "'--index-url', 'https://open.example/simple/', '--extra-index-url',"
                + " 'https://ci%20bot:p%40ss%3Aw%2Frd@corp.jfrog.example/simple/'")
        .contains("[]"); // no credential variable is left for pip or what it starts
  }
}
