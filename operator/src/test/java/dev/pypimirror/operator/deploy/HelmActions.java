package dev.pypimirror.operator.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.settings.OperatorSettings;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What Helm's install, upgrade and uninstall actions do to the API server with objects its engine
 * rendered, as Helm 3's action and kube packages do it: every applied object carries the release's
 * ownership annotations; an upgrade runs the pre-upgrade hooks, then creates or updates every
 * object of the new release, then deletes every object of the old release the new one no longer
 * holds, unless the stored object (read from the cluster, not the chart) is annotated {@code
 * helm.sh/resource-policy: keep}; an uninstall runs the pre-delete hooks, then deletes the
 * release's objects. {@code crds/} is applied on install only. A hook Job is run by the given
 * runner (in this process, with the Job's args, as the Job's pod would), and hook objects are
 * deleted after it succeeds ({@code hook-succeeded}).
 */
final class HelmActions {
  private HelmActions() {}

  static final String KEEP = "helm.sh/resource-policy";

  /** Runs a hook Job's container args against the cluster (what its pod would do). */
  interface HookRunner {
    void run(List<String> args);
  }

  /** Hooks are rendered with {@link HelmChartIT#withHooksShown}: their kind of hook, or null. */
  static String hookOf(JsonNode o) {
    JsonNode hook = o.at("/metadata/annotations/" + HelmChartIT.HOOK_SHOWN.replace("/", "~1"));
    return hook.isTextual() ? hook.asText() : null;
  }

  static void install(
      KubernetesClient client, String release, String namespace, List<JsonNode> objects) {
    for (JsonNode o : crdsFirst(objects)) {
      if (hookOf(o) != null) {
        continue;
      }
      var resource = client.resource(owned(client, o, release, namespace));
      if (!crd(o) || resource.get() == null) { // an installed CRD is skipped, as Helm does
        resource.create();
      }
    }
  }

  static void upgrade(
      KubernetesClient client,
      String release,
      String namespace,
      List<JsonNode> current,
      List<JsonNode> target,
      HookRunner hooks) {
    runHooks(client, target, "pre-upgrade", hooks);
    List<JsonNode> targetObjects = withoutCrds(target);
    for (JsonNode o : targetObjects) {
      GenericKubernetesResource desired = owned(client, o, release, namespace);
      Resource<GenericKubernetesResource> stored = client.resource(desired);
      GenericKubernetesResource live = stored.get();
      if (live == null) {
        stored.create();
      } else {
        desired.getMetadata().setResourceVersion(live.getMetadata().getResourceVersion());
        stored.update();
      }
    }
    Set<String> kept = targetObjects.stream().map(HelmActions::key).collect(Collectors.toSet());
    for (JsonNode o : withoutCrds(current)) {
      if (!kept.contains(key(o))) {
        Resource<GenericKubernetesResource> stored = client.resource(generic(client, o));
        GenericKubernetesResource live = stored.get();
        if (live == null) {
          continue;
        }
        Map<String, String> annotations = live.getMetadata().getAnnotations();
        if (annotations == null || !"keep".equals(annotations.get(KEEP))) {
          stored.delete();
        }
      }
    }
  }

  static void uninstall(KubernetesClient client, List<JsonNode> release, HookRunner hooks) {
    runHooks(client, release, "pre-delete", hooks);
    for (JsonNode o : withoutCrds(release)) {
      client.resource(generic(client, o)).delete();
    }
  }

  /**
   * Creates the hook's objects by weight, runs its Jobs, then deletes them all (hook-succeeded).
   */
  private static void runHooks(
      KubernetesClient client, List<JsonNode> rendered, String hook, HookRunner runner) {
    List<JsonNode> objects =
        rendered.stream()
            .filter(o -> hook.equals(hookOf(o)))
            .sorted(
                java.util.Comparator.comparingInt(
                    o ->
                        o.at(
                                "/metadata/annotations/"
                                    + HelmChartIT.HOOK_SHOWN.replace("/", "~1")
                                    + "-weight")
                            .asInt()))
            .toList();
    for (JsonNode o : objects) {
      client.resource(generic(client, o)).create();
      if (o.path("kind").asText().equals("Job")) {
        List<String> args = new ArrayList<>();
        o.at("/spec/template/spec/containers/0/args").forEach(a -> args.add(a.asText()));
        runner.run(args);
      }
    }
    for (JsonNode o : objects) {
      client.resource(generic(client, o)).delete();
    }
  }

  private static List<JsonNode> crdsFirst(List<JsonNode> objects) {
    List<JsonNode> ordered = new ArrayList<>(objects.stream().filter(HelmActions::crd).toList());
    ordered.addAll(withoutCrds(objects));
    return ordered;
  }

  private static List<JsonNode> withoutCrds(List<JsonNode> objects) {
    return objects.stream().filter(o -> !crd(o)).filter(o -> hookOf(o) == null).toList();
  }

  private static boolean crd(JsonNode o) {
    return o.path("kind").asText().equals("CustomResourceDefinition");
  }

  static String key(JsonNode o) {
    return o.path("kind").asText()
        + "/"
        + o.at("/metadata/namespace").asText("")
        + "/"
        + o.at("/metadata/name").asText();
  }

  static GenericKubernetesResource generic(KubernetesClient client, JsonNode object) {
    return client
        .getKubernetesSerialization()
        .convertValue(object, GenericKubernetesResource.class);
  }

  /** As Helm applies an object of a release: with the release's ownership annotations. */
  private static GenericKubernetesResource owned(
      KubernetesClient client, JsonNode object, String release, String namespace) {
    ObjectNode copy = object.deepCopy();
    if (!crd(object)) {
      ObjectNode metadata = (ObjectNode) copy.get("metadata");
      ObjectNode annotations =
          metadata.has("annotations")
              ? (ObjectNode) metadata.get("annotations")
              : metadata.putObject("annotations");
      annotations.put("meta.helm.sh/release-name", release);
      annotations.put("meta.helm.sh/release-namespace", namespace);
    }
    return generic(client, copy);
  }

  /** run's settings as the rendered Deployment gives them, serving on loopback. */
  static OperatorSettings settingsOf(InstallChecks install) {
    return OperatorSettings.defaults()
        .withOperatorNamespace(install.namespace())
        .withRouting(
            new OperatorSettings.Routing(
                install.arg("webhook-configuration"),
                install.arg("webhook-service"),
                install.arg("webhook-failure-policy"),
                Integer.parseInt(install.arg("webhook-timeout")),
                null))
        .withWebhook(
            w ->
                w.onLoopback()
                    .withSelfManagedCertificates()
                    .withTlsReloadInterval(Duration.ofSeconds(1)));
  }
}
