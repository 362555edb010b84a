package dev.pypimirror.operator;

import static com.tngtech.archunit.base.DescribedPredicate.describe;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.util.Set;
import java.util.Timer;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * The layout as rules: the contract ({@code api}) at the bottom, pure decision code above it, I/O
 * around both, and no package that depends on itself through another.
 */
@AnalyzeClasses(
    packages = "dev.pypimirror.operator",
    importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  /**
   * What pip.conf says, which pods get what, what a policy allows, what the cache holds: decided
   * from objects and files, never by reading or writing the cluster.
   */
  static final String[] PURE = {
    "dev.pypimirror.operator.config..",
    "dev.pypimirror.operator.inject..",
    "dev.pypimirror.operator.policy..",
    "dev.pypimirror.operator.cache..",
    "dev.pypimirror.operator.owned..",
    "dev.pypimirror.operator.simple..",
    "dev.pypimirror.operator.admissionpolicy..",
    "dev.pypimirror.operator.inspect..",
    "dev.pypimirror.operator.jsonpatch..",
  };

  /** The operator's own packages that talk to the cluster, serve HTTPS or run processes. */
  static final String[] IO_PACKAGES = {
    "dev.pypimirror.operator",
    "dev.pypimirror.operator.reconciler..",
    "dev.pypimirror.operator.cluster..",
    "dev.pypimirror.operator.webhook..",
    "dev.pypimirror.operator.tls..",
    "dev.pypimirror.operator.metrics..",
    "dev.pypimirror.operator.apiserver..",
    "dev.pypimirror.operator.demo..",
    "dev.pypimirror.operator.cli..",
    "dev.pypimirror.operator.proxy..",
    "dev.pypimirror.operator.serving..",
  };

  /** Talking over the network: an HTTP client or a socket (a URI is data). */
  private static final Set<String> NETWORK_CLASSES =
      Set.of(
          "java.net.Socket",
          "java.net.ServerSocket",
          "java.net.DatagramSocket",
          "java.net.URLConnection",
          "java.net.HttpURLConnection",
          "java.nio.channels.SocketChannel",
          "java.nio.channels.ServerSocketChannel");

  private static final Set<String> SCHEDULERS =
      Set.of(
          ScheduledExecutorService.class.getName(),
          ScheduledThreadPoolExecutor.class.getName(),
          Executors.class.getName(),
          Timer.class.getName());

  /**
   * A cluster client and what it is made of: requests, informers, watches, leader election; the
   * operator framework; Vert.x and Netty. Model classes ({@code io.fabric8.kubernetes.api.model})
   * are data and stay allowed, as do {@code CustomResource} (what the contract's kinds extend) and
   * the client's serialization helpers.
   */
  static final DescribedPredicate<JavaClass> CLUSTER_IO =
      describe(
          "a cluster client, informer, request DSL, the operator SDK, Vert.x, Netty, a network"
              + " client or socket, a scheduler or event recording",
          c -> {
            String pkg = c.getPackageName();
            String name = c.getName();
            return (pkg.equals("io.fabric8.kubernetes.client")
                    && !name.equals("io.fabric8.kubernetes.client.CustomResource"))
                || pkg.startsWith("io.fabric8.kubernetes.client.dsl")
                || pkg.startsWith("io.fabric8.kubernetes.client.informers")
                || pkg.startsWith("io.fabric8.kubernetes.client.extended")
                || pkg.startsWith("io.fabric8.kubernetes.client.http")
                || pkg.startsWith("io.javaoperatorsdk")
                || pkg.startsWith("io.vertx")
                || pkg.startsWith("io.netty")
                || pkg.startsWith("java.net.http")
                || NETWORK_CLASSES.contains(name)
                || SCHEDULERS.contains(name)
                || c.getSimpleName().equals("EventRecorder");
          });

  @ArchTest
  static final ArchRule noPackageCycles =
      slices().matching("dev.pypimirror.operator.(*)..").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule pureCodeDoesNoClusterIo =
      noClasses().that().resideInAnyPackage(PURE).should().dependOnClassesThat(CLUSTER_IO);

  @ArchTest
  static final ArchRule pureCodeDependsOnNoIoPackage =
      noClasses()
          .that()
          .resideInAnyPackage(PURE)
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(IO_PACKAGES);

  @ArchTest
  static final ArchRule theContractDependsOnNothingOfOurs =
      noClasses()
          .that()
          .resideInAPackage("dev.pypimirror.operator.api..")
          .should()
          .dependOnClassesThat(
              describe(
                  "another package of the operator",
                  c ->
                      c.getPackageName().startsWith("dev.pypimirror.operator")
                          && !c.getPackageName().startsWith("dev.pypimirror.operator.api")))
          .orShould()
          .dependOnClassesThat(CLUSTER_IO);

  /**
   * The operator's settings are data, read by the parts they configure, and below them all: they
   * depend on no I/O and on no other package of the operator's.
   */
  @ArchTest
  static final ArchRule theSettingsAreData =
      noClasses()
          .that()
          .resideInAPackage("dev.pypimirror.operator.settings..")
          .should()
          .dependOnClassesThat(CLUSTER_IO)
          .orShould()
          .dependOnClassesThat()
          .resideInAnyPackage(IO_PACKAGES)
          .orShould()
          .dependOnClassesThat()
          .resideInAnyPackage(PURE);

  /**
   * The metrics count what the webhook, the reconcilers and the leader report to them, in the
   * contract's and the decisions' terms: they depend on none of the parts that report.
   */
  @ArchTest
  static final ArchRule theMetricsDependOnNoPartThatReports =
      noClasses()
          .that()
          .resideInAPackage("dev.pypimirror.operator.metrics..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(
              "dev.pypimirror.operator",
              "dev.pypimirror.operator.webhook..",
              "dev.pypimirror.operator.reconciler..",
              "dev.pypimirror.operator.cluster..",
              "dev.pypimirror.operator.proxy..",
              "dev.pypimirror.operator.cli..");

  /**
   * The cache's files are the cache's files whoever writes them: the sync's {@code ingest}, {@code
   * index} and the proxy share this package, so it knows nothing of Kubernetes, not even the model.
   */
  @ArchTest
  static final ArchRule theCacheFilesNeedNoKubernetes =
      noClasses()
          .that()
          .resideInAPackage("dev.pypimirror.operator.cache..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("io.fabric8..", "io.javaoperatorsdk..");

  /**
   * The caching proxy serves files and pages over HTTP and needs no Kubernetes client, no operator
   * SDK and no service account: not even the cluster's model classes.
   */
  @ArchTest
  static final ArchRule theProxyNeedsNoKubernetes =
      noClasses()
          .that()
          .resideInAPackage("dev.pypimirror.operator.proxy..")
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage("io.fabric8..", "io.javaoperatorsdk..");
}
