package dev.pypimirror.operator.owned;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.CronJobBuilder;
import java.util.Map;

/** The scheduled cache sync: the plan's Job, one at a time; its spec is the desired one. */
public final class OwnedSyncCronJob extends OwnedKind<CronJob> {
  public static final OwnedSyncCronJob KIND = new OwnedSyncCronJob();

  private OwnedSyncCronJob() {
    super(CronJob.class, "sync-cronjobs", OwnedSyncJob.SYNC_SELECTOR);
  }

  /** The scheduled refresh: the same Job, one at a time (concurrencyPolicy Forbid). */
  public static CronJob desired(PypiMirror mirror, CacheSync.Plan plan) {
    String name = mirror.getMetadata().getName();
    return new CronJobBuilder()
        .withNewMetadata()
        .withName(CacheSync.cronJobName(name))
        .withNamespace(mirror.getMetadata().getNamespace())
        .withLabels(MirrorObjects.labels(name, CacheSync.COMPONENT))
        .withOwnerReferences(MirrorObjects.ownerReference(mirror))
        .endMetadata()
        .withNewSpec()
        .withSchedule(mirror.getSpec().getCache().getSync().getSchedule())
        .withConcurrencyPolicy("Forbid")
        .withSuccessfulJobsHistoryLimit(1)
        .withFailedJobsHistoryLimit(1)
        .withNewJobTemplate()
        .withNewMetadata()
        .withLabels(MirrorObjects.labels(name, CacheSync.COMPONENT))
        .withAnnotations(Map.of(CacheSync.HASH_ANNOTATION, plan.hash()))
        .endMetadata()
        .withSpec(plan.jobSpec())
        .endJobTemplate()
        .endSpec()
        .build();
  }

  @Override
  public void merge(CronJob target, CronJob desired) {
    target.setSpec(desired.getSpec());
  }
}
