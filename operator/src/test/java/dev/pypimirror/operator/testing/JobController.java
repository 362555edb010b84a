package dev.pypimirror.operator.testing;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/** The test plays the Job controller and the kubelet for the cache sync Jobs. */
public final class JobController {
  private JobController() {}

  /** What the Job controller and the kubelet would do when the Job's pod ends. */
  public static void finish(KubernetesClient client, Job job, boolean succeeded, String summary) {
    String now =
        java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    if (succeeded) {
      client
          .resource(
              new PodBuilder()
                  .withNewMetadata()
                  .withName(job.getMetadata().getName() + "-abcde")
                  .withNamespace(job.getMetadata().getNamespace())
                  .withLabels(job.getSpec().getTemplate().getMetadata().getLabels())
                  .addToLabels("job-name", job.getMetadata().getName())
                  .endMetadata()
                  .withSpec(job.getSpec().getTemplate().getSpec())
                  .withNewStatus()
                  .withPhase("Succeeded")
                  .addNewContainerStatus()
                  .withName("index")
                  .withNewState()
                  .withNewTerminated()
                  .withExitCode(0)
                  .withMessage(summary)
                  .endTerminated()
                  .endState()
                  .endContainerStatus()
                  .endStatus()
                  .build())
          .create();
    }
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(job.getMetadata().getNamespace())
        .withName(job.getMetadata().getName())
        .editStatus(
            j -> {
              j.setStatus(
                  new JobStatusBuilder()
                      .withCompletionTime(succeeded ? now : null)
                      .withConditions(
                          new JobConditionBuilder()
                              .withType(succeeded ? "Complete" : "Failed")
                              .withStatus("True")
                              .withReason(succeeded ? null : "BackoffLimitExceeded")
                              .withMessage(
                                  succeeded ? null : "Job has reached the specified backoff limit")
                              .withLastTransitionTime(now)
                              .build())
                      .build());
              return j;
            });
  }
}
