package dev.pypimirror.operator.metrics;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.mirror;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static dev.pypimirror.operator.testing.Mirrors.withProxy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.proxy.ProxyApp;
import dev.pypimirror.operator.proxy.ProxySettings;
import dev.pypimirror.operator.reconciler.ProxyProbe;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.simple.Resolution;
import dev.pypimirror.operator.testing.DeploymentController;
import dev.pypimirror.operator.testing.JobController;
import dev.pypimirror.operator.testing.MockCluster;
import dev.pypimirror.operator.testing.OperatorInCluster;
import dev.pypimirror.operator.testing.ProjectPaths;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operator's /metrics, scraped over HTTP after it reconciled mirrors, admitted a pod and saw a
 * sync Job finish, against the test API server, and a caching proxy's /-/metrics: the series each
 * part adds, and every series and label the shipped alert rules and Grafana dashboard query (every
 * expression parsed as PromQL).
 */
class ExportedSeriesTest {
  static final Path CHART_FILES = ProjectPaths.ROOT.resolve("charts/pypi-mirror-operator/files");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static OperatorInCluster cluster;

  /** Per series name, the label sets of its samples. */
  static Map<String, List<Map<String, String>>> exported;

  static String scrapeText;

  /** A running caching proxy, the one every proxied mirror's Service leads to here. */
  static ProxyApp proxy;

  static int proxyPort;

