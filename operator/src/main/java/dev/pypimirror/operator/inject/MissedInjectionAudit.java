package dev.pypimirror.operator.inject;

import dev.pypimirror.operator.reconciler.EventRecorder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds pods that asked for a mirror but were admitted without one (the webhook was down and the
 * opt-in entry fails open): they carry pypimirror.dev/mirror or inject: "true", no mirror's
 * ConfigMap is mounted at /etc/pypi-mirror, and no pypimirror.dev/skipped says why. Each is
 * reported once, as a Warning Event on the pod and a metric. It lists pods page by page on a
 * schedule instead of caching every pod of the cluster in an informer: annotations cannot be
 * selected on, and the operator's memory should not grow with the cluster's pod count.
 */
public final class MissedInjectionAudit implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MissedInjectionAudit.class);
  static final int PAGE = 500;
  static final int REMEMBERED = 10_000;

  private final KubernetesClient client;
  private final String operatorNamespace;
  private final EventRecorder events;
  private final Runnable onMissed;
  private final Set<String> reported =
      Collections.newSetFromMap(
          new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
              return size() > REMEMBERED;
            }
          });
  private ScheduledExecutorService schedule;

  public MissedInjectionAudit(
      KubernetesClient client, String operatorNamespace, EventRecorder events, Runnable onMissed) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
    this.events = events;
    this.onMissed = onMissed;
  }

  /**
   * Whether a pod asked for a mirror and got neither the mirror nor a reason why not. Whether it
   * got the mirror is read from its content (a container mounting a mirror's ConfigMap at {@code
   * /etc/pypi-mirror}), not from the injected marker or any label its author could write.
   */
  public static boolean missed(Pod pod, String operatorNamespace) {
    Map<String, String> annotations =
        pod.getMetadata().getAnnotations() == null ? Map.of() : pod.getMetadata().getAnnotations();
    Map<String, String> labels =
        pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
    var facts = new MirrorSelector.PodFacts(annotations, labels, pod.getMetadata().getNamespace());
    if (MirrorSelector.neverInjected(facts, operatorNamespace, false).isPresent()) {
      return false;
    }
    boolean asked =
        annotations.containsKey(Annotations.MIRROR)
            || "true".equalsIgnoreCase(annotations.get(Annotations.INJECT));
    // a forged skipped marker hides nothing the author could not hide by not asking
    return asked && !annotations.containsKey(Annotations.SKIPPED) && !holdsMirrorConfig(pod);
  }

  /** Whether a container mounts a mirror's ConfigMap volume at the mirror's config directory. */
  static boolean holdsMirrorConfig(Pod pod) {
    if (pod.getSpec() == null || pod.getSpec().getVolumes() == null) {
      return false;
    }
    Set<String> mirrorVolumes = new java.util.HashSet<>();
    pod.getSpec().getVolumes().stream()
        .filter(v -> v.getConfigMap() != null && v.getConfigMap().getName() != null)
        .filter(v -> v.getConfigMap().getName().startsWith("pypi-mirror-"))
        .forEach(v -> mirrorVolumes.add(v.getName()));
    return java.util.stream.Stream.concat(
            pod.getSpec().getInitContainers().stream(), pod.getSpec().getContainers().stream())
        .flatMap(c -> c.getVolumeMounts().stream())
        .anyMatch(
            m ->
                mirrorVolumes.contains(m.getName())
                    && InjectedLayout.CONFIG_DIR.equals(
                        PodPatchPlanner.normalisedPath(m.getMountPath())));
  }

  /** One pass over every pod; returns the pods newly found. */
  public synchronized List<Pod> auditOnce() {
    List<Pod> found = new ArrayList<>();
    String continueToken = null;
    do {
      PodList page =
          client
              .pods()
              .inAnyNamespace()
              .list(
                  new io.fabric8.kubernetes.api.model.ListOptionsBuilder()
                      .withLimit((long) PAGE)
                      .withContinue(continueToken)
                      .build());
      for (Pod pod : page.getItems()) {
        if (missed(pod, operatorNamespace) && reported.add(pod.getMetadata().getUid())) {
          found.add(pod);
          onMissed.run();
          events.record(
              pod,
              EventRecorder.Type.Warning,
              "MirrorNotInjected",
              "this pod asked for a PyPI mirror but was admitted without one (was the webhook"
                  + " unavailable?); recreate it to get the mirror");
        }
      }
      continueToken = page.getMetadata() == null ? null : page.getMetadata().getContinue();
    } while (continueToken != null && !continueToken.isEmpty());
    if (!found.isEmpty()) {
      LOG.warn("{} pod(s) asked for a mirror but were admitted without one", found.size());
    }
    return found;
  }

  /** While leading: every {@code periodSeconds}. */
  public synchronized void start(long periodSeconds) {
    if (schedule == null) {
      schedule =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "missed-injection-audit");
                t.setDaemon(true);
                return t;
              });
      schedule.scheduleWithFixedDelay(
          () -> {
            try {
              auditOnce();
            } catch (RuntimeException e) {
              LOG.warn("missed-injection audit failed: {}", e.getMessage());
            }
          },
          periodSeconds,
          periodSeconds,
          TimeUnit.SECONDS);
    }
  }

  public synchronized void stop() {
    if (schedule != null) {
      schedule.shutdownNow();
      schedule = null;
    }
  }

  @Override
  public void close() {
    stop();
  }
}
