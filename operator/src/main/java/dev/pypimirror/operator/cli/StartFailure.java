package dev.pypimirror.operator.cli;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.BindException;
import java.net.URL;

/** A failed start, said with its cause and what fixes it. */
final class StartFailure {
  private StartFailure() {}

  /** "cannot start: FIX", with the failure as its cause (printed after it). */
  static RuntimeException explained(Exception failure, URL apiServer) {
    String fix = fix(failure, apiServer);
    return new IllegalStateException("cannot start" + (fix == null ? "" : ": " + fix), failure);
  }

  /** What to do about the first cause in the chain that says what went wrong; null: unknown. */
  static String fix(Throwable failure, URL apiServer) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof KubernetesClientException k && k.getCode() == 401) {
        return "the API server at "
            + apiServer
            + " did not accept the credentials: check the kubeconfig's user, or the pod's service"
            + " account token";
      }
      if (t instanceof KubernetesClientException k && k.getCode() == 403) {
        return "the API server refused a request: the service account lacks a right; apply the"
            + " RBAC of this version (the chart, or deploy/rbac)";
      }
      if (t instanceof KubernetesClientException k
          && k.getCode() == 404
          && String.valueOf(k.getMessage()).contains("pypimirror")) {
        return "the CRDs are not installed: kubectl apply -f crds/ (Helm installs the chart's"
            + " crds/, and `helm upgrade` does not: apply them first)";
      }
      if (t instanceof BindException) {
        return "a port is in use: choose others with --webhook-port and --metrics-port";
      }
    }
    String unreachable = ClusterOptions.unreachable(failure, String.valueOf(apiServer));
    if (unreachable != null) {
      return "cannot reach the API server at "
          + apiServer
          + " ("
          + unreachable
          + "): run in a pod, or point KUBECONFIG, --kubeconfig or --context at a cluster";
    }
    return null;
  }
}
