package dev.pypimirror.operator.reconciler;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.net.HttpURLConnection;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Creates or updates the objects a mirror owns, and never touches one it does not own. Updates
 * carry the resourceVersion read, so a concurrent change fails the write (and the reconcile
 * retries) instead of being overwritten.
 */
public class ObjectWriter {
  enum Result {
    CREATED,
    UPDATED,
    /** The ConfigMap's data had been edited by hand and is put back. */
    RESTORED,
    UNCHANGED,
    CONFLICT
  }

  record Written<T>(Result result, T object) {}

  private final KubernetesClient client;

  public ObjectWriter(KubernetesClient client) {
    this.client = client;
  }

  <T extends HasMetadata> Written<T> createOrUpdate(
      PypiMirror mirror, T desired, T cached, Class<T> type) {
    T existing = cached;
    if (existing == null) {
      try {
        return new Written<>(Result.CREATED, client.resource(desired).create());
      } catch (KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
          throw e;
        }
        // not in our label-selected cache, yet there: someone else's object, or ours, unlabelled
        existing =
            client
                .resources(type)
                .inNamespace(desired.getMetadata().getNamespace())
                .withName(desired.getMetadata().getName())
                .get();
        if (existing == null) {
          throw e;
        }
      }
    }
    if (!MirrorObjects.isOwnedBy(existing, mirror)) {
      return new Written<>(Result.CONFLICT, existing);
    }
    T merged = Serialization.clone(existing);
    mergeMetadata(merged.getMetadata(), desired.getMetadata(), mirror);
    boolean handEdited = false;
    if (merged instanceof ConfigMap cm) {
      handEdited =
          !Objects.equals(cm.getData(), ((ConfigMap) desired).getData())
              && sameHash(existing, desired);
      cm.setData(((ConfigMap) desired).getData());
      cm.setBinaryData(null);
    } else if (merged instanceof PersistentVolumeClaim pvc) {
      growStorage(pvc, (PersistentVolumeClaim) desired);
    } else if (merged instanceof io.fabric8.kubernetes.api.model.batch.v1.CronJob cronJob) {
      cronJob.setSpec(((io.fabric8.kubernetes.api.model.batch.v1.CronJob) desired).getSpec());
    }
    if (Serialization.asJson(merged).equals(Serialization.asJson(existing))) {
      return new Written<>(Result.UNCHANGED, existing);
    }
    T updated = client.resource(merged).update();
    return new Written<>(handEdited ? Result.RESTORED : Result.UPDATED, updated);
  }

  /**
   * Writes the status subresource with one JSON Patch (the same on a real API server and the mock;
   * no read first), of a namespaced or a cluster-scoped resource, and hands the result to
   * java-operator-sdk's cache: the next reconcile then sees this status even before the watch
   * delivers it, instead of writing it and announcing it a second time.
   */
  <S, T extends CustomResource<?, S>> T writeStatus(T resource, S status, Context<T> context) {
    String patch =
        client
            .getKubernetesSerialization()
            .asJson(List.of(Map.of("op", "add", "path", "/status", "value", status)));
    T updated =
        client
            .resource(resource) // with the item at hand the client does not read it first
            .subresource("status")
            .patch(PatchContext.of(PatchType.JSON), patch);
    context
        .eventSourceRetriever()
        .getControllerEventSource()
        .handleRecentResourceUpdate(ResourceID.fromResource(resource), updated, resource);
    return updated;
  }

  private static boolean sameHash(HasMetadata a, HasMetadata b) {
    return Objects.equals(hash(a), hash(b));
  }

  private static String hash(HasMetadata o) {
    var annotations = o.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(MirrorObjects.CONFIG_HASH_ANNOTATION);
  }

  /** Our labels and annotations win; others' stay. Our owner reference is as desired. */
  private static void mergeMetadata(ObjectMeta target, ObjectMeta desired, PypiMirror mirror) {
    target.setLabels(mergeMaps(target.getLabels(), desired.getLabels()));
    target.setAnnotations(mergeMaps(target.getAnnotations(), desired.getAnnotations()));
    List<OwnerReference> refs = new ArrayList<>();
    if (target.getOwnerReferences() != null) {
      for (OwnerReference ref : target.getOwnerReferences()) {
        if (!MirrorObjects.isMirrorOfSameName(ref, mirror)) {
          refs.add(ref);
        }
      }
    }
    if (desired.getOwnerReferences() != null) {
      refs.addAll(desired.getOwnerReferences());
    }
    target.setOwnerReferences(refs);
  }

  private static Map<String, String> mergeMaps(Map<String, String> base, Map<String, String> ours) {
    Map<String, String> merged = new LinkedHashMap<>(base == null ? Map.of() : base);
    if (ours != null) {
      merged.putAll(ours);
    }
    return merged;
  }

  /**
   * A PVC's spec is immutable but for a larger storage request (where the class allows expansion):
   * grow, never shrink.
   */
  private static void growStorage(PersistentVolumeClaim target, PersistentVolumeClaim desired) {
    Quantity want = desired.getSpec().getResources().getRequests().get("storage");
    var resources = target.getSpec().getResources();
    Quantity have =
        resources == null || resources.getRequests() == null
            ? null
            : resources.getRequests().get("storage");
    if (have == null || want.getNumericalAmount().compareTo(have.getNumericalAmount()) > 0) {
      target.getSpec().getResources().getRequests().put("storage", want);
    }
  }
}