  @BeforeAll
  static void driveTheOperator() throws Exception {
    proxy =
        new ProxyApp(
            new ProxySettings(
                Files.createTempDirectory("proxy-cache-"),
                List.of("http://127.0.0.1:9/simple/"),
                "127.0.0.1",
                0,
                false,
                Defaults.PROXY_INDEX_TTL.defaultValue(),
                Resolution.FirstMatch,
                0.99,
                ProxySettings.Limits.DEFAULTS),
            Map.of());
    proxyPort = proxy.start();
    ProxyProbe http = ProxyProbe.http(Duration.ofSeconds(30)); // patient on a busy machine
    cluster =
        OperatorInCluster.startWithMetrics(
            service -> http.ask(URI.create("http://127.0.0.1:" + proxyPort + "/simple/")));
    MockCluster.namespace(cluster.client, "builds", Map.of());
    MockCluster.namespace(cluster.client, "ml", Map.of());
    cluster.readyMirror("builds", "corp");
    cluster
        .client
        .resource(
            OperatorInCluster.buildPod("builds", "b1", Map.of("pypimirror.dev/mirror", "corp")))
        .create();
    PypiMirrorSpec synced =
        withCache(spec(https("https://devpi.corp.example/simple/")), "/tmp/pypi");
    synced.getCache().setPackages(List.of("requests==2.32.3"));
    cluster.client.resource(mirror("ml", "synced", synced)).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> jobs("ml").size() == 1);
    JobController.finish(
        cluster.client,
        jobs("ml").get(0),
        true,
        "{\"projects\":5,\"files\":7,\"bytes\":123456,\"pagesWritten\":6,\"skipped\":0}");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                scrape()
                    .contains(
                        "pypimirror_sync_jobs_total{mirror=\"synced\",namespace=\"ml\","
                            + "result=\"succeeded\"} 1.0"));
    PypiMirrorSpec proxied = withProxy(spec(https("https://devpi.corp.example/simple/")));
    cluster.client.resource(mirror("ml", "proxied", proxied)).create();
    Deployment deployment =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    cluster
                        .client
                        .apps()
                        .deployments()
                        .inNamespace("ml")
                        .withName("pypi-mirror-proxied-proxy")
                        .get(),
                d -> d != null);
    DeploymentController.makeAvailable(cluster.client, deployment);
    await() // the operator asked the proxy (off its reconcile thread) and wrote its answer
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                cluster
                    .app
                    .mirrors()
                    .get("ml", "proxied")
                    .flatMap(m -> m.getStatus().condition("ProxyCacheFull"))
                    .map(c -> c.getStatus().equals("False"))
                    .orElse(false));
    scrapeText = scrape();
    exported = parseExposition(scrapeText);
    proxyExported(exported);
  }

  /**
   * Labels Prometheus adds to a caching proxy's series when its PodMonitor scrapes it (target
   * labels from pod discovery): the alerts group by namespace and pod.
   */
  static final Map<String, String> PROXY_TARGET_LABELS =
      Map.of(
          "namespace",
          "ml",
          "pod",
          "pypi-mirror-synced-proxy-abc",
          "container",
          "proxy",
          "job",
          "pypi-mirror-operator-proxies",
          "instance",
          "10.0.0.1:8080");

  /** The running caching proxy's /-/metrics, with its target labels. */
  static void proxyExported(Map<String, List<Map<String, String>>> into) throws Exception {
    String text =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxyPort + "/-/metrics"))
                    .timeout(Duration.ofSeconds(20))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    parseExposition(text)
        .forEach(
            (name, samples) ->
                into.computeIfAbsent(name, k -> new ArrayList<>())
                    .addAll(
                        samples.stream()
                            .map(
                                labels -> {
                                  Map<String, String> withTarget = new HashMap<>(labels);
                                  withTarget.putAll(PROXY_TARGET_LABELS);
                                  return withTarget;
                                })
                            .toList()));
    assertThat(into).containsKeys("pypimirror_proxy_cache_full", "pypimirror_proxy_requests_total");
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
    if (proxy != null) {
      proxy.close();
    }
  }

  static List<Job> jobs(String ns) {
    return cluster.client.batch().v1().jobs().inNamespace(ns).list().getItems();
  }

  static String scrape() throws IOException, InterruptedException {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + cluster.app.managementPort() + "/metrics"))
                .timeout(Duration.ofSeconds(20))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? \\S+$");
  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  static Map<String, List<Map<String, String>>> parseExposition(String text) {
    Map<String, List<Map<String, String>>> series = new HashMap<>();
    for (String line : text.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).toList()) {
      Matcher sample = SAMPLE.matcher(line);
      assertThat(sample.matches()).as(line).isTrue();
      Map<String, String> labels = new HashMap<>();
      if (sample.group(2) != null) {
        Matcher label = LABEL.matcher(sample.group(2));
        while (label.find()) {
          labels.put(label.group(1), label.group(2));
        }
      }
      series.computeIfAbsent(sample.group(1), k -> new ArrayList<>()).add(labels);
    }
    return series;
  }

  @Test
  void aReconcileAnAdmissionAndASyncShowInTheSeriesOfEachPart() {
    assertThat(scrapeText.lines())
        .contains(
            "pypimirror_admissions_total{outcome=\"injected\",reason=\"injected\"} 1.0",
            "pypimirror_leader 1.0",
            "pypimirror_cache_size_bytes{mirror=\"synced\",namespace=\"ml\"} 123456.0",
            "pypimirror_cache_requested_bytes{mirror=\"synced\",namespace=\"ml\"} 1.073741824E10",
            "pypimirror_sync_failing{mirror=\"synced\",namespace=\"ml\"} 0.0",
            // the proxied mirror's proxy, asked by the operator, has room
            "pypimirror_mirror_proxy_cache_full{mirror=\"proxied\",namespace=\"ml\"} 0.0",
            "pypimirror_sync_jobs_total{mirror=\"synced\",namespace=\"ml\",result=\"failed\"} 0.0")
        .anyMatch(
            l ->
                l.startsWith(
                    "pypimirror_sync_last_success_timestamp_seconds{mirror=\"synced\",namespace=\"ml\"} 1.7"))
        .anyMatch(
            l ->
                l.startsWith(
                    "pypimirror_certificate_expiration_timestamp_seconds{certificate=\"ca\"} 1."))
        .noneMatch(l -> l.contains("kind=\"Namespace\""));
    // java-operator-sdk's own, per controller and kind
    assertThat(exported)
        .containsKeys(
            "operator_sdk_controllers_execution_reconcile_seconds_bucket",
            "operator_sdk_reconciliations_queue_size_pypimirror",
            "operator_sdk_reconciliations_queue_size_pypimirrorpolicy",
            "operator_sdk_reconciliations_executions_pypimirror",
            "operator_sdk_reconciliations_started_total",
            "operator_sdk_reconciliations_success_total");
    assertThat(exported.get("operator_sdk_controllers_execution_reconcile_seconds_bucket"))
        .allMatch(labels -> "pypimirror".equals(labels.get("controller")))
        .as("no series per resource")
        .noneMatch(labels -> labels.containsKey("resource_name") || labels.containsKey("name"));
  }

  /** Every expression of the rules and the dashboard, named by where it is. */
  static Map<String, String> expressions() throws IOException {
    Map<String, String> all = new java.util.LinkedHashMap<>();
    JsonNode rules = YAML.readTree(CHART_FILES.resolve("prometheus-rules.yaml").toFile());
    for (JsonNode group : rules.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        all.put(
            "rule " + rule.path("alert").asText() + " " + rule.at("/labels/severity").asText(),
            rule.path("expr").asText());
      }
    }
    JsonNode dashboard = new ObjectMapper().readTree(dashboardText());
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        all.put(
            "panel " + panel.path("title").asText() + " " + target.path("refId").asText(),
            target.path("expr").asText());
      }
    }
    return all;
  }

  static String dashboardText() throws IOException {
    return Files.readString(CHART_FILES.resolve("grafana-dashboard.json"));
  }

  @Test
  void everySeriesAndLabelTheRulesAndTheDashboardQueryIsExported() throws IOException {
    Map<String, String> expressions = expressions();
    assertThat(expressions).hasSizeGreaterThan(15);
    expressions.forEach(
        (where, expr) -> {
          PromQl.Parsed parsed = PromQl.parse(expr);
          Set<String> labelsInScope = new HashSet<>();
          for (PromQl.Selector selector : parsed.selectors()) {
            assertThat(exported.keySet()).as(where + ": " + expr).contains(selector.metric());
            List<Map<String, String>> samples = exported.get(selector.metric());
            samples.forEach(s -> labelsInScope.addAll(s.keySet()));
            for (PromQl.Matcher3 m : selector.matchers()) {
              assertThat(samples)
                  .as(where + ": label " + m.label() + " of " + selector.metric())
                  .anyMatch(s -> s.containsKey(m.label()));
              if (!m.value().contains("$") && (m.op().equals("=") || m.op().equals("=~"))) {
                assertThat(samples)
                    .as(where + ": " + m + " matches a series of " + selector.metric())
                    .anyMatch(
                        s ->
                            m.op().equals("=")
                                ? m.value().equals(s.get(m.label()))
                                : s.getOrDefault(m.label(), "").matches(m.value()));
              }
            }
          }
          assertThat(labelsInScope)
              .as(where + ": the labels it groups by")
              .containsAll(parsed.groupingLabels());
        });
  }

  @Test
  void theDashboardsVariablesAndLegendsNameExportedLabels() throws IOException {
    JsonNode dashboard = new ObjectMapper().readTree(dashboardText());
    Pattern labelValues = Pattern.compile("label_values\\((\\w+), *(\\w+)\\)");
    int variables = 0;
    for (JsonNode variable : dashboard.at("/templating/list")) {
      if (variable.path("type").asText().equals("query")) {
        Matcher m = labelValues.matcher(variable.at("/query/query").asText());
        assertThat(m.matches()).as(variable.toString()).isTrue();
        assertThat(exported.get(m.group(1))).anyMatch(s -> s.containsKey(m.group(2)));
        variables++;
      }
    }
    assertThat(variables).isEqualTo(1);
    Pattern legendLabel = Pattern.compile("\\{\\{\\s*(\\w+)\\s*\\}\\}");
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        PromQl.Parsed parsed = PromQl.parse(target.path("expr").asText());
        Matcher m = legendLabel.matcher(target.path("legendFormat").asText());
        while (m.find()) {
          assertThat(parsed.groupingLabels())
              .as(panel.path("title").asText() + ": legend label kept by the expression")
              .contains(m.group(1));
        }
      }
    }
  }

  static final Set<String> GROUP_FIELDS =
      Set.of(
          "name",
          "interval",
          "rules",
          "limit",
          "partial_response_strategy",
          "query_offset",
          "labels");
  static final Set<String> RULE_FIELDS =
      Set.of("alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations");
  static final Pattern DURATION = Pattern.compile("^((\\d+)(ms|s|m|h|d|w|y))+$");

  /**
   * The Prometheus Operator's PrometheusRule spec: groups of a unique name and rules; each rule an
   * alert or a record with an expression, `for` a Prometheus duration, labels and annotations
   * string maps. Each alert: a severity, a summary and description, templates that name only labels
   * its expression keeps, and a runbook paragraph in docs/operations.md.
   */
  @Test
  void theRulesHaveThePrometheusRuleShapeAndARunbookEach() throws IOException {
    JsonNode spec = YAML.readTree(CHART_FILES.resolve("prometheus-rules.yaml").toFile());
    assertThat(iterable(spec.fieldNames())).containsExactly("groups");
    String operations = Files.readString(ProjectPaths.ROOT.resolve("docs/operations.md"));
    Set<String> groupNames = new HashSet<>();
    Pattern template = Pattern.compile("\\$labels\\.(\\w+)");
    for (JsonNode group : spec.path("groups")) {
      assertThat(GROUP_FIELDS).containsAll(iterable(group.fieldNames()));
      assertThat(groupNames.add(group.path("name").asText())).isTrue();
      assertThat(group.path("rules").isArray()).isTrue();
      for (JsonNode rule : group.path("rules")) {
        String alert = rule.path("alert").asText();
        assertThat(RULE_FIELDS).as(alert).containsAll(iterable(rule.fieldNames()));
        assertThat(rule.has("alert")).as("an alert, not a record").isTrue();
        assertThat(alert).matches("[A-Z][A-Za-z]+");
        assertThat(rule.path("expr").isTextual()).isTrue();
        if (rule.has("for")) {
          assertThat(rule.path("for").asText()).matches(DURATION);
        }
        assertThat(rule.at("/labels/severity").asText()).isIn("warning", "critical");
        for (JsonNode map : List.of(rule.path("labels"), rule.path("annotations"))) {
          map.elements().forEachRemaining(v -> assertThat(v.isTextual()).isTrue());
        }
        assertThat(rule.at("/annotations/summary").asText()).isNotBlank();
        assertThat(rule.at("/annotations/description").asText()).isNotBlank();
        PromQl.Parsed parsed = PromQl.parse(rule.path("expr").asText());
        Set<String> kept = new HashSet<>(parsed.groupingLabels());
        if (parsed.groupingLabels().isEmpty()) {
          parsed
              .selectors()
              .forEach(s -> exported.get(s.metric()).forEach(l -> kept.addAll(l.keySet())));
        }
        Matcher m = template.matcher(rule.path("annotations").toString());
        while (m.find()) {
          assertThat(kept).as(alert + " names $labels." + m.group(1)).contains(m.group(1));
        }
        assertThat(operations)
            .as("docs/operations.md has a runbook for " + alert)
            .contains("### " + alert);
      }
    }
  }

  static <T> List<T> iterable(java.util.Iterator<T> it) {
    List<T> list = new ArrayList<>();
    it.forEachRemaining(list::add);
    return list;
  }
}
