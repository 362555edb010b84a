package dev.pypimirror.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pypimirror.operator.proxy.FakeUpstream;
import dev.pypimirror.operator.testing.ProjectPaths;
import io.netty.channel.epoll.Epoll;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar, run as a user runs it. */
class JarIT {
  static final Path JAR =
      Path.of(System.getProperty("operator.jar", "target/pypi-mirror-operator.jar"));

  record Run(int status, String out, String err) {}

  static Run java(String stdin, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(javaBinary(), "-jar", JAR.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(ProjectPaths.ROOT.toFile()).start();
    p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    var out = p.getInputStream().readAllBytes();
    var err = p.getErrorStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(
        p.exitValue(),
        new String(out, StandardCharsets.UTF_8),
        new String(err, StandardCharsets.UTF_8));
  }

  static String javaBinary() {
    return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
  }

  @Test
  void versionIsTheOneBuiltIn() throws Exception {
    Run run = java("", "version");

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out())
        .startsWith("pypi-mirror-operator " + System.getProperty("operator.version") + "\n")
        .contains("\ncommit ");
    String head = VersionCommandTest.gitHead();
    if (head != null) {
      assertThat(run.out()).contains("commit " + head);
    }
  }

  /**
   * The proxy as the image runs it: the jar's own epoll library loads (so a cached file's head
   * shares its first segment: TCP_CORK), and a file comes through whole, fetched and then cached.
   */
  @Test
  void theProxyFromTheJarServesOnEpollAndSendsFilesWhole(@TempDir Path dir) throws Exception {
    String log = proxyServesAFileTwice(dir, List.of());

    if (Epoll.isAvailable()) { // Linux on x86-64 or aarch64, as the image (and CI)
      assertThat(log).contains("epoll transport").doesNotContain("did not load");
    } else {
      assertThat(log).contains("NIO transport", "did not load");
    }
  }

  /**
   * Where the epoll library cannot be written out (here: an unwritable folder for it), the proxy
   * says why and serves on NIO, files whole as before.
   */
  @Test
  void withoutItsEpollLibraryTheProxySaysWhyAndServesOnNio(@TempDir Path dir) throws Exception {
    String log = proxyServesAFileTwice(dir, List.of("-Dio.netty.native.workdir=/proc/none"));

    assertThat(log)
        .contains("NIO transport")
        .containsPattern(
            "proxy: Netty's epoll transport did not load \\(.+\\): NIO instead, which serves the"
                + " same");
  }

  /** Starts the jar's proxy, gets a 3 MiB file through it twice (fetched, then cached): its log. */
  private static String proxyServesAFileTwice(Path dir, List<String> jvmOptions) throws Exception {
    Path sdist = FakeUpstream.randomSdist(dir, "jar-thing", 3);
    byte[] bytes = Files.readAllBytes(sdist);
    Path err = dir.resolve("proxy.err");
    List<String> command = new ArrayList<>(List.of(javaBinary()));
    command.addAll(jvmOptions);
    try (FakeUpstream upstream = new FakeUpstream()) {
      upstream.add("jar-thing", sdist);
      command.addAll(
          List.of(
              "-jar",
              JAR.toString(),
              "proxy",
              "--listen",
              "127.0.0.1:0",
              "--cache",
              Files.createDirectory(dir.resolve("cache")).toString(),
              "--upstream",
              upstream.url()));
      Process proxy = new ProcessBuilder(command).redirectError(err.toFile()).start();
      try {
        String listening =
            new BufferedReader(
                    new InputStreamReader(proxy.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        assertThat(listening).as(Files.readString(err)).startsWith("listening on http://");
        String base = listening.substring("listening on ".length(), listening.length() - 1);
        HttpClient http = HttpClient.newHttpClient();
        Path stored = dir.resolve("cache").resolve("_files").resolve(sdist.getFileName());
        for (String time : List.of("fetched", "cached")) {
          if (time.equals("cached")) { // whole and in place: sent from the cache (corked), a hit
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.isRegularFile(stored));
          }
          HttpResponse<byte[]> got =
              http.send(
                  HttpRequest.newBuilder(
                          URI.create(
                              base.replace("/simple", "/files/jar-thing/") + sdist.getFileName()))
                      .build(),
                  HttpResponse.BodyHandlers.ofByteArray());
          assertThat(got.statusCode()).as(time).isEqualTo(200);
          assertThat(got.body()).as(time).isEqualTo(bytes);
        }
        assertThat(
                http.send(
                        HttpRequest.newBuilder(URI.create(base.replace("/simple", "/-/metrics")))
                            .build(),
                        HttpResponse.BodyHandlers.ofString())
                    .body())
            .contains("pypimirror_proxy_requests_total{kind=\"file\",outcome=\"hit\"} 1.0");
        String log = Files.readString(err);
        assertThat(log).doesNotContain("WARN", "ERROR");
        return log;
      } finally {
        proxy.destroy();
        assertThat(proxy.waitFor(30, TimeUnit.SECONDS)).isTrue();
      }
    }
  }

  @Test
  void rendersTheReadmeExample() throws Exception {
    Run run = java("", "render", "-f", "deploy/examples/pypimirror.yaml");

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out())
        .startsWith("apiVersion: v1\nkind: ConfigMap\n")
        .contains(
            "\n  name: pypi-mirror-corp\n", "\n---\napiVersion: v1\nkind: PersistentVolumeClaim\n")
        .contains("index-url = https://devpi.corp.example/root/pypi/+simple/");
  }

