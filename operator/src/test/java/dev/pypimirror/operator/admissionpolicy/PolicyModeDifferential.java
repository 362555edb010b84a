package dev.pypimirror.operator.admissionpolicy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.inject.InjectionPlan;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.inject.PodInjector;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.testing.ApiServer;
import dev.pypimirror.operator.testing.Pods;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.List;

/**
 * Runs pods through the test API server with the admission policies admission-policy mode writes,
 * and compares the stored pod with what the webhook's own decision makes of the same pod (its patch
 * applied as the API server applies it).
 */
public final class PolicyModeDifferential implements AutoCloseable {
  static final String OPERATOR_NAMESPACE = "pypi-mirror-system";
  private final ApiServer api = ApiServer.start();
  // admission runs CEL on the API server's event loop: the first compile takes seconds under load,
  // and a client that gave up and retried would create the pod twice
  private final KubernetesClient client =
      new io.fabric8.kubernetes.client.KubernetesClientBuilder()
          .withConfig(
              new io.fabric8.kubernetes.client.ConfigBuilder(api.client().getConfiguration())
                  .withRequestTimeout(300_000)
                  .withRequestRetryBackoffLimit(0)
                  .build())
          .build();
  private final String namespace;
  private final MirrorDirectory mirrors;
  private final PolicyDirectory policies;
  private int created;

  public PolicyModeDifferential(
      String namespace, MirrorDirectory mirrors, PolicyDirectory policies) {
    this.namespace = namespace;
    this.mirrors = mirrors;
    this.policies = policies;
    client
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .create();
    List<ObjectNode> objects =
        new java.util.ArrayList<>(
            InjectionPolicies.forNamespace(namespace, mirrors, policies, OPERATOR_NAMESPACE)
                .objects());
    policies
        .governing(namespace)
        .ifPresent(
            p ->
                objects.addAll(
                    InjectionPolicies.forPolicy(
                        p,
                        mirrors.inNamespace(namespace).isEmpty() ? List.of() : List.of(namespace),
                        OPERATOR_NAMESPACE)));
    for (ObjectNode object : objects) {
      client
          .genericKubernetesResources(context(object.path("kind").asText()))
          .resource(
              client
                  .getKubernetesSerialization()
                  .convertValue(object, GenericKubernetesResource.class))
          .create();
    }
  }

  static ResourceDefinitionContext context(String kind) {
    return new ResourceDefinitionContext.Builder()
        .withGroup("admissionregistration.k8s.io")
        .withVersion("v1")
        .withKind(kind)
        .withPlural(
            kind.endsWith("Policy")
                ? kind.toLowerCase(java.util.Locale.ROOT).replaceAll("y$", "ies")
                : kind.toLowerCase(java.util.Locale.ROOT) + "s")
        .withNamespaced(false)
        .build();
  }

  ApiServer api() {
    return api;
  }

  /** A client of the API server that waits for admission as long as it takes. */
  KubernetesClient client() {
    return client;
  }

  /** The pod as the API server stores it in admission-policy mode, or the refusal's message. */
  public JsonNode storedByPolicies(JsonNode pod) {
    ObjectNode copy = pod.deepCopy();
    copy.withObject("/metadata").put("name", "p" + created++).put("namespace", namespace);
    try {
      GenericKubernetesResource stored =
          client
              .genericKubernetesResources("v1", "Pod")
              .inNamespace(namespace)
              .resource(
                  client
                      .getKubernetesSerialization()
                      .convertValue(copy, GenericKubernetesResource.class))
              .create();
      return comparable(client.getKubernetesSerialization().convertValue(stored, JsonNode.class));
    } catch (KubernetesClientException e) {
      String message = e.getStatus().getMessage();
      // a validating policy's denial: what follows kube-apiserver's prefix is the policy's message
      int denied = message.indexOf(" denied request: ");
      if (message.contains(" is forbidden: ValidatingAdmissionPolicy ") && denied > 0) {
        message = message.substring(denied + " denied request: ".length());
      }
      return com.fasterxml.jackson.databind.node.TextNode.valueOf("refused: " + message);
    }
  }

  /**
   * Stores {@code pod} both ways and asserts that they {@link #agree}; returns what webhook mode
   * stores (or its refusal).
   */
  public JsonNode storedAlike(int index, JsonNode pod) {
    JsonNode byWebhook = storedByWebhook(pod);
    JsonNode byPolicies = storedByPolicies(pod);
    assertThat(agree(byWebhook, byPolicies))
        .as(
            "pod #%d %s%n by the webhook:  %s%n by the policies: %s",
            index, pod, byWebhook, byPolicies)
        .isTrue();
    return byWebhook;
  }

  /**
   * Whether the two results agree: the same stored pod or the same refusal, or both refused where
   * one refusal is the API server's pod validation (which, after the mutating policies, comes
   * before the validating policies, and after the webhook's denial).
   */
  public static boolean agree(JsonNode byWebhook, JsonNode byPolicies) {
    if (byWebhook.equals(byPolicies)) {
      return true;
    }
    return byWebhook.isTextual()
        && byPolicies.isTextual()
        && (byWebhook.asText().startsWith("refused: Pod ")
            || byPolicies.asText().startsWith("refused: Pod "));
  }

  /** The pod as the API server stores it in webhook mode: the webhook's patch applied. */
  public JsonNode storedByWebhook(JsonNode pod) {
    InjectionPlan plan = PodInjector.inject(pod, namespace, OPERATOR_NAMESPACE, mirrors, policies);
    if (plan.outcome() == InjectionPlan.Outcome.DENIED) {
      return com.fasterxml.jackson.databind.node.TextNode.valueOf("refused: " + plan.refusal());
    }
    ObjectNode copy = pod.deepCopy();
    copy.withObject("/metadata").put("namespace", namespace);
    JsonNode patched = Pods.applyPatch(copy, plan.patch());
    List<String> invalid = dev.pypimirror.operator.apiserver.PodValidation.problems(patched);
    if (!invalid.isEmpty()) {
      return com.fasterxml.jackson.databind.node.TextNode.valueOf(
          "refused: Pod is invalid: " + String.join(", ", invalid));
    }
    return comparable(patched);
  }

  /** What the pod holds, without what the store sets (name, uid, versions, timestamps). */
  static JsonNode comparable(JsonNode pod) {
    ObjectNode copy = pod.deepCopy();
    ObjectNode metadata = copy.withObject("/metadata");
    for (String field :
        List.of("name", "uid", "resourceVersion", "creationTimestamp", "generation", "namespace")) {
      metadata.remove(field);
    }
    if (metadata.isEmpty()) {
      copy.remove("metadata");
    }
    return copy;
  }

  @Override
  public void close() {
    client.close();
    api.close();
  }
}
