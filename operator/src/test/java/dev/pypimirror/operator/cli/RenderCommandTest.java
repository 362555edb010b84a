package dev.pypimirror.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.testing.ProjectPaths;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

public class RenderCommandTest {
  static final Path EXAMPLE = ProjectPaths.example("pypimirror.yaml");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  public record Run(int status, String out, String err) {}

  public static Run run(String stdin, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    InputStream saved = System.in;
    System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    try {
      int status = Main.execute(args, new PrintWriter(out), new PrintWriter(err));
      return new Run(status, out.toString(), err.toString());
    } finally {
      System.setIn(saved);
    }
  }

  public static List<JsonNode> yamlDocuments(String text) throws Exception {
    List<JsonNode> docs = new ArrayList<>();
    var it = YAML.readerFor(JsonNode.class).readValues(text);
    while (it.hasNext()) {
      docs.add((JsonNode) it.next());
    }
    return docs;
  }

  /** With an Enforce policy: the validating policies that refuse what the webhook refuses. */
  @Test
  void admissionPolicyModeUnderAnEnforcePolicyAddsTheValidatingPolicies() throws Exception {
    Path mirror = Files.createTempFile("mirror-", ".yaml");
    Files.writeString(
        mirror,
        """
        apiVersion: pypimirror.dev/v1alpha1
        kind: PypiMirror
        metadata:
          name: corp-builds
          namespace: ml
        spec:
          indexes:
            - url: https://devpi.corp.example/root/pypi/+simple/
          offline: true
        """);
    Run run =
        run(
            "",
            "render",
            "--injection",
            "admission-policy",
            "-f",
            mirror.toString(),
            "--policy",
            ProjectPaths.example("pypimirrorpolicy.yaml").toString());

    assertThat(run.status()).as(run.err()).isZero();
    assertThat(yamlDocuments(run.out()))
        .extracting(d -> d.get("kind").asText() + " " + d.at("/metadata/name").asText())
        .contains(
            "MutatingAdmissionPolicy pypi-mirror.ml.corp-builds",
            "ValidatingAdmissionPolicy pypi-mirror.ml.corp-builds",
            "ValidatingAdmissionPolicyBinding pypi-mirror.ml.corp-builds",
            "ValidatingAdmissionPolicy pypi-mirror-unavailable.ml",
            "ValidatingAdmissionPolicy pypi-mirror-policy.corp-builds",
            "ValidatingAdmissionPolicyBinding pypi-mirror-policy.corp-builds");
    assertThat(run.out()).contains("enforces a PyPI mirror here");
  }

  @Test
  void admissionPolicyModeAddsThePoliciesThatInjectTheMirror() throws Exception {
    Run run = run("", "render", "--injection", "admission-policy", "-f", EXAMPLE.toString());

    assertThat(run.status()).isZero();
    List<JsonNode> docs = yamlDocuments(run.out());
    assertThat(docs)
        .extracting(d -> d.get("kind").asText() + " " + d.at("/metadata/name").asText())
        .containsExactly(
            "ConfigMap pypi-mirror-corp",
            "PersistentVolumeClaim pypi-mirror-corp-cache",
            "MutatingAdmissionPolicy pypi-mirror.builds.corp",
            "MutatingAdmissionPolicyBinding pypi-mirror.builds.corp",
            "MutatingAdmissionPolicy pypi-mirror-skipped.builds",
            "MutatingAdmissionPolicyBinding pypi-mirror-skipped.builds");
    assertThat(docs.get(2).at("/spec/variables").toString())
        .contains("https://devpi.corp.example/root/pypi/+simple/");
    assertThat(run("", "render", "--injection", "sidecar", "-f", EXAMPLE.toString()).status())
        .isEqualTo(2);
  }

