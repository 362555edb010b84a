package dev.pypimirror.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.owned.OwnedProxyDeployment;
import dev.pypimirror.operator.proxy.FakeUpstream;
import dev.pypimirror.operator.proxy.ProxyApp;
import dev.pypimirror.operator.testing.Mirrors;
import dev.pypimirror.operator.testing.Python;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The bridge between what the operator writes and what the proxy runs: the container of a proxied
 * mirror's Deployment, its arguments parsed by the real command line and its Secret references
 * resolved as the kubelet would, serves the mirror's private upstream with the Secret's
 * credentials. Only the listen address and the cache folder are changed, as a pod's would be.
 */
class ProxyDeploymentRunsTest {
  static final String USER = "reader";
  static final String PASSWORD = "s3cret-from-the-secret";

  @Test
  void theRenderedProxyContainerParsesStartsAndReachesItsUpstreamWithTheSecretsCredentials(
      @TempDir Path scratch) throws Exception {
    Path wheel = new Python(scratch).buildWheel(scratch, "Corp_Lib", "1.0");
    try (FakeUpstream upstream = new FakeUpstream()) {
      upstream.add("corp-lib", wheel);
      upstream.requireBasic(USER, PASSWORD);
      PypiMirrorSpec spec =
          Mirrors.withProxy(
              Mirrors.spec(
                  Mirrors.withCredentials(Mirrors.trustedHttp(upstream.url()), "corp-pull")));
      Mirrors.withPublic(spec, false, null);
      PypiMirror mirror = Mirrors.mirror("builds", "corp", spec);
      Container container =
          OwnedProxyDeployment.desired(mirror, "registry.example/pmo:1", "pypi-mirror-corp-cache")
              .getSpec()
              .getTemplate()
              .getSpec()
              .getContainers()
              .get(0);

      List<String> args = new ArrayList<>(container.getArgs());
      Path cache = Files.createDirectories(scratch.resolve("cache"));
      replaceValue(args, "--cache", cache.toString());
      replaceValue(args, "--listen", "127.0.0.1:0");
      CommandLine.ParseResult parsed =
          new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
      assertThat(parsed.subcommand().commandSpec().name()).isEqualTo("proxy");
      ProxyCommand command = (ProxyCommand) parsed.subcommand().commandSpec().userObject();
      // the Deployment leaves the upstream bounds at their defaults: half the connections each
      assertThat(command.settings().limits().maxUpstreamConnections()).isEqualTo(64);
      assertThat(command.settings().limits().maxUpstreamPerClient()).isEqualTo(32);
      Map<String, String> env =
          kubeletEnv(
              container.getEnv(),
              Map.of("corp-pull", Map.of("username", USER, "password", PASSWORD)));

      try (ProxyApp proxy = new ProxyApp(command.settings(), env)) {
        int port = proxy.start();
        HttpResponse<String> page =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/simple/corp-lib/"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains(wheel.getFileName().toString());
        assertThat(upstream.authorizations)
            .contains(
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8)));
        assertThat(String.join(" ", container.getArgs())).doesNotContain(PASSWORD);
      }
    }
  }

  @Test
  void eachClientsUpstreamShareIsHalfOfTheConnectionsUnlessGiven(@TempDir Path cache) {
    assertThat(upstreamShare(cache, "--max-upstream-connections", "10")).isEqualTo(5);
    assertThat(upstreamShare(cache, "--max-upstream-connections", "1")).isEqualTo(1);
    assertThat(upstreamShare(cache, "--max-upstream-per-client", "3")).isEqualTo(3);
    assertThat(
            upstreamShare(
                cache, "--max-upstream-connections", "4", "--max-upstream-per-client", "9"))
        .isEqualTo(4);
  }

  private static int upstreamShare(Path cache, String... options) {
    List<String> args = new ArrayList<>(List.of("proxy", "--cache", cache.toString(), "--offline"));
    args.addAll(List.of(options));
    CommandLine.ParseResult parsed =
        new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
    ProxyCommand command = (ProxyCommand) parsed.subcommand().commandSpec().userObject();
    return command.settings().limits().maxUpstreamPerClient();
  }

  private static void replaceValue(List<String> args, String option, String value) {
    int at = args.indexOf(option);
    assertThat(at).as("the container passes %s", option).isNotNegative();
    args.set(at + 1, value);
  }

  /** The environment the kubelet gives the container: literals, and optional Secret keys. */
  private static Map<String, String> kubeletEnv(
      List<EnvVar> env, Map<String, Map<String, String>> secrets) {
    Map<String, String> resolved = new HashMap<>();
    for (EnvVar variable : env) {
      if (variable.getValue() != null) {
        resolved.put(variable.getName(), variable.getValue());
      } else if (variable.getValueFrom() != null
          && variable.getValueFrom().getSecretKeyRef() != null) {
        var ref = variable.getValueFrom().getSecretKeyRef();
        String value = secrets.getOrDefault(ref.getName(), Map.of()).get(ref.getKey());
        if (value != null) {
          resolved.put(variable.getName(), value);
        } else {
          assertThat(ref.getOptional()).as("%s is optional", variable.getName()).isTrue();
        }
      }
    }
    return resolved;
  }
}
