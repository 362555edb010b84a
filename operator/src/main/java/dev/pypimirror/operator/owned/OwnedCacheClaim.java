package dev.pypimirror.operator.owned;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;

/**
 * The cache PVC the mirror makes (not an existingClaim); owned by the mirror (garbage-collected
 * with it) only under reclaimPolicy Delete. Its spec is immutable but for a larger storage request:
 * it grows, never shrinks.
 */
public final class OwnedCacheClaim extends OwnedKind<PersistentVolumeClaim> {
  public static final OwnedCacheClaim KIND = new OwnedCacheClaim();

  private OwnedCacheClaim() {
    super(PersistentVolumeClaim.class, "claims", MirrorObjects.OWNED_SELECTOR);
  }

  public static PersistentVolumeClaim desired(PypiMirror mirror) {
    CacheSpec cache = mirror.getSpec().getCache();
    String name = mirror.getMetadata().getName();
    return new PersistentVolumeClaimBuilder()
        .withMetadata(
            MirrorObjects.metadata(
                mirror,
                MirrorObjects.ownClaimName(name),
                "cache",
                MirrorObjects.deletesClaim(cache)))
        .withNewSpec()
        .withAccessModes(cache.getAccessModes().stream().map(Enum::name).toList())
        .withStorageClassName(
            MirrorObjects.hasText(cache.getStorageClassName()) ? cache.getStorageClassName() : null)
        .withNewResources()
        .addToRequests("storage", new Quantity(cache.getSize()))
        .endResources()
        .endSpec()
        .build();
  }

  @Override
  public void merge(PersistentVolumeClaim target, PersistentVolumeClaim desired) {
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
