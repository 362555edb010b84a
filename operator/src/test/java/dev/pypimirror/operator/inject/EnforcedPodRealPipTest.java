package dev.pypimirror.operator.inject;

import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.trustedHttp;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.fuzz.EnforcedPodFuzzTest;
import dev.pypimirror.operator.inject.InjectionPlan.Outcome;
import dev.pypimirror.operator.policy.PolicyMirrors;
import dev.pypimirror.operator.testing.IndexServer;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.testing.Python;
import dev.pypimirror.operator.testing.SelfSignedTls;
import dev.pypimirror.operator.testing.SimpleIndex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real pip confirms the webhook's Enforce outcomes for a sample of the fuzz target's inputs: each
 * admitted pod is run as the kubelet would run it (the mirror's files at their mount paths under a
 * scratch root, the container's env exactly), on top of an image whose own global pip.conf names a
 * hostile index as extra-index-url and find-links and adds a requirements file with its own
 * --index-url. The same pods without the webhook reach the hostile index: the spellings they use
 * are ones pip reads.
 */
class EnforcedPodRealPipTest {
  static final List<String> SAMPLE =
      List.of(
          "spelled-index-settings.txt",
          "forged-markers.txt",
          "config-elsewhere.txt",
          "pip-aliases-and-connection-settings.txt");

  @Test
  void admittedPodsReachOnlyTheMirrorWhateverTheirAuthorAndImageSet(@TempDir Path scratch)
      throws Exception {
    Python python = new Python(scratch);
    Path good = Files.createDirectories(scratch.resolve("good"));
    Path bad = Files.createDirectories(scratch.resolve("bad"));
    Path wheel = python.buildWheel(scratch, "pmo-probe", "1.0");
    SimpleIndex.add(good, "pmo-probe", wheel);
    SimpleIndex.add(bad, "pmo-probe", python.buildWheel(scratch, "pmo-probe", "6.6.6"));
    SelfSignedTls tls = SelfSignedTls.create(Files.createDirectories(scratch.resolve("tls")));
    // the hostile index is https with a certificate pip trusts: a secure origin it would use
    try (IndexServer mirror = IndexServer.http(good);
        IndexServer evil = IndexServer.https(bad, tls.serverContext())) {
      Path image = imageConfig(scratch, evil.url());
      PypiMirror corp = Pods.readyMirror("ml", "corp-builds", spec(trustedHttp(mirror.url())));
      corp.getSpec().setOffline(true);
      corp.getMetadata().setLabels(Map.of(PolicyMirrors.MADE_BY_POLICY_LABEL, "corp-builds"));
      PypiMirrorPolicy policy =
          Policies.policy("corp-builds", Map.of("team", "ml"), corp.getSpec(), true);
      policy.getSpec().setPodSelector(Policies.selector(Map.of()));
      policy.getSpec().setAllowedIndexPrefixes(List.of(mirror.url()));
      policy.getSpec().setAllowInsecureHttp(true);
      policy.getSpec().setAllowPublicIndex(false);
      RenderedConfig rendered = MirrorConfigRenderer.render("corp-builds", corp.getSpec());

      for (String input : SAMPLE) {
        String description =
            Files.readString(
                Path.of(
                    EnforcedPodFuzzTest.class
                        .getResource("EnforcedPodFuzzTestInputs/enforcedPods/" + input)
                        .toURI()));
        JsonNode pod = EnforcedPodFuzzTest.pod(description.replace("EVIL", evil.url()));
        InjectionPlan plan =
            PodInjector.inject(pod, "ml", null, Pods.directory(corp), ns -> Optional.of(policy));
        assertThat(plan.outcome()).as(input + ": " + plan).isEqualTo(Outcome.INJECTED);
        JsonNode admitted = Pods.applyPatch(pod, plan.patch());
        Path root = Files.createDirectories(scratch.resolve("root-" + input));
        for (String field : List.of("initContainers", "containers")) {
          for (JsonNode container : admitted.at("/spec/" + field)) {
            Path out =
                Files.createDirectories(root.resolve("out-" + container.path("name").asText()));
            Map<String, String> env = containerEnv(admitted, container, rendered, root);
            env.put("XDG_CONFIG_DIRS", image.toString());
            env.put("PIP_CERT", tls.certificatePem.toString());
            python.pipDownload(out, env, "pmo-probe").assertOk();
            assertThat(out.resolve("pmo_probe-1.0-py3-none-any.whl"))
                .as("%s/%s", input, container.path("name").asText())
                .exists();
          }
        }
        assertThat(evil.requests()).as(input).isEmpty();
      }

      // the controls: pods as their authors wrote them, no webhook: pip reads these spellings
      // (PIP_PYPI_URL is --index-url under pip's other name)
      for (String variable : List.of("PIP_index-url", "PIP_PYPI_URL")) {
        JsonNode unprotected =
            EnforcedPodFuzzTest.pod("container build\nenv %s %s\n".formatted(variable, evil.url()));
        Path out = Files.createDirectories(scratch.resolve("out-unprotected-" + variable));
        Map<String, String> env =
            new LinkedHashMap<>(Map.of("PIP_CERT", tls.certificatePem.toString()));
        unprotected
            .at("/spec/containers/0/env")
            .forEach(e -> env.put(e.path("name").asText(), e.path("value").asText()));
        python.pipDownload(out, env, "pmo-probe").assertOk();
        assertThat(out.resolve("pmo_probe-6.6.6-py3-none-any.whl")).as(variable).exists();
      }
      assertThat(evil.requests()).isNotEmpty();

      // PYTHONPATH with a sitecustomize.py of the pod's own: code inside pip that rewrites its
      // settings, even with every mirror variable in place (as Advisory leaves it). Enforce
      // refuses the pod.
      Path mine = Files.createDirectories(scratch.resolve("mine"));
      Files.writeString(
          mine.resolve("sitecustomize.py"),
          "import os\nos.environ['PIP_INDEX_URL'] = '%s'\n".formatted(evil.url()));
      JsonNode withPythonPath =
          EnforcedPodFuzzTest.pod("container build\nenv PYTHONPATH %s\n".formatted(mine));
      InjectionPlan refused =
          PodInjector.inject(
              withPythonPath, "ml", null, Pods.directory(corp), ns -> Optional.of(policy));
      assertThat(refused.outcome()).isEqualTo(Outcome.DENIED);
      policy
          .getSpec()
          .setEnforcement(dev.pypimirror.operator.api.PypiMirrorPolicySpec.Enforcement.Advisory);
      InjectionPlan advised =
          PodInjector.inject(
              withPythonPath, "ml", null, Pods.directory(corp), ns -> Optional.of(policy));
      JsonNode kept = Pods.applyPatch(withPythonPath, advised.patch());
      Path root = Files.createDirectories(scratch.resolve("root-pythonpath"));
      Map<String, String> env = containerEnv(kept, kept.at("/spec/containers/0"), rendered, root);
      env.put("PIP_CERT", tls.certificatePem.toString());
      Path out = Files.createDirectories(scratch.resolve("out-pythonpath"));
      python.pipDownload(out, env, "pmo-probe").assertOk();
      assertThat(out.resolve("pmo_probe-6.6.6-py3-none-any.whl"))
          .as("the pod's sitecustomize.py redirected pip past the mirror's variables")
          .exists();
    }
  }

  /** An image's /etc/xdg/pip/pip.conf that names the hostile index every way pip allows. */
  static Path imageConfig(Path scratch, String evil) throws Exception {
    Path xdg = Files.createDirectories(scratch.resolve("image-xdg/pip"));
    Path requirements =
        Files.writeString(scratch.resolve("image-requirements.txt"), "--index-url " + evil + "\n");
    Files.writeString(
        xdg.resolve("pip.conf"),
        "[global]\nextra-index-url = %s\nfind-links = %s\nrequirement = %s\nconstraint = %s\n"
            .formatted(evil, evil, requirements, requirements));
    return xdg.getParent();
  }

  /**
   * The container's literal env as its process sees it; the paths into the mirror's mounts point
   * into the scratch root, where the mirror's files are written as the kubelet would.
   */
  static Map<String, String> containerEnv(
      JsonNode pod, JsonNode container, RenderedConfig rendered, Path root) throws Exception {
    Map<String, JsonNode> volumes = new LinkedHashMap<>();
    pod.at("/spec/volumes").forEach(v -> volumes.put(v.path("name").asText(), v));
    for (JsonNode mount : container.path("volumeMounts")) {
      JsonNode volume = volumes.get(mount.path("name").asText());
      if (!"pypi-mirror-corp-builds".equals(volume.at("/configMap/name").asText())) {
        continue; // the pod's own volumes hold nothing pip reads here
      }
      Path target = root.resolve(mount.path("mountPath").asText().substring(1));
      if (mount.has("subPath")) {
        Files.createDirectories(target.getParent());
        Files.writeString(target, rendered.data().get(mount.path("subPath").asText()));
      } else {
        Files.createDirectories(target);
        for (var entry : rendered.data().entrySet()) {
          Files.writeString(target.resolve(entry.getKey()), entry.getValue());
        }
      }
    }
    Map<String, String> env = new LinkedHashMap<>();
    for (JsonNode e : container.path("env")) {
      String name = e.path("name").asText();
      if (e.has("valueFrom") || name.equals("HOME") || name.equals("XDG_CONFIG_DIRS")) {
        continue;
      }
      String value = e.path("value").asText("");
      env.put(name, value.startsWith(InjectedLayout.CONFIG_DIR) ? root + value : value);
    }
    return env;
  }
}