  /** pip gets the public index beside a private one: the admission warning, on stderr. */
  @Test
  void aMirrorGivingPipPrivateAndPublicIndexesIsWarnedAbout() {
    Run mixed = run("", "render", "-f", EXAMPLE.toString());

    assertThat(mixed.status()).isZero();
    assertThat(mixed.err())
        .isEqualTo(
            "warning: "
                + EXAMPLE
                + ": PypiMirror corp: pip gets the public index https://pypi.org/simple beside"
                + " https://devpi.corp.example/root/pypi/+simple/, http://10.0.0.5:3141/simple/:"
                + " pip treats index-url and every extra-index-url as equal and"
                + " installs the highest version found on any of them, so a project of a private"
                + " index's name published on the public index with a higher version wins"
                + " (dependency confusion); to avoid it, give pip one index (serve: Proxy with"
                + " resolution: FirstMatch), or drop the public index (offline: true or"
                + " publicIndex.enabled: false)\n");
    assertThat(mixed.out()).startsWith("apiVersion: v1\nkind: ConfigMap\n");

    String head = "apiVersion: pypimirror.dev/v1alpha1\nkind: PypiMirror\nmetadata: {name: m}\n";
    for (String safe :
        List.of(
            "spec: {indexes: [{url: 'https://a.example/simple/'}], publicIndex: {enabled: false}}",
            "spec: {indexes: [{url: 'https://a.example/simple/'}], offline: true}",
            "spec: {offline: true, cache: {enabled: true}}",
            "spec: {indexes: [{url: 'https://a.example/simple/'}], cache: {enabled: true, serve:"
                + " Proxy}}")) {
      Run run = run(head + safe + "\n", "render", "-f", "-");
      assertThat(run.status()).as(safe + ": " + run.err()).isZero();
      assertThat(run.err()).as(safe).isEmpty();
    }
  }

