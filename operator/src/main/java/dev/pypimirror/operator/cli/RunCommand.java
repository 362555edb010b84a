package dev.pypimirror.operator.cli;

import dev.pypimirror.operator.reconciler.MirrorOperator;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Run the operator against the cluster of the kubeconfig, or in-cluster.")
class RunCommand implements Callable<Integer> {
  @Option(
      names = "--watch-namespaces",
      split = ",",
      paramLabel = "NS",
      description = "Reconcile PypiMirrors only in these namespaces (default: all).")
  List<String> namespaces = List.of();

  @Override
  public Integer call() throws InterruptedException {
    var client = new KubernetesClientBuilder().build();
    var operator = MirrorOperator.start(client, new LinkedHashSet<>(namespaces), Clock.systemUTC());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  operator.stop();
                  client.close();
                  stopped.countDown();
                },
                "shutdown"));
    stopped.await();
    return 0;
  }
}
