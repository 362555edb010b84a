package dev.pypimirror.operator.settings;

import dev.pypimirror.operator.settings.OperatorSettings.Injection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Every setting and timing of the operator with its default and what it does, in one place (like
 * Flink's {@code KubernetesOperatorConfigOptions}): {@link OperatorSettings#defaults()}, the
 * command line's defaults and help, and the timings the parts run by all read them here, and
 * docs/settings.md lists them (a test holds it to this class).
 */
public final class Defaults {
  private Defaults() {}

  // run's options

  public static final Setting<Integer> WEBHOOK_PORT =
      Setting.of("run --webhook-port", 9443, "HTTPS port of the webhooks.");

  public static final Setting<Integer> METRICS_PORT =
      Setting.of(
          "run --metrics-port", 8080, "Plain-HTTP port of /metrics, /healthz, /readyz; 0: none.");

  public static final Setting<Path> TLS_CERT_FILE =
      Setting.of(
          "run --tls-cert-file",
          Path.of("/tmp/k8s-webhook-server/serving-certs/tls.crt"),
          "Serving certificate (PEM) with --webhook-certs=files, reloaded when it changes.");

  public static final Setting<Path> TLS_KEY_FILE =
      Setting.of(
          "run --tls-key-file",
          Path.of("/tmp/k8s-webhook-server/serving-certs/tls.key"),
          "Serving key (PEM) with --webhook-certs=files.");

  public static final Setting<String> WEBHOOK_CONFIGURATION =
      Setting.of(
          "run --webhook-configuration",
          "pypi-mirror-operator",
          "The Mutating- and ValidatingWebhookConfiguration the leader owns; the ClusterRole of"
              + " this name owns them, and the certificate Secret <NAME>-webhook-tls and leader"
              + " Lease <NAME>-leader are named after it.");

  public static final Setting<String> WEBHOOK_SERVICE =
      Setting.of(
          "run --webhook-service",
          "pypi-mirror-operator-webhook",
          "The webhook Service in the operator's namespace.");

  public static final Setting<String> WEBHOOK_FAILURE_POLICY =
      Setting.of(
          "run --webhook-failure-policy",
          "Ignore",
          "The opt-in entry's failure policy, Ignore or Fail; the policies' entries fail as their"
              + " enforcement says.");

  public static final Setting<Integer> WEBHOOK_TIMEOUT =
      Setting.of("run --webhook-timeout", 5, "Every webhook entry's timeout in seconds, 1 to 30.");

  public static final Setting<String> CERT_MANAGER_ISSUER_GROUP =
      Setting.of("run --cert-manager-issuer-group", "cert-manager.io", "The issuer's API group.");

  public static final Setting<Duration> DRAIN_DELAY =
      Setting.seconds(
          "run --drain-delay",
          Duration.ofSeconds(10),
          "On SIGTERM: fail readiness and keep serving admissions this many seconds, so the"
              + " Service's endpoints drop this replica first; then answer those under way and"
              + " stop.");

  public static final Setting<Injection> INJECTION =
      new Setting<>(
          "run --injection",
          Injection.WEBHOOK,
          "webhook",
          "Who injects pods: the webhook; MutatingAdmissionPolicies the leader writes (Kubernetes"
              + " 1.36+; namespaces an Enforce policy governs stay with the webhook); auto:"
              + " policies when the API server serves them.");

  public static final Setting<String> LOG_FORMAT =
      Setting.of("run --log-format", "text", "text, or json: one JSON object per line.");

  // uninstall's options

  public static final Setting<Duration> UNINSTALL_WAIT =
      Setting.seconds(
          "uninstall --wait",
          Duration.ofSeconds(60),
          "How many seconds to wait for the operator's pods to stop.");

  // proxy's options and timings

  public static final Setting<String> PROXY_LISTEN =
      Setting.of(
          "proxy --listen", "0.0.0.0:8080", "Where to listen, HOST:PORT; port 0 picks a free one.");

  public static final Setting<Duration> PROXY_INDEX_TTL =
      Setting.seconds(
          "proxy --index-ttl",
          Duration.ofSeconds(600),
          "How many seconds a cached index page is served before it is revalidated upstream.");

  public static final Setting<String> PROXY_RESOLUTION =
      Setting.of(
          "proxy --resolution",
          "FirstMatch",
          "FirstMatch: the first upstream that has a project answers alone; Merge: all upstreams'"
              + " files.");

  public static final Setting<Integer> PROXY_HIGH_WATER =
      Setting.of(
          "proxy --high-water",
          90,
          "Above this percentage of the cache's volume, the files the proxy fetched that were"
              + " served least recently are evicted (never the sync's).");

  public static final Setting<Integer> PROXY_MAX_CLIENTS =
      Setting.of(
          "proxy --max-clients",
          1024,
          "Requests served at once; more are answered 503 with Retry-After (probes and metrics are"
              + " not counted).");

  public static final Setting<Integer> PROXY_MAX_PER_CLIENT =
      Setting.of(
          "proxy --max-per-client",
          64,
          "Requests served at once to one client address (the connection's source, never a"
              + " header); more are answered 429 with Retry-After.");

  public static final Setting<Duration> PROXY_CLIENT_LIMIT_LOG =
      Setting.timing(
          "proxy.client-limit-log-interval",
          Duration.ofMinutes(1),
          "At most one log line per client address this often says it was refused over"
              + " --max-per-client (the requests metric counts every refusal).");

  public static final Setting<Duration> PROXY_UPSTREAM_WAIT =
      Setting.timing(
          "proxy.upstream-wait",
          Duration.ofSeconds(10),
          "How long a request waits for an upstream connection before it fails (a page is then"
              + " served stale when one is stored).");

  public static final Setting<Integer> PROXY_MAX_UPSTREAM_CONNECTIONS =
      Setting.of(
          "proxy --max-upstream-connections",
          64,
          "Requests to the upstreams at once, pages and files together; more wait their turn up to "
              + PROXY_UPSTREAM_WAIT.text()
              + ".");

  public static final Setting<Integer> PROXY_MAX_UPSTREAM_PER_CLIENT =
      Setting.of(
          "proxy --max-upstream-per-client",
          0,
          "Requests to the upstreams at once for one client address; more wait in that client's"
              + " own line while other clients' go ahead (0: half of --max-upstream-connections, at"
              + " least 1).");

  public static final Setting<Duration> PROXY_TRANSFER_STALL =
      Setting.timing(
          "proxy.transfer-stall",
          Duration.ofSeconds(30),
          "How long a file transfer may go without a byte from the upstream, or a client without"
              + " taking one, before it is cut off; and how long the rest of a file is still"
              + " fetched into the cache once its client is gone.");

  public static final Setting<Duration> PROXY_DRAIN_DELAY =
      Setting.timing(
          "proxy.drain-delay",
          Duration.ofSeconds(5),
          "On SIGTERM the proxy is not ready at once but serves on this long, while the Service's"
              + " endpoints drop the pod.");

  public static final Setting<Integer> PROXY_STORE_THREADS =
      Setting.of(
          "proxy.store-threads",
          2,
          "Workers that hash and write fetched files into the cache behind their clients, shared"
              + " by every transfer (each transfer's chunks in order).");

  public static final Setting<Integer> PROXY_STORE_LAG =
      Setting.of(
          "proxy.store-lag-bytes",
          1 << 20,
          "Bytes of a transfer that may wait to be hashed and written before the proxy stops"
              + " reading its upstream until the store catches up: what bounds the heap.");

  public static final Setting<Integer> PROXY_PAGE_MEMORY_PAGES =
      Setting.of(
          "proxy.page-memory-pages",
          2000,
          "Project pages kept in memory, the least recently asked dropped first; the others are"
              + " read back from the cache's volume when asked for.");

  public static final Setting<Integer> PROXY_PAGE_MEMORY_BYTES =
      Setting.of(
          "proxy.page-memory-bytes",
          64 << 20,
          "Bytes those pages may take (rendered, gzipped and parsed, estimated), the least recently"
              + " asked dropped first; a page bigger than this is served but not kept.");

  public static final Setting<Integer> PROXY_NOT_FOUND_KEPT =
      Setting.of(
          "proxy.not-found-kept",
          10000,
          "Projects no upstream has (remembered for a minute), and projects never seen while the"
              + " upstreams fail, kept in memory only, the least recently asked dropped first.");

  public static final Setting<Duration> PROXY_DRAIN_WAIT =
      Setting.timing(
          "proxy.drain-wait",
          Duration.ofSeconds(20),
          "Then the requests under way (downloads) get at most this long before they are cut off:"
              + " with the delay, within Kubernetes' default grace period of 30 s.");

  // what no option changes

  /** This operator's image of this version (a constant: the command line's help names it). */
  public static final String OWN_IMAGE = "ghcr.io/pypimirror/pypi-mirror-operator:0.1.0";

  public static final Setting<String> INDEX_IMAGE =
      Setting.of(
          "reconcile.index-image",
          OWN_IMAGE,
          "The image the cache sync Job runs its trusted step (`ingest`) with when neither"
              + " --index-image, $PYPI_MIRROR_INDEX_IMAGE nor the operator's own pod names one:"
              + " this operator's own, as deploy/ and the Helm chart name it.");

  public static final Setting<String> WEBHOOK_HOST =
      Setting.of(
          "webhook.host",
          "0.0.0.0",
          "The address the webhook's HTTPS port and its management port listen on.");

  public static final Setting<Duration> TLS_RELOAD_INTERVAL =
      Setting.timing(
          "webhook.tls-reload-interval",
          Duration.ofSeconds(10),
          "How often the webhook looks at its serving certificate again.");

  public static final Setting<Duration> IN_FLIGHT_TIMEOUT =
      Setting.timing(
          "webhook.in-flight-timeout",
          Duration.ofSeconds(10),
          "Once the drain delay is over, how long the webhook waits for the admissions under way.");

  public static final Setting<Integer> LOOKUP_THREADS =
      Setting.of(
          "webhook.lookup-threads",
          2,
          "Live lookups of namespaces the webhook's caches cannot decide on, made at once (a"
              + " worker pool off the event loop).");

  public static final Setting<Integer> LOOKUP_QUEUE =
      Setting.of(
          "webhook.lookup-queue",
          64,
          "Live lookups waiting for a worker; more are refused (the pod is refused: fail closed).");

  public static final Setting<Duration> LEASE_DURATION =
      Setting.timing(
          "leader.lease-duration",
          Duration.ofSeconds(15),
          "How long the leader Lease holds without renewal before another replica may take it.");

  public static final Setting<Duration> RENEW_DEADLINE =
      Setting.timing(
          "leader.renew-deadline",
          Duration.ofSeconds(10),
          "How long the leader tries to renew its Lease before it stops leading.");

  public static final Setting<Duration> LEASE_RETRY_PERIOD =
      Setting.timing(
          "leader.retry-period",
          Duration.ofSeconds(2),
          "How often a replica tries to take or renew the Lease (a released Lease is taken"
              + " within it).");

  public static final Setting<Duration> AUDIT_PERIOD =
      Setting.timing(
          "leader.audit-period",
          Duration.ofSeconds(120),
          "How often the leader looks for pods that asked for a mirror but were admitted without"
              + " one.");

  public static final Setting<Duration> RETRY_INITIAL_INTERVAL =
      Setting.timing(
          "reconcile.retry-initial-interval",
          Duration.ofMillis(500),
          "A failed reconcile is retried after this, then after ever longer waits (the"
              + " multiplier), for as long as it fails.");

  public static final Setting<Double> RETRY_MULTIPLIER =
      new Setting<>(
          "reconcile.retry-multiplier",
          2.0,
          "2",
          "Each wait between a failed reconcile's attempts is this many times the one before.");

  public static final Setting<Duration> RETRY_MAX_INTERVAL =
      Setting.timing(
          "reconcile.retry-max-interval",
          Duration.ofSeconds(30),
          "The longest a failed reconcile waits for its next attempt.");

  public static final Setting<Duration> MAX_RECONCILIATION_INTERVAL =
      Setting.timing(
          "reconcile.max-interval",
          Duration.ofMinutes(10),
          "Even without events, each mirror and policy is reconciled this often: a safety net,"
              + " not a poll.");

  public static final Setting<Duration> EXISTING_CLAIM_RECHECK =
      Setting.timing(
          "reconcile.existing-claim-recheck",
          Duration.ofSeconds(30),
          "How often a mirror's existingClaim that is not Bound is looked at again (it is not in"
              + " the operator's informers).");

  public static final Setting<Duration> PROXY_RECHECK =
      Setting.timing(
          "reconcile.proxy-recheck",
          Duration.ofSeconds(60),
          "How often a Ready caching proxy is asked whether its cache's volume is full.");

  public static final Setting<Duration> PROXY_PROBE_TIMEOUT =
      Setting.timing(
          "reconcile.proxy-probe-timeout",
          Duration.ofSeconds(2),
          "The whole exchange (connect, head and body) of asking a caching proxy.");

  public static final Setting<Integer> PROXY_PROBE_THREADS =
      Setting.of(
          "reconcile.proxy-probe-threads",
          2,
          "Caching proxies asked at once, off the reconcile threads (one ask per proxy at a time).");

  public static final Setting<Integer> PROXY_PROBE_QUEUE =
      Setting.of(
          "reconcile.proxy-probe-queue",
          64,
          "Asks of caching proxies waiting for a worker; more are skipped (the last answer stays"
              + " until the next look).");

  public static final Setting<Integer> PROXY_ANSWERS_KEPT =
      Setting.of(
          "reconcile.proxy-answers-kept",
          4096,
          "Caching proxies whose last answer is kept, the least recently looked at dropped first.");

  public static final Setting<Integer> EVENT_BURST =
      Setting.of(
          "events.burst",
          25,
          "Events about one object written in a burst before the budget refills (client-go's"
              + " recorder).");

  public static final Setting<Duration> EVENT_REFILL =
      Setting.timing(
          "events.refill",
          Duration.ofMinutes(5),
          "Once the burst is spent, one more event about the object per this interval.");

  public static final Setting<Integer> EVENT_AGGREGATE_MAX =
      Setting.of(
          "events.aggregate-max-events",
          10,
          "Distinct messages about one object with one type and reason within the aggregate"
              + " interval: from this one on they are combined into one Event.");

  public static final Setting<Duration> EVENT_AGGREGATE_INTERVAL =
      Setting.timing(
          "events.aggregate-interval",
          Duration.ofMinutes(10),
          "The window in which similar events are counted for combining.");

  public static final Setting<Integer> EVENT_CACHE_ENTRIES =
      Setting.of(
          "events.cache-entries",
          4096,
          "Entries each event cache keeps, the least recently used dropped first.");

  /** Every setting, in the order of this class. */
  public static List<Setting<?>> all() {
    return List.of(
        WEBHOOK_PORT,
        METRICS_PORT,
        TLS_CERT_FILE,
        TLS_KEY_FILE,
        WEBHOOK_CONFIGURATION,
        WEBHOOK_SERVICE,
        WEBHOOK_FAILURE_POLICY,
        WEBHOOK_TIMEOUT,
        CERT_MANAGER_ISSUER_GROUP,
        DRAIN_DELAY,
        INJECTION,
        LOG_FORMAT,
        UNINSTALL_WAIT,
        PROXY_LISTEN,
        PROXY_INDEX_TTL,
        PROXY_RESOLUTION,
        PROXY_HIGH_WATER,
        PROXY_MAX_CLIENTS,
        PROXY_MAX_PER_CLIENT,
        PROXY_MAX_UPSTREAM_CONNECTIONS,
        PROXY_MAX_UPSTREAM_PER_CLIENT,
        PROXY_UPSTREAM_WAIT,
        PROXY_TRANSFER_STALL,
        PROXY_DRAIN_DELAY,
        PROXY_DRAIN_WAIT,
        PROXY_STORE_THREADS,
        PROXY_STORE_LAG,
        PROXY_PAGE_MEMORY_PAGES,
        PROXY_PAGE_MEMORY_BYTES,
        PROXY_NOT_FOUND_KEPT,
        PROXY_CLIENT_LIMIT_LOG,
        INDEX_IMAGE,
        WEBHOOK_HOST,
        TLS_RELOAD_INTERVAL,
        IN_FLIGHT_TIMEOUT,
        LOOKUP_THREADS,
        LOOKUP_QUEUE,
        LEASE_DURATION,
        RENEW_DEADLINE,
        LEASE_RETRY_PERIOD,
        AUDIT_PERIOD,
        RETRY_INITIAL_INTERVAL,
        RETRY_MULTIPLIER,
        RETRY_MAX_INTERVAL,
        MAX_RECONCILIATION_INTERVAL,
        EXISTING_CLAIM_RECHECK,
        PROXY_RECHECK,
        PROXY_PROBE_TIMEOUT,
        PROXY_PROBE_THREADS,
        PROXY_PROBE_QUEUE,
        PROXY_ANSWERS_KEPT,
        EVENT_BURST,
        EVENT_REFILL,
        EVENT_AGGREGATE_MAX,
        EVENT_AGGREGATE_INTERVAL,
        EVENT_CACHE_ENTRIES);
  }

  /** The setting of {@code command}'s {@code option}, if it has a default here. */
  public static java.util.Optional<Setting<?>> ofOption(String command, String option) {
    String key = command + " " + option;
    return all().stream().filter(s -> s.key().equals(key)).findFirst();
  }
}
