package dev.pypimirror.operator.fuzz;

import static dev.pypimirror.operator.testing.Mirrors.https;
import static dev.pypimirror.operator.testing.Mirrors.spec;
import static dev.pypimirror.operator.testing.Mirrors.withCache;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.config.MirrorConfigRenderer;
import dev.pypimirror.operator.config.RenderedConfig;
import dev.pypimirror.operator.inject.EnvAllowList;
import dev.pypimirror.operator.policy.PolicyMirrors;
import dev.pypimirror.operator.testing.EffectiveIndexConfig;
import dev.pypimirror.operator.testing.Pods;
import dev.pypimirror.operator.testing.Policies;
import dev.pypimirror.operator.webhook.AdmissionResponse;
import dev.pypimirror.operator.webhook.PodAdmission;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Pods generated from a line-based description, created in a namespace an Enforce policy governs
 * (Jazzer; regression inputs in EnforcedPodFuzzTestInputs/enforcedPods run in every build). The
 * invariant: a pod the webhook admits names, in every container's effective pip and uv
 * configuration (as {@link EffectiveIndexConfig} resolves it the way pip and uv do), only indexes
 * the policy allows, and no variable outside the allow-list survives in any container ({@link
 * #outsideTheAllowList}): init, regular and ephemeral ones. The pod is sent through the opt-in
 * entry and the policy's Enforce entry; when the description has ephemeral containers, the pod
 * admitted through the Enforce entry is then updated with them as {@code kubectl debug} does
 * (pods/ephemeralcontainers) and sent through that entry again. A request it refuses is fine.
 *
 * <p>The description, one item per line (anything else is ignored): {@code container NAME}, {@code
 * init NAME}, {@code env NAME VALUE}, {@code envref NAME} (valueFrom), {@code envfrom [PREFIX]},
 * {@code mount PATH [SUBPATH]} (the pod's own ConfigMap), {@code annotation KEY VALUE}, {@code
 * label KEY VALUE}. The value {@code EVIL} stands for a forbidden index.
 */
public class EnforcedPodFuzzTest {
  static final ObjectMapper MAPPER = new ObjectMapper();
  public static final String NAMESPACE = "ml";
  static final String EVIL = "https://evil.example/simple/";
  static final List<String> ALLOWED = List.of("https://devpi.corp.example/");
  static final PypiMirror MIRROR = policyMirror();
  static final RenderedConfig RENDERED =
      MirrorConfigRenderer.render(MIRROR.getMetadata().getName(), MIRROR.getSpec());
  static final PodAdmission WEBHOOK =
      new PodAdmission(
          Pods.directory(MIRROR),
          namespace -> namespace.equals(NAMESPACE) ? Optional.of(policy()) : Optional.empty(),
          "pypi-mirror-system",
          PodAdmission.Listener.NONE);

  public static PypiMirror policyMirror() {
    PypiMirror m =
        Pods.readyMirror(
            NAMESPACE,
            "corp-builds",
            withCache(spec(https("https://devpi.corp.example/root/pypi/+simple/")), "/tmp/pypi"));
    m.getSpec().setOffline(true);
    m.getMetadata().setLabels(Map.of(PolicyMirrors.MADE_BY_POLICY_LABEL, "corp-builds"));
    return m;
  }

  public static PypiMirrorPolicy policy() {
    PypiMirrorPolicy p =
        Policies.policy(
            "corp-builds",
            Map.of("kubernetes.io/metadata.name", NAMESPACE),
            MIRROR.getSpec(),
            true);
    p.getSpec().setPodSelector(Policies.selector(Map.of()));
    p.getSpec().setAllowedIndexPrefixes(ALLOWED);
    p.getSpec().setAllowPublicIndex(false);
    return p;
  }

  @FuzzTest(maxDuration = "2m")
  @DictionaryEntries({
    "container ",
    "init ",
    "ephemeral ",
    "env ",
    "envref ",
    "envfrom ",
    "mount ",
    "annotation ",
    "label ",
    " EVIL",
    "PIP_",
    "UV_",
    "index-url",
    "INDEX_URL",
    "EXTRA_INDEX_URL",
    "FIND_LINKS",
    "find_links",
    "--",
    "PIP_CONFIG_FILE",
    "UV_CONFIG_FILE",
    "UV_NO_CONFIG",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "PIP_REQUIREMENT",
    "HOME",
    "XDG_CONFIG_DIRS",
    "/etc/pip.conf",
    "/etc/uv/uv.toml",
    "/etc/pypi-mirror",
    "/etc/pypi-mirror/pip.conf",
    "/root/.pydistutils.cfg",
    "/tmp/pypi",
    "pypimirror.dev/injected",
    "pypimirror.dev/inject",
    "pypimirror.dev/containers",
    "kubernetes.io/config.mirror",
    "app.kubernetes.io/managed-by",
    "pypi-mirror-operator",
    "pypi-mirror-config",
    "APP_",
    "PYTHONPATH",
    "PYTHONHOME",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "PIP_PYPI_URL",
    "PIP_PROXY",
    "PIP_EDITABLE",
    "UV_CONSTRAINT",
    "pip_"
  })
  void enforcedPods(byte[] description) {
    check(new String(description, StandardCharsets.UTF_8));
  }

  /**
   * Sends the described pod as the fuzz target does and checks the invariant; returns the pod as
   * the Enforce entry admitted its ephemeral containers, or null when there are none or the update
   * is refused.
   */
  static JsonNode check(String description) {
    ObjectNode described = pod(description);
    JsonNode ephemeral = described.with("spec").remove("ephemeralContainers");
    JsonNode debuggedThroughEnforce = null;
    // the API server sends a pod of an Enforce policy's namespace through the policy's entry; the
    // opt-in entry (a pod that also asks by annotation) must hold it alike
    for (String entry : new String[] {null, ENTRY}) {
      ObjectNode review = AdmissionFuzzTest.review(described.deepCopy());
      review.with("request").put("namespace", NAMESPACE);
      JsonNode admitted = admitted(entry, review);
      if (admitted == null) {
        continue;
      }
      assertHeld(admitted, List.of("initContainers", "containers"));
      if (ephemeral == null || entry == null) {
        continue; // only Enforce entries match pods/ephemeralcontainers
      }
      // kubectl debug: the admitted pod's ephemeralcontainers subresource updated with the
      // described containers (none can be given at CREATE)
      ObjectNode updated = (ObjectNode) admitted.deepCopy();
      updated.with("spec").set("ephemeralContainers", ephemeral.deepCopy());
      ObjectNode update = AdmissionFuzzTest.review(updated);
      update
          .with("request")
          .put("namespace", NAMESPACE)
          .put("operation", "UPDATE")
          .put("subResource", "ephemeralcontainers")
          .set("oldObject", admitted);
      JsonNode debugged = admitted(entry, update);
      if (debugged != null) {
        assertHeld(debugged, List.of("ephemeralContainers", "initContainers", "containers"));
      }
      debuggedThroughEnforce = debugged;
    }
    return debuggedThroughEnforce;
  }

  @Test
  void theRegressionInputOfKubectlDebugReachesTheUpdateAndIsHeld() throws Exception {
    String description =
        Files.readString(
            Path.of(
                EnforcedPodFuzzTest.class
                    .getResource("EnforcedPodFuzzTestInputs/enforcedPods/ephemeral-containers.txt")
                    .toURI()));

    JsonNode debugged = check(description);

    assertThat(debugged)
        .as("the update is admitted, so the invariant was checked on it")
        .isNotNull();
    JsonNode debugger = debugged.at("/spec/ephemeralContainers/0");
    assertThat(debugger.path("name").asText()).isEqualTo("debugger");
    assertThat(debugger.path("env").findValuesAsText("name"))
        .contains("PIP_CONFIG_FILE", "PIP_INDEX_URL")
        .doesNotContain("PIP_PROXY", "pip_index_url", "PIP_NO_CACHE_DIR");
    assertThat(debugger.path("env").findValuesAsText("value")).doesNotContain(EVIL);
  }

  /** The Enforce entry of the policy (the path below /mutate-pods/). */
  static final String ENTRY = "enforce/corp-builds";

  /** The object the webhook admits (its patch applied), or null when it refuses the request. */
  private static JsonNode admitted(String entry, ObjectNode review) {
    byte[] body = review.toString().getBytes(StandardCharsets.UTF_8);
    AdmissionResponse answer = entry == null ? WEBHOOK.review(body) : WEBHOOK.review(entry, body);
    assertThat(answer.status()).isEqualTo(200);
    JsonNode response = AdmissionFuzzTest.parse(answer.body()).path("response");
    if (!response.path("allowed").asBoolean()) {
      assertThat(response.at("/status/message").asText()).isNotBlank();
      return null;
    }
    JsonNode object = review.at("/request/object");
    return response.has("patch")
        ? Pods.applyPatch(
            object,
            AdmissionFuzzTest.parse(Base64.getDecoder().decode(response.path("patch").asText())))
        : object;
  }

  /** The invariant, in every container of the listed kinds. */
  private static void assertHeld(JsonNode admitted, List<String> fields) {
    for (String field : fields) {
      for (JsonNode container : admitted.at("/spec/" + field)) {
        assertThat(outsideTheAllowList(container))
            .as("%s of admitted pod %s", field, admitted)
            .isEmpty();
        assertThat(
                EffectiveIndexConfig.violations(
                    admitted,
                    container,
                    "pypi-mirror-corp-builds",
                    RENDERED.data(),
                    ALLOWED,
                    "file:///tmp/pypi"))
            .as("%s of admitted pod %s", field, admitted)
            .isEmpty();
      }
    }
  }

  /** What the mirror writes into a container under Enforce: its variables and the pins. */
  static final Set<String> WRITTEN = written();

  /**
   * The issue's own list, in any case: what changes which code Python runs or where its requests go
   * (the allow-list refuses more; this is the floor it must hold).
   */
  static final Set<String> NEVER_ADMITTED =
      Set.of(
          "PYTHONPATH",
          "PYTHONHOME",
          "PYTHONSTARTUP",
          "PYTHONUSERBASE",
          "HTTP_PROXY",
          "HTTPS_PROXY",
          "ALL_PROXY",
          "NO_PROXY",
          "REQUESTS_CA_BUNDLE",
          "SSL_CERT_FILE",
          "SSL_CERT_DIR",
          "CURL_CA_BUNDLE");

  private static Set<String> written() {
    Set<String> names = new java.util.HashSet<>(Set.of("PIP_CONFIG_FILE"));
    RenderedConfig.ENV_KEYS.stream().filter(RENDERED.data()::containsKey).forEach(names::add);
    names.addAll(
        dev.pypimirror.operator.inject.IndexSettings.enforcedPins(
                Map.of("PIP_INDEX_URL", RENDERED.data().get("PIP_INDEX_URL")))
            .keySet());
    return names;
  }

  /**
   * The variables of an admitted container outside the allow-list (the policy allows none): any
   * PIP_/UV_ name but the mirror's, a name the issue lists, a name the allow-list refuses, and a
   * name the webhook reads or writes given twice.
   */
  static List<String> outsideTheAllowList(JsonNode container) {
    List<String> outside = new java.util.ArrayList<>();
    Map<String, Integer> counts = new java.util.HashMap<>();
    for (JsonNode e : container.path("env")) {
      String name = e.path("name").asText();
      String upper = name.toUpperCase(java.util.Locale.ROOT);
      counts.merge(name, 1, Integer::sum);
      boolean tool =
          upper.startsWith("PIP_") || upper.startsWith("_PIP_") || upper.startsWith("UV_");
      if (tool && !WRITTEN.contains(name)
          || NEVER_ADMITTED.contains(upper)
          || EnvAllowList.verdict(name, Set.of()) == EnvAllowList.Verdict.REFUSE) {
        outside.add(name);
      }
    }
    counts.forEach(
        (name, n) -> {
          if (n > 1 && (WRITTEN.contains(name) || name.equals("HOME"))) {
            outside.add(name + " x" + n);
          }
        });
    return outside;
  }

  /** The pod a description describes (see the class comment). */
  public static ObjectNode pod(String description) {
    ObjectNode pod = MAPPER.createObjectNode().put("apiVersion", "v1").put("kind", "Pod");
    ObjectNode metadata = pod.putObject("metadata").put("name", "p");
    ObjectNode spec = pod.putObject("spec");
    ArrayNode volumes = spec.putArray("volumes");
    volumes.addObject().put("name", "own").putObject("configMap").put("name", "own-config");
    ObjectNode container = null;
    int n = 0;
    for (String line : description.split("\n")) {
      String[] words = line.trim().split("\\s+", 3);
      String arg = words.length > 1 ? words[1].replace("EVIL", EVIL) : "";
      String rest = words.length > 2 ? words[2].replace("EVIL", EVIL) : "";
      switch (words[0]) {
        case "container", "init", "ephemeral" -> {
          String list =
              switch (words[0]) {
                case "init" -> "initContainers";
                case "ephemeral" -> "ephemeralContainers";
                default -> "containers";
              };
          container = spec.withArray(list).addObject().put("name", arg.isEmpty() ? "c" + n++ : arg);
        }
        case "env", "envref" -> {
          if (arg.isEmpty()) {
            continue;
          }
          ObjectNode variable = containerOf(spec, container).withArray("env").addObject();
          variable.put("name", arg);
          if (words[0].equals("env")) {
            variable.put("value", rest);
          } else {
            variable
                .putObject("valueFrom")
                .putObject("configMapKeyRef")
                .put("name", "x")
                .put("key", "y");
          }
        }
        case "envfrom" -> {
          ObjectNode source = containerOf(spec, container).withArray("envFrom").addObject();
          if (!arg.isEmpty()) {
            source.put("prefix", arg);
          }
          source.putObject("configMapRef").put("name", "settings");
        }
        case "mount" -> {
          if (arg.startsWith("/")) {
            ObjectNode mount =
                containerOf(spec, container)
                    .withArray("volumeMounts")
                    .addObject()
                    .put("name", "own")
                    .put("mountPath", arg);
            if (!rest.isEmpty()) {
              mount.put("subPath", rest);
            }
          }
        }
        case "annotation", "label" -> {
          if (!arg.isEmpty()) {
            metadata.with(words[0].equals("label") ? "labels" : "annotations").put(arg, rest);
          }
        }
        default -> {}
      }
    }
    containerOf(spec, container);
    return pod;
  }

  private static ObjectNode containerOf(ObjectNode spec, ObjectNode current) {
    if (current != null) {
      return current;
    }
    ArrayNode containers = spec.withArray("containers");
    return containers.isEmpty()
        ? containers.addObject().put("name", "build")
        : (ObjectNode) containers.get(0);
  }
}
