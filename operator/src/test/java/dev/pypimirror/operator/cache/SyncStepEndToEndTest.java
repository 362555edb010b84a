package dev.pypimirror.operator.cache;

import static dev.pypimirror.operator.cli.RenderCommandTest.run;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.testing.IndexServer;
import dev.pypimirror.operator.testing.IndexStep;
import dev.pypimirror.operator.testing.Python;
import dev.pypimirror.operator.testing.SimpleIndex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sync Job's two steps run here for real: pip download with the Job's own arguments from a
 * loopback mirror into a cache directory, then `index`; then real pip installs from the cache over
 * file:// with the rendered config, and a second, failing sync leaves it installable.
 */
class SyncStepEndToEndTest {
  @Test
  void theSyncStepsFillACacheThatPipInstallsFrom(@TempDir Path scratch) throws Exception {
    Python python = new Python(scratch);
    Path upstreamTree = Files.createDirectories(scratch.resolve("upstream"));
    SimpleIndex.add(upstreamTree, "Sync_Probe", python.buildWheel(scratch, "Sync_Probe", "3.1"));
    Path cache = Files.createDirectories(scratch.resolve("cache"));
    try (IndexServer upstream = IndexServer.http(upstreamTree)) {
      PypiMirror mirror =
          mirror("builds", "m", withCache(spec(trustedHttp(upstream.url())), cache.toString()));
      mirror.getSpec().getCache().setPackages(List.of("sync-probe==3.1"));

      // step 1: the download container, with the Job's own arguments, writing under this cache root
      List<String> download = new ArrayList<>(List.of("-m", "pip"));
      download.addAll(CacheSync.downloadArgs(mirror, cache.toString(), null));
      python
          .run(scratch, Map.of("PIP_CONFIG_FILE", "/dev/null"), download.toArray(String[]::new))
          .assertOk();
      // step 2: the index container, as the Job's non-root uid where this machine can switch
      Path summary = Files.createFile(scratch.resolve("termination-log"));
      var indexed = index(cache, summary);
      assertThat(indexed.status()).as(indexed.err()).isZero();
      assertThat(Files.readString(summary)).contains("\"files\":1").contains("\"projects\":1");
      assertThat(cache.resolve("_files"))
          .isDirectoryContaining("glob:**/Sync_Probe-3.1-py3-none-any.whl");

      // a build pod, offline, with only the cache
      PypiMirror consumer =
          mirror(
              "builds",
              "m",
              withCache(spec(new IndexSpec("file://" + cache, false)), cache.toString()));
      consumer.getSpec().setOffline(true);
      var config =
          dev.pypimirror.operator.config.MirrorConfigRenderer.render("m", consumer.getSpec());
      Path pipConf = Files.writeString(scratch.resolve("pip.conf"), config.data().get("pip.conf"));
      // ... running as yet another uid: the pages must be readable by every uid
      Python buildPod = IndexStep.canSwitchUid() ? python.as(IndexStep.BUILD_UID) : python;
      Path target = writableByBuildPod(scratch.resolve("site"));
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

      // a sync whose download fails (the upstream lacks the package) leaves the index untouched
      byte[] pageBefore = Files.readAllBytes(cache.resolve("sync-probe/index.html"));
      mirror.getSpec().getCache().setPackages(List.of("not-there==1.0"));
      List<String> failing = new ArrayList<>(List.of("-m", "pip"));
      failing.addAll(CacheSync.downloadArgs(mirror, cache.toString(), null));
      assertThat(
              python
                  .run(
                      scratch,
                      Map.of("PIP_CONFIG_FILE", "/dev/null"),
                      failing.toArray(String[]::new))
                  .status())
          .isNotZero();
      assertThat(Files.readAllBytes(cache.resolve("sync-probe/index.html"))).isEqualTo(pageBefore);
      Path again = writableByBuildPod(scratch.resolve("site2"));
      buildPod
          .run(
              scratch,
              Map.of("PIP_CONFIG_FILE", pipConf.toString()),
              "-m",
              "pip",
              "install",
              "--no-deps",
              "--target",
              again.toString(),
              "sync-probe==3.1")
          .assertOk();
    }
  }

  /** The index step as the Job runs it: uid 65532, its own JVM, a restrictive umask. */
  static IndexStep.Result index(Path cache, Path summary) throws Exception {
    if (!IndexStep.canSwitchUid()) {
      var result = run("", "index", cache.toString(), "--summary-file", summary.toString());
      return new IndexStep.Result(result.status(), result.out(), result.err());
    }
    IndexStep.openUpTo(cache);
    for (Path p : List.of(cache, summary)) {
      Files.setAttribute(p, "unix:uid", IndexStep.SYNC_UID);
      Files.setAttribute(p, "unix:gid", IndexStep.SYNC_UID);
    }
    return IndexStep.index(
        IndexStep.SYNC_UID, "077", cache.toString(), "--summary-file", summary.toString());
  }

  static Path writableByBuildPod(Path dir) throws Exception {
    Files.createDirectories(dir);
    if (IndexStep.canSwitchUid()) {
      Files.setAttribute(dir, "unix:uid", IndexStep.BUILD_UID);
    }
    return dir;
  }
}
