package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.proxy.ProxyApp;
import dev.pypimirror.operator.proxy.ProxySettings;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.simple.Resolution;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "proxy",
    mixinStandardHelpOptions = true,
    description =
        "Serve the cache in DIR over HTTP as a pull-through caching proxy of the upstream indexes"
            + " (PEP 503 HTML and PEP 691 JSON). Credentials of upstream i (from 0, in --upstream"
            + " order) come from the environment, never the command line:"
            + " PYPI_PROXY_UPSTREAM_<i>_USERNAME and _PASSWORD, or _TOKEN (sent as user __token__);"
            + " each may be given as a file with _FILE appended.",
    defaultValueProvider = SettingDefaults.class,
    resourceBundle = "dev.pypimirror.operator.cli.SettingDefaults$ProxyHelp",
    footerHeading = "%nExamples:%n",
    footer = {
      "  pypi-mirror-operator proxy --cache /var/cache/pypi \\",
      "      --upstream https://devpi.corp.example/root/pypi/+simple/ \\",
      "      --upstream https://pypi.org/simple/",
      "  pip install --index-url http://127.0.0.1:8080/simple/ requests",
      "  # a private upstream's token, from a mounted Secret",
      "  PYPI_PROXY_UPSTREAM_0_TOKEN_FILE=/secrets/token \\",
      "      pypi-mirror-operator proxy --cache /var/cache/pypi \\",
      "      --upstream https://pypi.corp.example/simple/",
      "  # what the cache holds, and nothing else",
      "  pypi-mirror-operator proxy --cache /var/cache/pypi --offline \\",
      "      --listen 127.0.0.1:8080"
    })
class ProxyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--cache",
      required = true,
      paramLabel = "DIR",
      description = "The cache folder (the layout of index and ingest: files in DIR/_files/).")
  Path cache;

  @Option(
      names = "--upstream",
      paramLabel = "URL",
      description = "An upstream simple index; repeat it for several, in the order they are asked.")
  List<String> upstreams = List.of();

  @Option(names = "--listen", paramLabel = "HOST:PORT")
  String listen;

  @Option(
      names = "--offline",
      description = "Never contact an upstream: serve what the cache holds.")
  boolean offline;

  @Option(names = "--index-ttl", paramLabel = "SECONDS")
  long indexTtl;

  @Option(names = "--resolution", paramLabel = "FirstMatch|Merge")
  Resolution resolution;

  @Option(names = "--high-water", paramLabel = "PERCENT")
  int highWaterPercent;

  @Option(names = "--max-clients", paramLabel = "N")
  int maxClients;

  @Option(names = "--max-per-client", paramLabel = "N")
  int maxPerClient;

  @Option(names = "--max-upstream-connections", paramLabel = "N")
  int maxUpstreamConnections;

  @Option(names = "--max-upstream-per-client", paramLabel = "N")
  int maxUpstreamPerClient;

  @Override
  public Integer call() throws Exception {
    // the upstream client reads in chunks of this size (the JDK's default is 16 KiB): a file
    // streams through the relay in 16 times fewer hand-overs between threads; read once, before
    // the first client is made, so set here, where the proxy's process begins
    if (System.getProperty(UPSTREAM_READ_BUFFER) == null) {
      System.setProperty(UPSTREAM_READ_BUFFER, Integer.toString(256 * 1024));
    }
    ProxySettings settings = settings();
    ProxyApp app;
    try {
      app = new ProxyApp(settings, System.getenv());
    } catch (IllegalArgumentException e) {
      leaveTerminationMessage(e.getMessage());
      throw new CliException(e.getMessage());
    }
    int port = app.start();
    String host = settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host();
    spec.commandLine().getOut().println("listening on http://" + host + ":" + port + "/simple/");
    spec.commandLine().getOut().flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  app.shutdown(
                      Defaults.PROXY_DRAIN_DELAY.defaultValue(),
                      Defaults.PROXY_DRAIN_WAIT.defaultValue());
                  stopped.countDown();
                },
                "shutdown"));
    stopped.await();
    return 0;
  }

  static final String UPSTREAM_READ_BUFFER = "jdk.httpclient.bufsize";

  /** Where the kubelet reads a container's termination message (it mounts the file there). */
  static final Path TERMINATION_LOG = Path.of("/dev/termination-log");

  /**
   * In a pod, why the proxy does not start becomes its container's termination message, which the
   * operator shows in the mirror's ProxyReady condition; elsewhere (no such file) nothing.
   */
  static void leaveTerminationMessage(String why) {
    if (Files.isWritable(TERMINATION_LOG)) {
      try {
        Files.writeString(TERMINATION_LOG, ProxySettings.TERMINATION_PREFIX + why);
      } catch (java.io.IOException e) {
        // the error on stderr says it all the same
      }
    }
  }

  ProxySettings settings() {
    if (!Files.isDirectory(cache)) {
      throw new CliException(cache + ": not a directory");
    }
    if (upstreams.isEmpty() && !offline) {
      throw new CliException("give at least one --upstream, or --offline");
    }
    if (indexTtl < 0) {
      throw new CliException("--index-ttl must be 0 or more seconds, got " + indexTtl);
    }
    if (highWaterPercent < 1 || highWaterPercent > 100) {
      throw new CliException(
          "--high-water must be a percentage from 1 to 100, got " + highWaterPercent);
    }
    Listen at = listen();
    try {
      return new ProxySettings(
          cache,
          upstreams,
          at.host(),
          at.port(),
          offline,
          Duration.ofSeconds(indexTtl),
          resolution,
          highWaterPercent / 100.0,
          new ProxySettings.Limits(
              maxClients,
              maxPerClient,
              maxUpstreamConnections,
              maxUpstreamPerClient,
              ProxySettings.Limits.DEFAULTS.upstreamWait(),
              ProxySettings.Limits.DEFAULTS.transferStall()));
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage()); // it names the options and what they take
    }
  }

  /** Where {@code --listen} says: the host (an IPv6 address without its brackets) and port. */
  record Listen(String host, int port) {}

  private Listen listen() {
    int colon = listen.lastIndexOf(':');
    if (colon <= 0) {
      throw new CliException("--listen must be HOST:PORT, got " + listen);
    }
    String host = listen.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(listen.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 0 || port > 65535) {
      throw new CliException(
          "--listen must be HOST:PORT with a port from 0 to 65535, got " + listen);
    }
    return new Listen(host, port);
  }
}