  /**
   * The jar leaves out fabric8's model modules the operator does not use; one it does use, left
   * out, fails only at run time and only on that path (the rbac module was: the leader's
   * ClusterRole lookup threw NoClassDefFoundError and no webhook configuration was ever written).
   */
  @Test
  void theJarHoldsEveryKubernetesModelGroupTheOperatorUses() throws Exception {
    Pattern use =
        Pattern.compile(
            "io\\.fabric8\\.kubernetes\\.api\\.model\\.([a-z]+)\\.(?:[a-z0-9]+\\.)*[A-Z]");
    Set<String> groups = new TreeSet<>();
    try (Stream<Path> sources = Files.walk(ProjectPaths.ROOT.resolve("operator/src/main/java"))) {
      for (Path source : sources.filter(f -> f.toString().endsWith(".java")).toList()) {
        Matcher m = use.matcher(Files.readString(source));
        while (m.find()) {
          groups.add(m.group(1));
        }
      }
    }
    assertThat(groups).contains("rbac", "networking", "apps");
    Set<String> packed = new TreeSet<>();
    try (ZipFile jar = new ZipFile(JAR.toFile())) {
      for (String group : groups) {
        if (jar.stream()
            .anyMatch(
                e -> e.getName().startsWith("io/fabric8/kubernetes/api/model/" + group + "/"))) {
          packed.add(group);
        }
      }
    }
    assertThat(packed).as("model groups in the jar").isEqualTo(groups);
  }

  @Test
  void theDemoRunsFromTheJarAndExits() throws Exception {
    Run run = java("", "demo");

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("PypiMirror builds/corp", "+ annotation pypimirror.dev/injected: corp@", "Done:");
    assertThat(run.err()).as("the demo is quiet unless --verbose").doesNotContain("INFO");
  }