  /** Like kubectl -f DIR: the folder's .yaml, .yml and .json files in name order; -R goes down. */
  @Test
  void aFolderIsReadFileByFileInNameOrderAndRecursivelyWithR(@TempDir Path dir) throws Exception {
    String mirror =
        "apiVersion: pypimirror.dev/v1alpha1\nkind: PypiMirror\nmetadata: {name: %s}\n"
            + "spec: {offline: true, cache: {enabled: true}}\n";
    Files.createDirectories(dir.resolve("b-sub"));
    Files.writeString(dir.resolve("z.yml"), mirror.formatted("zed"));
    Files.writeString(
        dir.resolve("a.yaml"),
        mirror.formatted("ay") + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
    Files.writeString(dir.resolve("readme.txt"), "not a manifest");
    Files.writeString(
        dir.resolve("b-sub/m.json"),
        "{\"apiVersion\": \"pypimirror.dev/v1alpha1\", \"kind\": \"PypiMirror\","
            + " \"metadata\": {\"name\": \"deep\"}, \"spec\": {\"offline\": true,"
            + " \"cache\": {\"enabled\": true}}}");

    Run flat = run("", "render", "-f", dir.toString());
    Run recursive = run("", "render", "-f", dir.toString(), "--recursive");

    assertThat(flat.status()).as(flat.err()).isZero();
    assertThat(yamlDocuments(flat.out()))
        .extracting(d -> d.get("kind").asText() + " " + d.at("/metadata/name").asText())
        .containsExactly(
            "ConfigMap pypi-mirror-ay",
            "PersistentVolumeClaim pypi-mirror-ay-cache",
            "ConfigMap pypi-mirror-zed",
            "PersistentVolumeClaim pypi-mirror-zed-cache");
    assertThat(flat.err())
        .isEqualTo(
            "note: " + dir.resolve("a.yaml") + " (document 2): Pod skipped: not a PypiMirror\n");
    assertThat(yamlDocuments(recursive.out()))
        .extracting(d -> d.at("/metadata/name").asText())
        .containsSubsequence("pypi-mirror-ay", "pypi-mirror-deep", "pypi-mirror-zed");

    Path empty = Files.createDirectories(dir.resolve("empty"));
    Run none = run("", "render", "-f", empty.toString());
    assertThat(none.status()).isEqualTo(2);
    assertThat(none.err())
        .isEqualTo(
            "error: "
                + empty
                + ": no .yaml, .yml or .json file in the folder (-R reads its subfolders too)\n");
    Run bad = run("", "render", "-f", dir.toString(), "-R", "--output", "json");
    assertThat(bad.status()).isZero();
    Files.writeString(dir.resolve("b-sub/broken.yaml"), "kind: PypiMirror\n");
    Run broken = run("", "render", "-f", dir.toString(), "-R");
    assertThat(broken.status()).isEqualTo(2);
    assertThat(broken.err())
        .as("a bad file is named")
        .isEqualTo("error: " + dir.resolve("b-sub/broken.yaml") + ": object has no apiVersion\n");
  }

  @Test
  void rendersTheExampleAsConfigMapAndPvc() throws Exception {
    Run run = run("", "render", "-f", EXAMPLE.toString());

    assertThat(run.status()).isZero();
    assertThat(run.err()).startsWith("warning: ").contains("dependency confusion");
    List<JsonNode> docs = yamlDocuments(run.out());
    assertThat(docs)
        .extracting(d -> d.get("kind").asText())
        .containsExactly("ConfigMap", "PersistentVolumeClaim");
    ConfigMap cm = Serialization.unmarshal(docs.get(0).toString(), ConfigMap.class);
    assertThat(cm.getMetadata().getName()).isEqualTo("pypi-mirror-corp");
    assertThat(cm.getMetadata().getNamespace()).isEqualTo("builds");
    assertThat(cm.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "pypi-mirror-operator")
        .containsEntry("pypimirror.dev/mirror", "corp");
    assertThat(cm.getData().get("pip.conf"))
        .isEqualTo(
            """
            [global]
            index-url = https://devpi.corp.example/root/pypi/+simple/
            extra-index-url = http://10.0.0.5:3141/simple/
                https://pypi.org/simple
            trusted-host = 10.0.0.5:3141
            retries = 0
            timeout = 15
            """);
    PersistentVolumeClaim pvc =
        Serialization.unmarshal(docs.get(1).toString(), PersistentVolumeClaim.class);
    assertThat(pvc.getMetadata().getName()).isEqualTo("pypi-mirror-corp-cache");
    assertThat(pvc.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
    assertThat(pvc.getSpec().getResources().getRequests().get("storage").toString())
        .isEqualTo("10Gi");
  }

  @Test
  void jsonOutputIsAListAndStdinWorks() throws Exception {
    Run run = run(Files.readString(EXAMPLE), "render", "-f", "-", "-o", "json");

    assertThat(run.status()).isZero();
    JsonNode list = new ObjectMapper().readTree(run.out());
    assertThat(list.get("kind").asText()).isEqualTo("List");
    assertThat(list.get("items")).hasSize(2);
    assertThat(list.at("/items/0/data/PIP_INDEX_URL").asText())
        .isEqualTo("https://devpi.corp.example/root/pypi/+simple/");
  }

  static final String PROXY_MIRROR =
      """
      apiVersion: pypimirror.dev/v1alpha1
      kind: PypiMirror
      metadata: {name: corp, namespace: builds}
      spec:
        indexes:
          - url: https://corp.jfrog.example/api/pypi/pypi/simple/
            credentialsSecret: {name: jfrog-pull}
          - {url: "http://10.0.0.5:3141/simple/", trustedHost: true}
        cache:
          enabled: true
          serve: Proxy
          proxy: {indexTTLSeconds: 300, resolution: Merge}
      """;

  @Test
  void aProxyMirrorRendersItsDeploymentAndServiceAndAConfigMapNamingTheService() throws Exception {
    Run run = run(PROXY_MIRROR, "render", "-f", "-");

    assertThat(run.status()).as(run.err()).isZero();
    List<JsonNode> docs = yamlDocuments(run.out());
    assertThat(docs)
        .extracting(d -> d.get("kind").asText())
        .containsExactly("ConfigMap", "PersistentVolumeClaim", "Deployment", "Service");
    assertThat(docs.get(0).at("/data/pip.conf").asText())
        .isEqualTo(
            """
            [global]
            index-url = http://pypi-mirror-corp-proxy.builds.svc:8080/simple/
            trusted-host = pypi-mirror-corp-proxy.builds.svc:8080
            """);
    Deployment deployment = Serialization.unmarshal(docs.get(2).toString(), Deployment.class);
    assertThat(deployment.getMetadata().getName()).isEqualTo("pypi-mirror-corp-proxy");
    assertThat(deployment.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/managed-by", "pypi-mirror-operator")
        .containsEntry("pypimirror.dev/mirror", "corp")
        .containsEntry("app.kubernetes.io/component", "proxy");
    var pod = deployment.getSpec().getTemplate().getSpec();
    var container = pod.getContainers().get(0);
    assertThat(container.getImage()).isEqualTo(Defaults.INDEX_IMAGE.defaultValue());
    assertThat(container.getArgs())
        .containsExactly(
            "proxy",
            "--cache",
            "/cache",
            "--listen",
            "0.0.0.0:8080",
            "--index-ttl",
            "300",
            "--resolution",
            "Merge",
            "--upstream",
            "https://corp.jfrog.example/api/pypi/pypi/simple/",
            "--upstream",
            "http://10.0.0.5:3141/simple/",
            "--upstream",
            "https://pypi.org/simple");
    // upstream 0's credentials: optional keys of its Secret, never a value
    assertThat(container.getEnv())
        .extracting(
            e -> e.getName(),
            e -> e.getValue(),
            e -> e.getValueFrom().getSecretKeyRef().getName(),
            e -> e.getValueFrom().getSecretKeyRef().getKey(),
            e -> e.getValueFrom().getSecretKeyRef().getOptional())
        .containsExactly(
            tuple("PYPI_PROXY_UPSTREAM_0_USERNAME", null, "jfrog-pull", "username", true),
            tuple("PYPI_PROXY_UPSTREAM_0_PASSWORD", null, "jfrog-pull", "password", true),
            tuple("PYPI_PROXY_UPSTREAM_0_TOKEN", null, "jfrog-pull", "token", true));
    assertThat(container.getVolumeMounts())
        .extracting(m -> m.getName(), m -> m.getMountPath(), m -> m.getReadOnly())
        .containsExactly(tuple("cache", "/cache", null), tuple("tmp", "/tmp", null));
    assertThat(pod.getVolumes().get(0).getPersistentVolumeClaim().getClaimName())
        .isEqualTo("pypi-mirror-corp-cache");
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/-/readyz");
    assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/-/healthz");
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(container.getResources().getLimits()).containsKey("memory");
    // one node can attach a ReadWriteOnce cache: the old pod goes first
    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    Service service = Serialization.unmarshal(docs.get(3).toString(), Service.class);
    assertThat(service.getMetadata().getName()).isEqualTo("pypi-mirror-corp-proxy");
    assertThat(service.getSpec().getPorts().get(0).getPort()).isEqualTo(8080);
    assertThat(service.getSpec().getSelector())
        .isEqualTo(deployment.getSpec().getSelector().getMatchLabels());
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(service.getSpec().getSelector());
  }

  @Test
  void aMountMirrorWithCredentialsIsRefusedPointingAtProxy() {
    Run run = run(PROXY_MIRROR.replace("serve: Proxy", "serve: Mount"), "render", "-f", "-");

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.err()).contains("credentialsSecret").contains("serve: Proxy");
  }

  @Test
  void noPvcWithoutTheCache() throws Exception {
    Run run =
        run(
            """
            apiVersion: pypimirror.dev/v1alpha1
            kind: PypiMirror
            metadata: {name: plain}
            spec:
              indexes: [{url: "https://a.example/simple/"}]
            """,
            "render",
            "-f",
            "-");

    assertThat(run.status()).isZero();
    assertThat(yamlDocuments(run.out()))
        .extracting(d -> d.get("kind").asText())
        .containsExactly("ConfigMap");
  }

  @Test
  void aSyncedMirrorShowsItsJobAndCronJobAndThePolicyJudgesTheirUrls(@TempDir Path dir)
      throws Exception {
    Path synced = ProjectPaths.example("pypimirror-synced.yaml");

    Run run = run("", "render", "-f", synced.toString());

    assertThat(run.status()).as(run.err()).isZero();
    List<JsonNode> docs = yamlDocuments(run.out());
    assertThat(docs)
        .extracting(d -> d.get("kind").asText())
        .containsExactly("ConfigMap", "PersistentVolumeClaim", "Job", "CronJob");
    JsonNode pod = docs.get(2).at("/spec/template/spec");
    // the download step never mounts the cache; the trusted step does
    assertThat(pod.at("/initContainers/0/volumeMounts").toString())
        .doesNotContain("\"cache\"")
        .contains("scratch");
    assertThat(pod.at("/containers/0/volumeMounts").toString()).contains("\"cache\"");
    assertThat(pod.at("/containers/0/args/0").asText()).isEqualTo("ingest");
    assertThat(pod.at("/initContainers/0/env").toString())
        .contains("requests==2.32.3\\nnumpy==2.1.3\\n");
    assertThat(docs.get(3).at("/spec/jobTemplate/spec")).isEqualTo(docs.get(2).at("/spec"));

    Path policy =
        Files.writeString(
            dir.resolve("policy.yaml"),
            """
            apiVersion: pypimirror.dev/v1alpha1
            kind: PypiMirrorPolicy
            metadata: {name: corp-builds}
            spec:
              namespaceSelector: {}
              allowedIndexPrefixes: ["https://devpi.corp.example/"]
            """);
    Run forbidden = run("", "render", "-f", synced.toString(), "--policy", policy.toString());
    assertThat(forbidden.status()).isEqualTo(2);
    assertThat(forbidden.err())
        .contains(
            "spec.cache.sync.upstream https://pypi.org/simple is not under allowedIndexPrefixes");
  }

  @Test
  void packageLinesThatArePipOptionsAreRefused() {
    Run run =
        run(
            """
            apiVersion: pypimirror.dev/v1alpha1
            kind: PypiMirror
            metadata: {name: x}
            spec:
              cache: {enabled: true, packages: [six, "-i https://evil.example/simple/"]}
            """,
            "render",
            "-f",
            "-");

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.err())
        .contains("spec.cache.packages[1]: only requirement specifiers and --hash=sha256:<64 hex>");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          unparseable YAML       | 'kind: PypiMirror\\n  bad: [unclosed'                                            | '<stdin>: not valid YAML or JSON at line'
          empty input            | ''                                                                               | '<stdin>: no object in input'
          wrong kind             | 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: x}'                       | '<stdin>: expected kind PypiMirror, apiVersion pypimirror.dev/v1alpha1; got kind "ConfigMap", apiVersion "v1"'
          no kind                | 'apiVersion: v1\\nmetadata: {name: x}'                                        | '<stdin>: object has no kind'
          no kind in a stream    | 'apiVersion: v1\\nkind: A\\n---\\napiVersion: v1'                              | '<stdin> (document 2): object has no kind'
          every unknown field    | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {indexs: [], cache: {enabled: true, sise: 1Gi}, pip: {retries: 1, tries: 2}}' | '<stdin>: unknown fields "spec.indexs", "spec.cache.sise", "spec.pip.tries"'
          invalid name           | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: Corp_Mirror}\\nspec: {indexes: [{url: "https://a/"}]}' | '<stdin>: metadata.name: Invalid value: "Corp_Mirror": a lowercase RFC 1123 subdomain'
          invalid namespace      | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x, namespace: a.b}\\nspec: {indexes: [{url: "https://a/"}]}' | '<stdin>: metadata.namespace: Invalid value: "a.b": a lowercase RFC 1123 label'
          one bad of two         | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {indexes: [{url: "https://a/"}]}\\n---\\napiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: y}\\nspec: {}' | '<stdin> (document 2): invalid PypiMirror y: spec.indexes: no index'
          unknown field          | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {indexs: []}' | '<stdin>: unknown field "spec.indexs"'
          wrong type             | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {pip: {retries: many}}' | '<stdin>: field "spec.pip.retries": "many" is not a valid integer'
          bad enum               | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {cache: {enabled: true, reclaimPolicy: Keep}}' | '<stdin>: field "spec.cache.reclaimPolicy": "Keep" is not one of [Retain, Delete]'
          no name                | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nspec: {indexes: [{url: "https://a/"}]}' | '<stdin>: metadata.name is required'
          http without trust     | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {indexes: [{url: "http://h/s/"}]}' | '<stdin>: invalid PypiMirror x: spec.indexes[0].url: plain http index http://h/s/ needs trustedHost: true'
          no index               | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {}' | '<stdin>: invalid PypiMirror x: spec.indexes: no index: list at least one or enable spec.cache'
          cache on the config    | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {cache: {enabled: true, mountPath: /etc/pypi-mirror}}' | '<stdin>: invalid PypiMirror x: spec.cache.mountPath: may not be at, above or below /etc/pypi-mirror,'
          cache above pydistutils| 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {cache: {enabled: true, mountPath: /home/b}, injection: {homeDir: /home/b/}}' | '<stdin>: invalid PypiMirror x: spec.cache.mountPath: may not be at, above or below /home/b/.pydistutils.cfg'
          no cron schedule       | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {cache: {enabled: true, packages: [six], sync: {schedule: every night}}}' | '<stdin>: invalid PypiMirror x: spec.cache.sync.schedule: "every night" is no CronJob schedule: expected 5 fields'
          a YAML alias           | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {indexes: [{url: &u "https://a/"}], publicIndex: {url: *u}}' | '<stdin>: YAML alias *u at line 4'
          negative retries       | 'apiVersion: pypimirror.dev/v1alpha1\\nkind: PypiMirror\\nmetadata: {name: x}\\nspec: {indexes: [{url: "https://a/"}], pip: {retries: -1}}' | '<stdin>: invalid PypiMirror x: spec.pip.retries: must be 0 or more, got -1'
          """)
  void badInputExitsTwoWithOneLine(String why, String yaml, String expected) {
    Run run = run(yaml.replace("\\n", "\n"), "render", "-f", "-");

    assertThat(run.status()).as(why).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err().lines().toList())
        .singleElement()
        .asString()
        .startsWith("error: " + expected);
  }

  @Test
  void aMissingFileAndABadOptionExitTwo(@TempDir Path dir) {
    Run missing = run("", "render", "-f", dir.resolve("nope.yaml").toString());
    Run badOutput = run("", "render", "-f", EXAMPLE.toString(), "-o", "xml");
    Run noFile = run("", "render");

    assertThat(missing.status()).isEqualTo(2);
    assertThat(missing.err()).isEqualTo("error: " + dir.resolve("nope.yaml") + ": no such file\n");
    assertThat(badOutput.status()).isEqualTo(2);
    assertThat(badOutput.err().lines()).singleElement().asString().contains("xml");
    assertThat(noFile.status()).isEqualTo(2);
    assertThat(noFile.err().lines()).singleElement().asString().contains("--filename");
  }
}
