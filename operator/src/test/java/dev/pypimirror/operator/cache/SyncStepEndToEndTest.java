package dev.pypimirror.operator.cache;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.SyncSpec;
import dev.pypimirror.operator.config.Requirements;
import dev.pypimirror.operator.owned.CacheSync;
import dev.pypimirror.operator.testing.IndexServer;
import dev.pypimirror.operator.testing.IndexStep;
import dev.pypimirror.operator.testing.Python;
import dev.pypimirror.operator.testing.SimpleIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sync Job's two steps run here for real: the download container's own command (python running
 * pip download with the Job's arguments) from a loopback mirror into a scratch directory, then the
 * trusted {@code ingest} into a cache directory; then real pip installs from the cache over file://
 * with the rendered config. A hostile sdist, a wrong hash and a failing download leave the cache as
 * it was.
 *
 * <p>What this cannot emulate without containers: the download step's mount namespace. In the Job
 * the cache is simply not mounted in that container (CacheSyncTest asserts it), so the hostile
 * build code's writes to {@code /cache} fail there; here it reaches what a pod would reach, the
 * scratch directory, and only tries {@code /cache} where it exists.
 */
class SyncStepEndToEndTest {
  record Sync(Python.Result download, Run ingest) {}

  record Run(int status, String out, String err) {}

  @Test
  void theSyncStepsFillACacheThatPipInstallsFrom(@TempDir Path scratch) throws Exception {
    Python python = new Python(scratch);
    Path upstreamTree = Files.createDirectories(scratch.resolve("upstream"));
    SimpleIndex.add(upstreamTree, "Sync_Probe", python.buildWheel(scratch, "Sync_Probe", "3.1"));
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    try (IndexServer upstream = IndexServer.http(upstreamTree)) {
      PypiMirror mirror = synced(upstream, cache, "sync-probe==3.1");

      Sync sync = sync(python, scratch, mirror, cache, "1");
      sync.download().assertOk();
      assertThat(sync.ingest().status()).as(sync.ingest().err()).isZero();
      assertThat(Files.readString(scratch.resolve("summary-1")))
          .contains("\"files\":1")
          .contains("\"projects\":1")
          .contains("\"added\":1,\"alreadyPresent\":0,\"refused\":0");
      assertThat(cache.resolve("_files"))
          .isDirectoryContaining("glob:**/Sync_Probe-3.1-py3-none-any.whl");
      installFromCache(python, scratch, cache, "site");

      // the same sync again finds the file already there
      assertThat(sync(python, scratch, mirror, cache, "2").ingest().status()).isZero();
      assertThat(Files.readString(scratch.resolve("summary-2")))
          .contains("\"added\":0,\"alreadyPresent\":1,\"refused\":0");

      // a sync whose download fails (the upstream lacks the package) leaves the cache untouched
      Map<String, String> before = snapshot(cache);
      mirror.getSpec().getCache().setPackages(List.of("not-there==1.0"));
      assertThat(download(python, scratch, mirror, "3").status()).isNotZero();
      assertThat(snapshot(cache)).isEqualTo(before);
      installFromCache(python, scratch, cache, "site2");
    }
  }

  @Test
  void aHostileSdistBuiltWithTheOptInChangesNothingInTheCache(@TempDir Path scratch)
      throws Exception {
    Python python = new Python(scratch);
    Path upstreamTree = Files.createDirectories(scratch.resolve("upstream"));
    SimpleIndex.add(upstreamTree, "Sync_Probe", python.buildWheel(scratch, "Sync_Probe", "3.1"));
    SimpleIndex.add(upstreamTree, "setuptools", BuildTools.setuptools(python, scratch));
    SimpleIndex.add(upstreamTree, "wheel", BuildTools.wheel(python, scratch));
    Path downloads = scratch.resolve("downloads-hostile");
    SimpleIndex.add(upstreamTree, "hostile", hostileSdist(python, scratch, downloads));
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    try (IndexServer upstream = IndexServer.http(upstreamTree)) {
      PypiMirror mirror = synced(upstream, cache, "sync-probe==3.1");
      assertThat(sync(python, scratch, mirror, cache, "first").ingest().status()).isZero();
      Map<String, String> before = snapshot(cache);

      // without the opt-in the sdist is never built: wheels only, and there is none
      mirror.getSpec().getCache().setPackages(List.of("hostile==1.0"));
      Python.Result wheelsOnly = download(python, scratch, mirror, "wheels-only");
      assertThat(wheelsOnly.status()).as(wheelsOnly.output()).isNotZero();
      assertThat(wheelsOnly.output()).contains("No matching distribution found for hostile==1.0");
      assertThat(scratch.resolve("downloads-wheels-only/ran-hostile-build")).doesNotExist();
      assertThat(snapshot(cache)).isEqualTo(before);

      // with it, pip runs the setup.py, which plants files in the scratch directory
      SyncSpec optIn = new SyncSpec();
      optIn.setAllowSourceBuilds(true);
      mirror.getSpec().getCache().setSync(optIn);
      Sync hostile = sync(python, scratch, mirror, cache, "hostile");
      hostile.download().assertOk();
      assertThat(downloads.resolve("ran-hostile-build")).exists();
      assertThat(hostile.ingest().status()).as(hostile.ingest().err()).isZero();
      assertThat(hostile.ingest().err())
          .contains("refused evil-1.0-py3-none-any.whl: member name '../../sync-probe/index.html'")
          .contains(
              "refused Sync_Probe-3.1-py3-none-any.whl: differs from the file of that name already"
                  + " in the cache")
          .contains("refused link-1.0-py3-none-any.whl: a symbolic link")
          .contains("refused index.html: not a wheel or source distribution name")
          .contains("refused sync-probe: a directory")
          .contains("refused ran-hostile-build: not a wheel or source distribution name");
      assertThat(Files.readString(scratch.resolve("summary-hostile")))
          .contains("\"added\":1,\"alreadyPresent\":0,\"refused\":6");

      // every file and page there before is unchanged; the one new file is the checked sdist
      Map<String, String> after = snapshot(cache);
      assertThat(after).containsAllEntriesOf(withoutRootPage(before));
      assertThat(after.keySet().stream().filter(name -> !name.startsWith(".")))
          .containsExactlyInAnyOrder(
              "index.html",
              "_files/Sync_Probe-3.1-py3-none-any.whl",
              "_files/hostile-1.0.tar.gz",
              "sync-probe/index.html",
              "hostile/index.html");
      Path site = installFromCache(python, scratch, cache, "site");
      assertThat(site.resolve("sync_probe/__init__.py")).hasContent("VERSION = '3.1'");
    }
  }

  @Test
  void aWrongHashFailsTheSyncAndLeavesTheCacheAsItWas(@TempDir Path scratch) throws Exception {
    Python python = new Python(scratch);
    Path upstreamTree = Files.createDirectories(scratch.resolve("upstream"));
    Path probe = python.buildWheel(scratch, "Sync_Probe", "3.1");
    SimpleIndex.add(upstreamTree, "Sync_Probe", probe);
    SimpleIndex.add(upstreamTree, "other", python.buildWheel(scratch, "other", "1.0"));
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    try (IndexServer upstream = IndexServer.http(upstreamTree)) {
      PypiMirror mirror = synced(upstream, cache, "other==1.0");
      assertThat(sync(python, scratch, mirror, cache, "first").ingest().status()).isZero();
      Map<String, String> before = snapshot(cache);

      mirror
          .getSpec()
          .getCache()
          .setPackages(List.of("sync-probe==3.1 --hash=sha256:" + "0".repeat(64)));
      Python.Result wrong = download(python, scratch, mirror, "wrong");
      assertThat(wrong.status()).isNotZero();
      assertThat(wrong.output()).contains("THESE PACKAGES DO NOT MATCH THE HASHES");
      assertThat(snapshot(cache)).isEqualTo(before);

      // the right hash syncs
      mirror
          .getSpec()
          .getCache()
          .setPackages(
              List.of("sync-probe==3.1 --hash=sha256:" + SimpleIndexBuilder.sha256(probe)));
      Sync right = sync(python, scratch, mirror, cache, "right");
      right.download().assertOk();
      assertThat(right.ingest().status()).as(right.ingest().err()).isZero();
      assertThat(cache.resolve("_files/Sync_Probe-3.1-py3-none-any.whl")).exists();
    }
  }

  static PypiMirror synced(IndexServer upstream, Path cache, String... packages) {
    PypiMirror mirror =
        mirror("builds", "m", withCache(spec(trustedHttp(upstream.url())), cache.toString()));
    mirror.getSpec().getCache().setPackages(List.of(packages));
    return mirror;
  }

  static Requirements.Parsed requirements(PypiMirror mirror) {
    Requirements.Parsed parsed =
        Requirements.ofPackages("packages", mirror.getSpec().getCache().getPackages());
    assertThat(parsed.problems()).isEmpty();
    return parsed;
  }

  /** The download container's own command, into {@code scratch/downloads-NAME}. */
  static Python.Result download(Python python, Path scratch, PypiMirror mirror, String name)
      throws IOException, InterruptedException {
    Path dest = Files.createDirectories(scratch.resolve("downloads-" + name));
    Path tmp = Files.createDirectories(scratch.resolve("tmp-" + name));
    String requirementsFile = tmp.resolve("requirements.txt").toString();
    Requirements.Parsed requirements = requirements(mirror);
    List<String> command = new ArrayList<>(CacheSync.downloadCommand(requirementsFile));
    command.remove(0); // "python": Python runs the machine's python3
    command.addAll(CacheSync.downloadArgs(mirror, dest.toString(), requirementsFile, requirements));
    return python.run(
        tmp,
        Map.of(
            "HOME",
            tmp.toString(),
            CacheSync.REQUIREMENTS_ENV,
            requirements.text(),
            // stands for an image's ENV: the download script drops every PIP_* variable
            "PIP_EXTRA_INDEX_URL",
            "http://127.0.0.1:9/simple/",
            "PIP_NO_INDEX",
            "1"),
        command.toArray(String[]::new));
  }

  /** Both steps; the trusted one with the Job's own arguments but local paths. */
  static Sync sync(Python python, Path scratch, PypiMirror mirror, Path cache, String name)
      throws IOException, InterruptedException {
    Python.Result download = download(python, scratch, mirror, name);
    if (download.status() != 0) {
      return new Sync(download, new Run(-1, "", "download failed"));
    }
    Requirements.Parsed requirements = requirements(mirror);
    List<String> args = new ArrayList<>(CacheSync.ingestArgs(mirror, requirements));
    args.set(1, scratch.resolve("downloads-" + name).toString());
    args.set(2, cache.toString());
    args.set(4, scratch.resolve("summary-" + name).toString());
    if (requirements.hashed()) {
      int env = args.indexOf("--requirements-env");
      Path file = Files.writeString(scratch.resolve("requirements-" + name), requirements.text());
      args.set(env, "--requirements");
      args.set(env + 1, file.toString());
    }
    if (!IndexStep.canSwitchUid()) {
      var ingest = run("", args.toArray(String[]::new));
      return new Sync(download, new Run(ingest.status(), ingest.out(), ingest.err()));
    }
    // as the Job's index container: uid 65532, its own JVM, a restrictive umask
    IndexStep.openUpTo(scratch.resolve("downloads-" + name));
    IndexStep.openUpTo(cache);
    Path summary = Files.createFile(scratch.resolve("summary-" + name));
    for (Path p : List.of(cache, summary)) {
      Files.setAttribute(p, "unix:uid", IndexStep.SYNC_UID);
      Files.setAttribute(p, "unix:gid", IndexStep.SYNC_UID);
    }
    var ingest = IndexStep.cli(IndexStep.SYNC_UID, "077", args.toArray(String[]::new));
    return new Sync(download, new Run(ingest.status(), ingest.out(), ingest.err()));
  }

  static Path installFromCache(Python python, Path scratch, Path cache, String site)
      throws IOException, InterruptedException {
    PypiMirror consumer =
        mirror(
            "builds",
            "m",
            withCache(spec(new IndexSpec("file://" + cache, false)), cache.toString()));
    consumer.getSpec().setOffline(true);
    var config =
        dev.pypimirror.operator.config.MirrorConfigRenderer.render("m", consumer.getSpec());
    Path pipConf = Files.writeString(scratch.resolve("pip.conf"), config.data().get("pip.conf"));
    // a build pod as yet another uid: the pages and files must be readable by every uid
    Python buildPod = IndexStep.canSwitchUid() ? python.as(IndexStep.BUILD_UID) : python;
    Path target = Files.createDirectories(scratch.resolve(site));
    if (IndexStep.canSwitchUid()) {
      Files.setAttribute(target, "unix:uid", IndexStep.BUILD_UID);
    }
    buildPod
        .run(
            scratch,
            Map.of("PIP_CONFIG_FILE", pipConf.toString()),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--target",
            target.toString(),
            "sync-probe==3.1")
        .assertOk();
    assertThat(target.resolve("sync_probe/__init__.py")).hasContent("VERSION = '3.1'\n");
    return target;
  }

  /** Every regular file under the cache, with its sha256. */
  static Map<String, String> snapshot(Path cache) throws IOException {
    Map<String, String> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(cache)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        files.put(cache.relativize(p).toString(), SimpleIndexBuilder.sha256(p));
      }
    }
    return files;
  }

  /**
   * The root page lists projects, so a new project changes it, as it does the index builder's own
   * hidden state; every other page and file must not change.
   */
  static Map<String, String> withoutRootPage(Map<String, String> files) {
    Map<String, String> rest = new TreeMap<>(files);
    rest.remove("index.html");
    rest.keySet().removeIf(name -> name.startsWith("."));
    return rest;
  }

  /**
   * A real sdist whose setup.py, run by pip to build its metadata, writes into every path it can
   * reach: the cache where a pod would have it (/cache, absent in the download container) and the
   * scratch directory pip downloads into ({@code downloads}: /scratch in the Job).
   */
  static Path hostileSdist(Python python, Path workDir, Path downloads)
      throws IOException, InterruptedException {
    Path src = Files.createDirectories(workDir.resolve("src-hostile"));
    Files.createDirectories(src.resolve("hostile"));
    Files.writeString(src.resolve("hostile/__init__.py"), "");
    Files.writeString(
        src.resolve("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n");
    Files.writeString(
        src.resolve("setup.py"),
        """
        import os, zipfile
        from setuptools import setup

        DEST = %s
        # the cache as a pod would see it; only where it exists (never created on this machine)
        for target in ["/cache/index.html", "/cache/_files/x-1.0-py3-none-any.whl",
                       "/cache/sync-probe/index.html"]:
            if os.path.isdir(os.path.dirname(target)):
                try:
                    open(target, "w").write("owned")
                except OSError:
                    pass

        def wheel(name, members):
            with zipfile.ZipFile(os.path.join(DEST, name), "w") as z:
                for member, body in members.items():
                    z.writestr(member, body)

        if os.path.isdir(DEST):
            open(os.path.join(DEST, "ran-hostile-build"), "w").write("x")
            wheel("evil-1.0-py3-none-any.whl", {
                "evil-1.0.dist-info/METADATA": "Name: evil\\nVersion: 1.0\\n",
                "evil-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\n",
                "../../sync-probe/index.html": "owned"})
            wheel("Sync_Probe-3.1-py3-none-any.whl", {
                "sync_probe/__init__.py": "OWNED = True\\n",
                "sync_probe-3.1.dist-info/METADATA": "Name: Sync_Probe\\nVersion: 3.1\\n",
                "sync_probe-3.1.dist-info/WHEEL": "Wheel-Version: 1.0\\n"})
            if not os.path.lexists(os.path.join(DEST, "link-1.0-py3-none-any.whl")):
                os.symlink("/cache/index.html", os.path.join(DEST, "link-1.0-py3-none-any.whl"))
            open(os.path.join(DEST, "index.html"), "w").write("owned")
            os.makedirs(os.path.join(DEST, "sync-probe"), exist_ok=True)
            open(os.path.join(DEST, "sync-probe", "index.html"), "w").write("owned")

        setup(name="hostile", version="1.0", packages=["hostile"])
        """
            .formatted("'" + downloads + "'"));
    Path out = Files.createDirectories(workDir.resolve("sdist-hostile"));
    // building the sdist here runs setup.py too, before DEST exists: it plants nothing
    python.run(src, Map.of(), "setup.py", "-q", "sdist", "-d", out.toString()).assertOk();
    try (var files = Files.list(out)) {
      return files.findFirst().orElseThrow();
    }
  }
}
