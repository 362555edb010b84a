package dev.pypimirror.operator.reconciler;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.jsonpatch.JsonPatches;
import dev.pypimirror.operator.owned.OwnedKind;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
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

  /**
   * Creates {@code desired}, or updates the object found ({@code cached}, else read when the create
   * finds the name taken) by {@code kind}'s merge rule, if the mirror owns it.
   */
  <T extends HasMetadata> Written<T> createOrUpdate(
      PypiMirror mirror, OwnedKind<T> kind, T desired, T cached) {
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
                .resources(kind.type())
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
    boolean handEdited = kind.handEdited(existing, desired);
    kind.merge(merged, desired); // sees the object's own metadata, before ours is merged in
    mergeMetadata(merged.getMetadata(), desired.getMetadata(), mirror);
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
    JsonNode value = client.getKubernetesSerialization().convertValue(status, JsonNode.class);
    String patch = JsonPatches.patch(List.of(JsonPatches.add("/status", value))).toString();
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
}
