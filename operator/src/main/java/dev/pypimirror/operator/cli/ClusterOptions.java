package dev.pypimirror.operator.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import picocli.CommandLine.Option;

/**
 * {@code --kubeconfig} and {@code --context}, as kubectl takes them, for the commands that talk to
 * a cluster; and a failed request said in one line: the cluster's address and the cause.
 */
final class ClusterOptions {
  @Option(
      names = "--kubeconfig",
      paramLabel = "FILE",
      description =
          "The kubeconfig file (default: $KUBECONFIG, else ~/.kube/config; in a pod: its service"
              + " account).")
  Path kubeconfig;

  @Option(
      names = "--context",
      paramLabel = "NAME",
      description = "The kubeconfig context (default: the kubeconfig's current context).")
  String context;

  /** What a command does with a client of the cluster. */
  @FunctionalInterface
  interface ClientWork {
    void run(KubernetesClient client) throws Exception;
  }

  /**
   * Runs {@code work} with a client of the cluster these options name, closed after; a failed
   * request is one line: the cluster's address and the cause.
   */
  void withClient(ClientWork work) throws Exception {
    Config config = config();
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build()) {
      work.run(client);
    } catch (KubernetesClientException e) {
      throw failed(String.valueOf(config.getMasterUrl()), e);
    }
  }

  /** The client configuration these options name; a missing file or context is bad input. */
  Config config() {
    if (kubeconfig == null && context == null) {
      return Config.autoConfigure(null);
    }
    if (kubeconfig != null && !Files.isRegularFile(kubeconfig)) {
      throw new CliException("--kubeconfig " + kubeconfig + ": no such file");
    }
    Config config;
    try {
      config =
          kubeconfig != null
              ? Config.fromKubeconfig(context, kubeconfig.toFile())
              : Config.autoConfigure(context);
    } catch (KubernetesClientException e) {
      throw new CliException(
          (kubeconfig != null ? "--kubeconfig " + kubeconfig : "the kubeconfig")
              + ": "
              + Main.causes(e));
    }
    if (context != null
        && (config.getCurrentContext() == null
            || !context.equals(config.getCurrentContext().getName()))) {
      throw new CliException(
          "--context "
              + context
              + ": no such context in "
              + (kubeconfig != null ? kubeconfig : "the kubeconfig")
              + " (kubectl config get-contexts lists them)");
    }
    return config;
  }

  /**
   * "cannot reach the cluster at URL: why" for a cluster that did not answer; "the cluster at URL
   * refused: what it said" for one that did. One line, without the client's request description.
   */
  static RuntimeException failed(String masterUrl, Throwable failure) {
    String unreachable = unreachable(failure, masterUrl);
    if (unreachable != null) {
      return new CliFailure("cannot reach the cluster at " + masterUrl + ": " + unreachable);
    }
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof KubernetesClientException k
          && k.getStatus() != null
          && k.getStatus().getMessage() != null) {
        return new CliFailure(
            "the cluster at %s refused (%d): %s"
                .formatted(masterUrl, k.getCode(), k.getStatus().getMessage()));
      }
    }
    return new CliFailure("cannot read the cluster at " + masterUrl + ": " + Main.causes(failure));
  }

  /** Why no answer came, in words; null when one did. */
  static String unreachable(Throwable failure, String masterUrl) {
    String host = hostOf(masterUrl);
    Throwable refused = null;
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
        return "the host name " + host + " does not resolve";
      }
      if (t instanceof NoRouteToHostException) {
        return "no route to " + host;
      }
      if (t instanceof SSLException) {
        return "the TLS handshake failed: " + t.getMessage();
      }
      if (t instanceof SocketTimeoutException
          || t instanceof TimeoutException
          || t instanceof InterruptedIOException) {
        return "no answer in time";
      }
      if (t instanceof ConnectException) {
        refused = t; // a wrapper of the causes above too: look further first
      }
    }
    return refused == null ? null : "the connection was refused (nothing listens there)";
  }

  private static String hostOf(String url) {
    try {
      String host = URI.create(url).getHost();
      return host == null ? url : host;
    } catch (IllegalArgumentException e) {
      return url;
    }
  }

  /** A failure whose message says it all: one line, exit 1. */
  static final class CliFailure extends RuntimeException {
    CliFailure(String message) {
      super(message);
    }
  }
}
