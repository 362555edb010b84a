package dev.pypimirror.operator.testing;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/** The test plays the Deployment controller, which the test API server does not run. */
public final class DeploymentController {
  private DeploymentController() {}

  /** What the controller writes once the Deployment's pods are ready: condition Available. */
  public static void makeAvailable(KubernetesClient client, Deployment deployment) {
    client
        .resource(deployment)
        .updateStatus(
            new DeploymentBuilder(deployment)
                .withStatus(
                    new DeploymentStatusBuilder()
                        .withConditions(
                            new DeploymentConditionBuilder()
                                .withType("Available")
                                .withStatus("True")
                                .withReason("MinimumReplicasAvailable")
                                .build())
                        .build())
                .build());
  }
}
