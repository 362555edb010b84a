package dev.pypimirror.operator.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.admissionpolicy.InjectionPolicies;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.policy.PolicyDirectory;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission-policy mode's writer: while leading, every {@link #PERIOD_SECONDS} seconds, makes the
 * cluster hold exactly the MutatingAdmissionPolicies and bindings {@link InjectionPolicies} derives
 * from the mirrors and policies (labelled {@code app.kubernetes.io/managed-by}; those no mirror
 * needs any more are deleted), and logs the namespaces they do not cover yet.
 */
public final class AdmissionPolicyWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AdmissionPolicyWriter.class);
  static final long PERIOD_SECONDS = 15;

  private final KubernetesClient client;
  private final String operatorNamespace;
  private final MirrorDirectory mirrors;
  private final Supplier<List<PypiMirror>> allMirrors;
  private final PolicyDirectory policies;
  private final LeaderSchedule schedule = new LeaderSchedule("admission-policies");
  private Set<String> reported = Set.of();

  public AdmissionPolicyWriter(
      KubernetesClient client,
      String operatorNamespace,
      MirrorDirectory mirrors,
      Supplier<List<PypiMirror>> allMirrors,
      PolicyDirectory policies) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
    this.mirrors = mirrors;
    this.allMirrors = allMirrors;
    this.policies = policies;
  }

  /** The resource of a kind of admissionregistration.k8s.io/v1 (cluster-scoped). */
  public static ResourceDefinitionContext resource(String kind) {
    String plural = kind.toLowerCase(java.util.Locale.ROOT);
    plural = plural.endsWith("policy") ? plural.replaceAll("y$", "ies") : plural + "s";
    return new ResourceDefinitionContext.Builder()
        .withGroup("admissionregistration.k8s.io")
        .withVersion("v1")
        .withKind(kind)
        .withPlural(plural)
        .withNamespaced(false)
        .build();
  }

  /** Whether the API server serves MutatingAdmissionPolicy in admissionregistration.k8s.io/v1. */
  public static boolean served(KubernetesClient client) {
    try {
      var resources = client.getApiResources("admissionregistration.k8s.io/v1");
      return resources != null
          && resources.getResources().stream()
              .anyMatch(r -> "mutatingadmissionpolicies".equals(r.getName()));
    } catch (RuntimeException e) {
      return false;
    }
  }

  public synchronized void startManaging() {
    schedule.start(this::syncQuietly, 0, PERIOD_SECONDS, TimeUnit.SECONDS);
  }

  public void stopManaging() {
    schedule.stop();
  }

  private void syncQuietly() {
    try {
      sync();
    } catch (RuntimeException e) {
      LOG.warn("admission policies not updated: {}", e.getMessage());
    }
  }

  /** Writes what is missing or different, deletes what no mirror needs. */
  public synchronized void sync() {
    Set<String> namespaces = new TreeSet<>();
    allMirrors.get().forEach(m -> namespaces.add(m.getMetadata().getNamespace()));
    Map<String, ObjectNode> desired = new LinkedHashMap<>();
    Set<String> uncovered = new HashSet<>();
    for (String namespace : namespaces) {
      InjectionPolicies.Generated generated =
          InjectionPolicies.forNamespace(namespace, mirrors, policies, operatorNamespace);
      generated
          .objects()
          .forEach(
              o -> desired.put(o.path("kind").asText() + "/" + o.at("/metadata/name").asText(), o));
      uncovered.addAll(generated.uncovered());
    }
    if (!uncovered.equals(reported)) {
      uncovered.forEach(u -> LOG.info("left to the webhook: {}", u));
      reported = Set.copyOf(uncovered);
    }
    for (String kind : List.of(InjectionPolicies.POLICY_KIND, InjectionPolicies.BINDING_KIND)) {
      var resources = client.genericKubernetesResources(resource(kind));
      Map<String, GenericKubernetesResource> existing = new LinkedHashMap<>();
      resources
          .withLabel(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY)
          .list()
          .getItems()
          .forEach(r -> existing.put(r.getMetadata().getName(), r));
      for (ObjectNode object : desired.values()) {
        if (!object.path("kind").asText().equals(kind)) {
          continue;
        }
        String name = object.at("/metadata/name").asText();
        GenericKubernetesResource current = existing.remove(name);
        JsonNode currentSpec =
            current == null
                ? null
                : client
                    .getKubernetesSerialization()
                    .convertValue(current, JsonNode.class)
                    .path("spec");
        if (current == null || !object.path("spec").equals(currentSpec)) {
          GenericKubernetesResource wanted =
              client
                  .getKubernetesSerialization()
                  .convertValue(object, GenericKubernetesResource.class);
          if (current != null) {
            wanted.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
            resources.resource(wanted).update();
          } else {
            resources.resource(wanted).create();
          }
          LOG.info("{} {} written", kind, name);
        }
      }
      for (String stale : existing.keySet()) {
        resources.withName(stale).delete();
        LOG.info("{} {} deleted: no mirror needs it", kind, stale);
      }
    }
  }

  @Override
  public void close() {
    stopManaging();
  }
}
