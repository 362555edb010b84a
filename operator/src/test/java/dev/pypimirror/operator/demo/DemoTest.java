package dev.pypimirror.operator.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The README's first command, run in-process: its output, and that it leaves nothing behind. */
class DemoTest {

  static Set<String> demoTempDirs() throws Exception {
    try (var files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("pypi-mirror-demo-"))
          .collect(Collectors.toSet());
    }
  }

  static Set<Thread> nonDaemonThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> !t.isDaemon() && t.isAlive() && !t.getName().startsWith("awaitility"))
        .collect(Collectors.toSet());
  }

  @Test
  void theDemoShowsTheWholeFlowAndLeavesNothingBehind() throws Exception {
    Set<String> tempBefore = demoTempDirs();
    Set<Thread> threadsBefore = nonDaemonThreads();
    StringWriter output = new StringWriter();

    Demo.run(new PrintWriter(output));

    String out = output.toString();
    assertThat(out)
        .contains("1. PypiMirror builds/corp (pypimirror.yaml)")
        .containsPattern("Ready +True +Ready")
        .containsPattern("CacheReady +True +Bound")
        .contains("index-url = https://devpi.corp.example/root/pypi/+simple/")
        .contains("trusted-host = 10.0.0.5:3141")
        .contains("3. Pod builds/kaniko-build (build-pod.yaml) created through the API server")
        .contains("The API server called webhook pods.pypimirror.dev")
        .contains("+ container kaniko mounts /etc/pip.conf <- pip.conf (read-only)")
        .contains("+ container kaniko mounts /root/.pydistutils.cfg <- pydistutils.cfg (read-only)")
        .contains(
            "+ container buildah mounts /home/build/.pydistutils.cfg <- pydistutils.cfg (read-only)")
        .contains("+ volume pypi-mirror-cache: PVC pypi-mirror-corp-cache, read-only")
        .containsPattern("\\+ annotation pypimirror.dev/injected: corp@[0-9a-f]{12}")
        .doesNotContain("container clone")
        .doesNotContain("warning:");
    Matcher webhook = Pattern.compile("https://127.0.0.1:(\\d+)/mutate-pods").matcher(out);
    assertThat(webhook.find()).isTrue();
    int port = Integer.parseInt(webhook.group(1));

    assertThatThrownBy(
            () -> {
              try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
              }
            })
        .as("the webhook port is closed")
        .isInstanceOf(java.net.ConnectException.class);
    assertThat(demoTempDirs()).isEqualTo(tempBefore);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(nonDaemonThreads())
                    .as("threads the demo left running")
                    .allMatch(threadsBefore::contains));
  }

  /**
   * {@code demo --injection admission-policy}: the operator writes the admission policies, the
   * embedded API server injects the same pods from them, and no webhook is called for a pod.
   */
  @Test
  void inAdmissionPolicyModeTheApiServerInjectsFromThePolicies() throws Exception {
    StringWriter output = new StringWriter();

    Demo.run(new PrintWriter(output), true);

    String out = output.toString();
    assertThat(out)
        .contains("The operator's leader wrote MutatingAdmissionPolicy pypi-mirror.builds.corp")
        .contains("3. Pod builds/kaniko-build (build-pod.yaml) created through the API server")
        .contains("No webhook was called: the API server applied the MutatingAdmissionPolicy")
        .containsPattern("Stored: pod kaniko-build with annotation pypimirror.dev/injected=corp@")
        .doesNotContain("The API server called webhook pods.pypimirror.dev");
  }
}
