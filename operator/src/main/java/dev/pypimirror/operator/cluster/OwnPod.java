package dev.pypimirror.operator.cluster;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;

/**
 * What the operator learns from its own pod: its image, which the downward API cannot give. So an
 * install that sets the image once (kustomize's {@code images:}, the chart's {@code image}) needs
 * to repeat it nowhere.
 */
public final class OwnPod {
  /** The operator's container, as the chart and deploy/ name it. */
  public static final String CONTAINER = "manager";

  private OwnPod() {}

  /** The image of the operator's container in pod namespace/name. */
  public static String image(KubernetesClient client, String namespace, String name) {
    Pod pod = client.pods().inNamespace(namespace).withName(name).get();
    if (pod == null) {
      throw new KubernetesClientException("pod " + namespace + "/" + name + " not found");
    }
    return image(pod);
  }

  /** The container named {@value #CONTAINER}, else the first (a mesh's sidecar comes later). */
  static String image(Pod pod) {
    List<Container> containers = pod.getSpec().getContainers();
    return containers.stream()
        .filter(c -> CONTAINER.equals(c.getName()))
        .findFirst()
        .orElse(containers.get(0))
        .getImage();
  }
}
