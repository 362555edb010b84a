package dev.pypimirror.operator.owned;

import java.util.List;

/** Every kind a PypiMirror owns: the reconciler watches each through its own informer. */
public final class OwnedKinds {
  private OwnedKinds() {}

  public static final List<OwnedKind<?>> ALL =
      List.of(
          OwnedConfigMap.KIND,
          OwnedCacheClaim.KIND,
          OwnedSyncJob.KIND,
          OwnedSyncCronJob.KIND,
          OwnedProxyDeployment.KIND,
          OwnedProxyService.KIND);
}
