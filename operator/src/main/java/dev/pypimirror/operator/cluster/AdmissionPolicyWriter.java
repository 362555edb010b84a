package dev.pypimirror.operator.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pypimirror.operator.admissionpolicy.InjectionPolicies;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorPolicy;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.policy.PolicyDirectory;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admission-policy mode's writer: while leading, every {@link #PERIOD_SECONDS} seconds, makes the
 * cluster hold exactly the Mutating- and ValidatingAdmissionPolicies and their bindings {@link
 * InjectionPolicies} derives from the mirrors and policies (labelled {@code
 * app.kubernetes.io/managed-by}; those nothing needs any more are deleted).
 */
public final class AdmissionPolicyWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AdmissionPolicyWriter.class);
  static final long PERIOD_SECONDS = 15;

  private final KubernetesClient client;
  private final String operatorNamespace;
  private final MirrorDirectory mirrors;
  private final Supplier<List<PypiMirror>> allMirrors;
  private final PolicyDirectory policies;
  private final Supplier<Optional<Collection<PypiMirrorPolicy>>> allPolicies;
  private final LeaderSchedule schedule = new LeaderSchedule("admission-policies");

  /** The kinds written, each policy kind before its binding. */
  public static final List<String> KINDS =
      List.of(
          InjectionPolicies.POLICY_KIND,
          InjectionPolicies.BINDING_KIND,
          InjectionPolicies.VALIDATING_KIND,
          InjectionPolicies.VALIDATING_KIND + "Binding");

  /**
   * @param allPolicies every PypiMirrorPolicy, or empty while they are not known yet: then nothing
   *     is written, so no Enforce policy goes unenforced for a moment
   */
  public AdmissionPolicyWriter(
      KubernetesClient client,
      String operatorNamespace,
      MirrorDirectory mirrors,
      Supplier<List<PypiMirror>> allMirrors,
      PolicyDirectory policies,
      Supplier<Optional<Collection<PypiMirrorPolicy>>> allPolicies) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
    this.mirrors = mirrors;
    this.allMirrors = allMirrors;
    this.policies = policies;
    this.allPolicies = allPolicies;
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

  private final java.util.concurrent.atomic.AtomicBoolean written =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile Runnable onFirstWrite = () -> {};
  private volatile Supplier<Optional<io.fabric8.kubernetes.api.model.OwnerReference>> owner =
      Optional::empty;

  /**
   * The owner of every object written (the install's ClusterRole, as for the webhook
   * configurations): deleting the install lets the garbage collector remove them, so no validating
   * policy that fails closed outlives the operator.
   */
  public void ownedBy(Supplier<Optional<io.fabric8.kubernetes.api.model.OwnerReference>> owner) {
    this.owner = owner;
  }

  /**
   * While leading, admission-policy mode: writes now and every period; {@code onFirstWrite} runs
   * once the objects are in place (the webhook entries they replace may go then, not before).
   */
  public synchronized void startManaging(Runnable onFirstWrite) {
    this.onFirstWrite = onFirstWrite;
    schedule.start(this::syncQuietly, 0, PERIOD_SECONDS, TimeUnit.SECONDS);
  }

  /** Whether this leader has written the admission policies once (and still leads). */
  public boolean written() {
    return written.get();
  }

  /**
   * While leading, webhook mode: deletes what an earlier admission-policy mode left, once it
   * succeeds (or cannot: without the rights to list them there is nothing this mode wrote).
   */
  public synchronized void startRemoving() {
    java.util.concurrent.atomic.AtomicBoolean done =
        new java.util.concurrent.atomic.AtomicBoolean();
    schedule.start(
        () -> {
          if (!done.get()) {
            done.set(removeAll());
          }
        },
        0,
        PERIOD_SECONDS,
        TimeUnit.SECONDS);
  }

  public void stopManaging() {
    schedule.stop();
    written.set(false);
  }

  private void syncQuietly() {
    try {
      if (!sync()) {
        LOG.debug("admission policies not written: the policies are not known yet");
      } else if (written.compareAndSet(false, true)) {
        onFirstWrite.run();
      }
    } catch (RuntimeException e) {
      LOG.warn("admission policies not updated: {}", e.getMessage());
    }
  }

  /**
   * Writes what is missing or different, deletes what no mirror or policy needs. Returns false when
   * the policies are not known yet (nothing is written then).
   */
  public synchronized boolean sync() {
    Optional<Collection<PypiMirrorPolicy>> known = allPolicies.get();
    if (known.isEmpty()) {
      return false;
    }
    Map<String, ObjectNode> desired = desired(known.get());
    for (String kind : KINDS) {
      write(kind, desired.values().stream().filter(o -> o.path("kind").asText().equals(kind)));
    }
    return true;
  }

  /**
   * Every policy and binding the mirrors' namespaces and the policies need, by kind/name, owned by
   * the install when its owner can be read.
   */
  private Map<String, ObjectNode> desired(Collection<PypiMirrorPolicy> known) {
    Set<String> namespaces = new TreeSet<>();
    allMirrors.get().forEach(m -> namespaces.add(m.getMetadata().getNamespace()));
    Map<String, ObjectNode> desired = new LinkedHashMap<>();
    java.util.function.Consumer<ObjectNode> want =
        o -> desired.put(o.path("kind").asText() + "/" + o.at("/metadata/name").asText(), o);
    for (String namespace : namespaces) {
      InjectionPolicies.forNamespace(namespace, mirrors, policies, operatorNamespace)
          .objects()
          .forEach(want);
    }
    for (PypiMirrorPolicy policy : known) {
      InjectionPolicies.forPolicy(policy, namespaces, operatorNamespace).forEach(want);
    }
    owner
        .get()
        .map(r -> client.getKubernetesSerialization().convertValue(r, JsonNode.class))
        .ifPresent(
            reference ->
                desired
                    .values()
                    .forEach(
                        o -> o.withObject("/metadata").putArray("ownerReferences").add(reference)));
    return desired;
  }

  /**
   * Writes the desired objects of one kind whose spec or owner differ from the stored ones, and
   * deletes the stored ones of ours that are no longer desired.
   */
  private void write(String kind, java.util.stream.Stream<ObjectNode> wanted) {
    var resources = client.genericKubernetesResources(resource(kind));
    Map<String, GenericKubernetesResource> existing = new LinkedHashMap<>();
    resources
        .withLabel(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY)
        .list()
        .getItems()
        .forEach(r -> existing.put(r.getMetadata().getName(), r));
    wanted.forEach(
        object -> {
          String name = object.at("/metadata/name").asText();
          GenericKubernetesResource current = existing.remove(name);
          if (current != null && !differs(object, current)) {
            return;
          }
          GenericKubernetesResource written =
              client
                  .getKubernetesSerialization()
                  .convertValue(object, GenericKubernetesResource.class);
          if (current != null) {
            written.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
            resources.resource(written).update();
          } else {
            resources.resource(written).create();
          }
          LOG.info("{} {} written", kind, name);
        });
    for (String stale : existing.keySet()) {
      resources.withName(stale).delete();
      LOG.info("{} {} deleted: no mirror needs it", kind, stale);
    }
  }

  /** Whether the stored object's spec or owner differ from the desired one's. */
  private boolean differs(ObjectNode desired, GenericKubernetesResource current) {
    JsonNode stored = client.getKubernetesSerialization().convertValue(current, JsonNode.class);
    return !desired.path("spec").equals(stored.path("spec"))
        || !desired.at("/metadata/ownerReferences").equals(stored.at("/metadata/ownerReferences"));
  }

  /**
   * Deletes every object this writer made (webhook mode after admission-policy mode): quietly when
   * the operator may not list them, as the webhook-mode install grants no such right.
   */
  public boolean removeAll() {
    for (String kind : List.of(KINDS.get(3), KINDS.get(2), KINDS.get(1), KINDS.get(0))) {
      try {
        var resources = client.genericKubernetesResources(resource(kind));
        for (GenericKubernetesResource stale :
            resources
                .withLabel(MirrorObjects.MANAGED_BY_LABEL, MirrorObjects.MANAGED_BY)
                .list()
                .getItems()) {
          resources.withName(stale.getMetadata().getName()).delete();
          LOG.info("{} {} deleted: the webhook injects", kind, stale.getMetadata().getName());
        }
      } catch (KubernetesClientException e) {
        if (e.getCode() != 403 && e.getCode() != 404) {
          LOG.warn("{}s of admission-policy mode not removed: {}", kind, e.getMessage());
          return false;
        }
        LOG.debug("{}s not removed: {}", kind, e.getMessage());
      }
    }
    return true;
  }

  @Override
  public void close() {
    stopManaging();
  }
}
