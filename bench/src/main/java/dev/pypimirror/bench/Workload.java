package dev.pypimirror.bench;

import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.IndexSpec;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.PypiMirrorSpec;
import dev.pypimirror.operator.api.PypiMirrorStatus;
import dev.pypimirror.operator.inject.MirrorDirectory;
import dev.pypimirror.operator.policy.PolicyDirectory;
import dev.pypimirror.operator.webhook.PodAdmission;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The benchmarks' realistic build pod and mirror: 2 init containers, 3 containers, env, volumes.
 */
public final class Workload {
  private Workload() {}

  public static PypiMirror mirror() {
    PypiMirrorSpec spec = new PypiMirrorSpec();
    spec.setIndexes(
        List.of(
            new IndexSpec("https://devpi.corp.example/root/pypi/+simple/", false),
            new IndexSpec("http://10.0.0.5:3141/simple/", true)));
    CacheSpec cache = new CacheSpec();
    cache.setEnabled(true);
    spec.setCache(cache);
    PypiMirror mirror = new PypiMirror();
    mirror.getMetadata().setName("corp");
    mirror.getMetadata().setNamespace("builds");
    mirror.getMetadata().setUid("0b0b0b0b-0000-4000-8000-000000000001");
    mirror.setSpec(spec);
    PypiMirrorStatus status = new PypiMirrorStatus();
    status.setConditions(List.of(Conditions.of(Conditions.READY, true, "Ready", "ok", 1)));
    mirror.setStatus(status);
    return mirror;
  }

  /**
   * As in the cluster: the informer-backed directory keeps rendered configs per resourceVersion.
   */
  public static MirrorDirectory directory() {
    PypiMirror mirror = mirror();
    mirror.getMetadata().setResourceVersion("4711");
    var renders = new dev.pypimirror.operator.config.RenderCache();
    return new MirrorDirectory() {
      @Override
      public dev.pypimirror.operator.config.RenderedConfig rendered(PypiMirror m) {
        return renders.render(m);
      }

      @Override
      public Optional<PypiMirror> get(String namespace, String name) {
        return name.equals("corp") ? Optional.of(mirror) : Optional.empty();
      }

      @Override
      public List<PypiMirror> inNamespace(String namespace) {
        return List.of(mirror);
      }
    };
  }

  public static PodAdmission admission() {
    return new PodAdmission(
        directory(), PolicyDirectory.NONE, "pypi-mirror-system", PodAdmission.Listener.NONE);
  }

  /**
   * An AdmissionReview for the build pod; {@code annotation} decides whether it asks for the
   * mirror.
   */
  public static byte[] review(String annotations) {
    String container =
        """
        {"name":"%s","image":"gcr.io/kaniko-project/executor:v1.23.2","args":["--context=dir:///workspace","--destination=registry.corp.example/app:1"],
         "env":[{"name":"DOCKER_CONFIG","value":"/kaniko/.docker"},{"name":"LANG","value":"C.UTF-8"},{"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
         "resources":{"requests":{"cpu":"500m","memory":"1Gi"},"limits":{"memory":"4Gi"}},
         "volumeMounts":[{"name":"workspace","mountPath":"/workspace"},{"name":"docker-config","mountPath":"/kaniko/.docker","readOnly":true},{"name":"kube-api-access-x7k2p","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}],
         "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}""";
    String pod =
        """
        {"kind":"Pod","apiVersion":"v1","metadata":{"generateName":"build-","namespace":"builds","labels":{"app":"build","job-name":"build"},"annotations":%s},
         "spec":{"volumes":[{"name":"workspace","emptyDir":{}},{"name":"docker-config","secret":{"secretName":"regcred"}},{"name":"kube-api-access-x7k2p","projected":{"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}}]}}],
          "initContainers":[%s,%s],"containers":[%s,%s,%s],"restartPolicy":"Never","serviceAccountName":"default","securityContext":{}},"status":{}}"""
            .formatted(
                annotations,
                container.formatted("clone"),
                container.formatted("prepare"),
                container.formatted("build"),
                container.formatted("scan"),
                container.formatted("push"));
    return ("""
        {"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002",
         "kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},
         "requestKind":{"group":"","version":"v1","kind":"Pod"},"requestResource":{"group":"","version":"v1","resource":"pods"},
         "namespace":"builds","operation":"CREATE","userInfo":{"username":"system:serviceaccount:kube-system:job-controller"},
         "object":%s,"oldObject":null,"dryRun":false,"options":{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1"}}}"""
            .formatted(pod))
        .getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] injectedReview() {
    return review("{\"pypimirror.dev/mirror\":\"corp\"}");
  }

  /** The same pod without any annotation: answered allowed, no patch, by the same code path. */
  public static byte[] untouchedReview() {
    return review("{}");
  }
}
