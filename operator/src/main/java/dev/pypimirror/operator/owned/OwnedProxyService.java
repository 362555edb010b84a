package dev.pypimirror.operator.owned;

import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.config.MirrorObjects;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;

/**
 * The caching proxy's Service: the host of the one index build pods get. Its type, ports and
 * selector are the desired ones; what the API server assigns (cluster IPs) stays.
 */
public final class OwnedProxyService extends OwnedKind<Service> {
  public static final OwnedProxyService KIND = new OwnedProxyService();

  private OwnedProxyService() {
    super(Service.class, "proxy-services", MirrorObjects.OWNED_SELECTOR);
  }

  public static Service desired(PypiMirror mirror) {
    String name = mirror.getMetadata().getName();
    return new ServiceBuilder()
        .withMetadata(
            MirrorObjects.metadata(
                mirror, MirrorObjects.proxyName(name), OwnedProxyDeployment.COMPONENT, true))
        .withNewSpec()
        .withType("ClusterIP")
        .withSelector(OwnedProxyDeployment.selector(name))
        .addNewPort()
        .withName("http")
        .withPort(MirrorObjects.PROXY_PORT)
        .withNewTargetPort("http")
        .withProtocol("TCP")
        .endPort()
        .endSpec()
        .build();
  }

  @Override
  public void merge(Service target, Service desired) {
    target.getSpec().setType(desired.getSpec().getType());
    target.getSpec().setPorts(desired.getSpec().getPorts());
    target.getSpec().setSelector(desired.getSpec().getSelector());
  }
}
