package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.demo.Demo;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Show the whole flow with no cluster: an embedded API server, the operator, the webhook over"
            + " HTTPS, and the examples of deploy/examples.",
    footerHeading = "%nExamples:%n",
    footer = {
      "  pypi-mirror-operator demo",
      "  # with the operator's and the API server's logs",
      "  pypi-mirror-operator demo --verbose"
    })
class DemoCommand implements Callable<Integer> {
  /** Held so the logging configuration is not collected. */
  private static final Logger MOCK_SERVER_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  @Spec CommandSpec spec;

  @Option(names = "--verbose", description = "Show the operator's and the API server's logs.")
  boolean verbose;

  @Option(
      names = "--injection",
      defaultValue = "webhook",
      paramLabel = "webhook|admission-policy",
      description =
          "admission-policy: the operator writes MutatingAdmissionPolicies and the embedded API"
              + " server injects pods from them, as kube-apiserver 1.36+ does (default:"
              + " ${DEFAULT-VALUE}).")
  String injection;

  @Override
  public Integer call() throws Exception {
    if (!verbose) {
      ((ch.qos.logback.classic.Logger)
              org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
          .setLevel(ch.qos.logback.classic.Level.WARN);
      MOCK_SERVER_LOG.setLevel(Level.WARNING);
      // the client's notes about v1alpha1 and the like are for developers, not for this tour
      ((ch.qos.logback.classic.Logger)
              org.slf4j.LoggerFactory.getLogger("io.fabric8.kubernetes.client"))
          .setLevel(ch.qos.logback.classic.Level.ERROR);
    }
    if (!injection.equals("webhook") && !injection.equals("admission-policy")) {
      throw new CliException("--injection must be webhook or admission-policy, got " + injection);
    }
    Demo.run(spec.commandLine().getOut(), injection.equals("admission-policy"));
    return 0;
  }
}
