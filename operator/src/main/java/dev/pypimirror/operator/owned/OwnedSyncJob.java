package dev.pypimirror.operator.owned;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.util.Map;

/**
 * A one-off cache sync Job, named by its plan's hash. Created once and never changed (a Job's
 * template is immutable): a new plan is a new Job.
 */
public final class OwnedSyncJob extends OwnedKind<Job> {
  public static final OwnedSyncJob KIND = new OwnedSyncJob();

  /** The sync's Jobs, CronJobs and pods: the operator's objects of the sync component. */
  public static final String SYNC_SELECTOR =
      MirrorObjects.OWNED_SELECTOR + ",app.kubernetes.io/component=" + CacheSync.COMPONENT;

  private OwnedSyncJob() {
    super(Job.class, "sync-jobs", SYNC_SELECTOR);
  }

  /** The one-off sync Job for the plan, owned by the mirror. */
  public static Job desired(PypiMirror mirror, CacheSync.Plan plan) {
    String name = mirror.getMetadata().getName();
    return new JobBuilder()
        .withNewMetadata()
        .withName(CacheSync.jobName(name, plan.hash()))
        .withNamespace(mirror.getMetadata().getNamespace())
        .withLabels(MirrorObjects.labels(name, CacheSync.COMPONENT))
        .withAnnotations(Map.of(CacheSync.HASH_ANNOTATION, plan.hash()))
        .withOwnerReferences(MirrorObjects.ownerReference(mirror))
        .endMetadata()
        .withSpec(plan.jobSpec())
        .build();
  }

  /** Nothing: a Job's template is immutable. */
  @Override
  public void merge(Job target, Job desired) {}
}
