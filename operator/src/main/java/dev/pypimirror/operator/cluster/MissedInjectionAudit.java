package dev.pypimirror.operator.cluster;

import dev.pypimirror.operator.inject.MissedInjection;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
  private final LeaderSchedule schedule = new LeaderSchedule("missed-injection-audit");

  public MissedInjectionAudit(
      KubernetesClient client, String operatorNamespace, EventRecorder events, Runnable onMissed) {
    this.client = client;
    this.operatorNamespace = operatorNamespace;
    this.events = events;
    this.onMissed = onMissed;
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
        if (MissedInjection.missed(pod, operatorNamespace)
            && reported.add(pod.getMetadata().getUid())) {
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
    schedule.start(
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

  public void stop() {
    schedule.stop();
  }

  @Override
  public void close() {
    stop();
  }
}