  @Test
  void injectFromTheJar() throws Exception {
    Run run =
        java(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n",
            "inject",
            "-f",
            "-",
            "--mirror",
            "deploy/examples/pypimirror.yaml");

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out()).contains("pypimirror.dev/injected", "mountPath: /etc/pip.conf\n");
  }

  @Test
  void helpShowsExamplesThatWork() throws Exception {
    for (String command : List.of("", "render", "check", "completion")) {
      Run help = command.isEmpty() ? java("", "--help") : java("", command, "--help");
      assertThat(help.status()).as(help.err()).isZero();
      List<List<String>> examples = CommandLineTest.examples(help.out());
      assertThat(examples).as(command + " --help: Examples").isNotNull().isNotEmpty();
    }
    // the first example of render, run from the jar as printed
    List<String> first = CommandLineTest.examples(java("", "render", "--help").out()).get(0);
    Run run = java("", first.toArray(String[]::new));
    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out()).startsWith("apiVersion: v1\nkind: ConfigMap\n");
  }

  @Test
  void aMisspeltCommandOrOptionGetsWhatWasMeant() throws Exception {
    Run command = java("", "rendr");
    Run option = java("", "render", "-f", "deploy/examples/pypimirror.yaml", "--polcy", "p.yaml");

    assertThat(command.status()).isEqualTo(2);
    assertThat(command.err())
        .isEqualTo(
            "error: unknown command \"rendr\" for \"pypi-mirror-operator\"; did you mean"
                + " \"render\"?\n");
    assertThat(option.status()).isEqualTo(2);
    assertThat(option.err())
        .isEqualTo(
            "error: unknown option \"--polcy\" for \"pypi-mirror-operator render\"; did you mean"
                + " \"--policy\"?\n");
  }

  /** No cluster answers: one line naming its address and why, exit 1, at once (no retries). */
  @Test
  void checkWithNoClusterSaysWhereAndWhyInOneLine(@TempDir Path dir) throws Exception {
    Path kubeconfig = dir.resolve("config");
    Files.writeString(
        kubeconfig,
        """
        apiVersion: v1
        kind: Config
        clusters:
        - {name: gone, cluster: {server: "https://cluster.invalid:6443"}}
        - {name: closed, cluster: {server: "https://127.0.0.1:1"}}
        contexts:
        - {name: gone, context: {cluster: gone, user: u}}
        - {name: closed, context: {cluster: closed, user: u}}
        current-context: gone
        users:
        - {name: u, user: {token: t}}
        """);

    Run unresolved = java("", "check", "--kubeconfig", kubeconfig.toString(), "-n", "builds");
    Run refused =
        java("", "check", "--kubeconfig", kubeconfig.toString(), "--context", "closed", "web");

    assertThat(unresolved.status()).isEqualTo(1);
    assertThat(unresolved.err())
        .isEqualTo(
            "error: cannot reach the cluster at https://cluster.invalid:6443/: the host name"
                + " cluster.invalid does not resolve\n");
    assertThat(refused.status()).isEqualTo(1);
    assertThat(refused.err())
        .isEqualTo(
            "error: cannot reach the cluster at https://127.0.0.1:1/: the connection was refused"
                + " (nothing listens there)\n");
  }

  @Test
  void renderReadsAFolderAsKubectlDoes() throws Exception {
    Run run = java("", "render", "-f", "deploy/examples", "-o", "json");

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("\"name\": \"pypi-mirror-airgap\"", "\"name\": \"pypi-mirror-corp\"");
    assertThat(run.err())
        .contains(
            "note: deploy/examples/build-pod.yaml: Pod skipped: not a PypiMirror",
            "warning: deploy/examples/pypimirror.yaml: PypiMirror corp: pip gets the public index");
  }

  @Test
  void fishCompletionFromTheJarWorksInFish(@TempDir Path dir) throws Exception {
    Run run = java("", "completion", "fish");
    assertThat(run.status()).as(run.err()).isZero();
    Path script = dir.resolve("pypi-mirror-operator.fish");
    Files.writeString(script, run.out());

    assertThat(CompletionCommandTest.fishCompletes(script, "pypi-mirror-operator chec"))
        .startsWith("check\t");
  }

  /** What {@code render -f -} of this input says on stderr, refusing it with exit 2. */
  private static String renderRefuses(String stdin) throws Exception {
    Run run = java(stdin, "render", "-f", "-");
    assertThat(run.status()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    return run.err();
  }

  @Test
  void badInputIsOneLineAndExitTwoWithoutStackTrace() throws Exception {
    assertThat(
            renderRefuses(
                "apiVersion: pypimirror.dev/v1alpha1\nkind: PypiMirror\nmetadata: {name: x}\nspec: {indexes: [{url: 'http://h/'}]}\n"))
        .isEqualTo(
            "error: <stdin>: invalid PypiMirror x: spec.indexes[0].url: plain http index http://h/ needs trustedHost: true\n");
  }

  @Test
  void aYamlAliasIsRefusedWithOneLine() throws Exception {
    assertThat(
            renderRefuses(
                """
                apiVersion: pypimirror.dev/v1alpha1
                kind: PypiMirror
                metadata: {name: m}
                spec:
                  indexes: [{url: &u "https://a.example/simple/"}]
                  publicIndex: {url: *u}
                """))
        .matches(
            "error: <stdin>: YAML alias \\*u at line 6, column \\d+: aliases are not supported;"
                + " write the value out\n");
  }

  @Test
  void anInputOver3MiBIsRefusedAtOnce(@TempDir Path dir) throws Exception {
    Path big = dir.resolve("big.yaml");
    try (var out = Files.newOutputStream(big)) {
      out.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {k: \"".getBytes());
      out.write("x".repeat(4 * 1024 * 1024).getBytes());
      out.write("\"}\n".getBytes());
    }
    Run file = java("", "render", "-f", big.toString());

    assertThat(file.status()).isEqualTo(2);
    assertThat(file.err())
        .isEqualTo(
            "error: "
                + big
                + ": larger than 3 MiB (3145728 bytes), the most the Kubernetes API server accepts"
                + " in one request\n");

    // a stream far larger than memory would allow is refused once it passes the limit
    Process p =
        new ProcessBuilder(javaBinary(), "-Xmx64m", "-jar", JAR.toString(), "render", "-f", "-")
            .directory(ProjectPaths.ROOT.toFile())
            .start();
    Thread feeder =
        new Thread(
            () -> {
              byte[] chunk = "# padding\n".repeat(100_000).getBytes();
              try (var in = p.getOutputStream()) {
                for (int i = 0; i < 2_000; i++) { // 2 GB
                  in.write(chunk);
                }
              } catch (java.io.IOException e) {
                // the reader stopped reading: what is expected
              }
            });
    feeder.start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    feeder.join();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(err)
        .isEqualTo(
            "error: <stdin>: larger than 3 MiB (3145728 bytes), the most the Kubernetes API server"
                + " accepts in one request\n");
  }

  @Test
  void ingestRefusesARequirementsFileOver3MiBAtOnce(@TempDir Path dir) throws Exception {
    Path downloads = Files.createDirectory(dir.resolve("downloads"));
    Path cache = Files.createDirectory(dir.resolve("cache"));
    Path requirements = dir.resolve("requirements.txt");
    Files.writeString(requirements, "# padding\n".repeat(400_000)); // 4 MB
    Files.writeString(downloads.resolve("a-1.0-py3-none-any.whl"), "not read");

    Run run =
        java(
            "",
            "ingest",
            "--requirements",
            requirements.toString(),
            downloads.toString(),
            cache.toString());

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.err())
        .isEqualTo(
            "error: "
                + requirements
                + ": larger than 3 MiB (3145728 bytes), the most the Kubernetes API server accepts"
                + " in one request\n");
    assertThat(run.out()).isEmpty();
    try (Stream<Path> added = Files.list(cache)) {
      assertThat(added).isEmpty();
    }
  }
}
