package dev.pypimirror.operator.reconciler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pypimirror.operator.api.CacheSpec;
import dev.pypimirror.operator.api.CacheStatus;
import dev.pypimirror.operator.api.Conditions;
import dev.pypimirror.operator.api.PypiMirror;
import dev.pypimirror.operator.api.RequirementsRef;
import dev.pypimirror.operator.cluster.EventRecorder;
import dev.pypimirror.operator.cluster.EventRecorder.Type;
import dev.pypimirror.operator.config.MirrorObjects;
import dev.pypimirror.operator.config.Requirements;
import dev.pypimirror.operator.owned.CacheSync;
import dev.pypimirror.operator.owned.OwnedSyncCronJob;
import dev.pypimirror.operator.owned.OwnedSyncJob;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Fills a mirror's cache: one sync Job per sync spec hash, never two at a time, a CronJob when
 * scheduled, and the outcome read back from the Jobs and from the index container's termination
 * message. A failed sync changes nothing in the cache: the download runs first, the index is only
 * rebuilt after it, and no file is ever deleted.
 */
public class CacheSyncer {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What the sync says about the cache. */
  record Outcome(CacheStatus status, boolean synced, String reason, String message) {}

  /** A sync Job that finished: its uid, whether it succeeded, and when (null if unknown). */
  public record FinishedJob(String uid, boolean succeeded, Instant finishedAt) {}

  /** Told, at each reconcile of a synced mirror, every finished sync Job of that mirror. */
  public interface FinishedJobs {
    FinishedJobs NONE = (namespace, mirror, jobs) -> {};

    void seen(String namespace, String mirror, List<FinishedJob> jobs);
  }

  private final KubernetesClient client;
  private final ObjectWriter writer;
  private final EventRecorder events;
  private final String indexImage;
  private final FinishedJobs finishedJobs;
  private OwnedInformers owned;
  private InformerEventSource<Pod, PypiMirror> pods;

  /**
   * @param indexImage the image the sync Job runs {@code ingest} with: this operator's own
   */
  public CacheSyncer(
      KubernetesClient client, ObjectWriter writer, EventRecorder events, String indexImage) {
    this(client, writer, events, indexImage, FinishedJobs.NONE);
  }

  /**
   * @param finishedJobs told the finished sync Jobs of each mirror it syncs (the metrics)
   */
  public CacheSyncer(
      KubernetesClient client,
      ObjectWriter writer,
      EventRecorder events,
      String indexImage,
      FinishedJobs finishedJobs) {
    this.client = client;
    this.writer = writer;
    this.events = events;
    this.indexImage = indexImage;
    this.finishedJobs = finishedJobs;
  }

  /**
   * The sync pods' informer (their index container reports the sync's result); the Jobs and
   * CronJobs are read through {@code owned}.
   */
  List<EventSource<?, PypiMirror>> eventSources(
      EventSourceContext<PypiMirror> context,
      OwnedInformers owned,
      SecondaryToPrimaryMapper<HasMetadata> byMirrorLabel) {
    this.owned = owned;
    pods =
        Secondaries.labelled(
            context,
            Pod.class,
            "sync-pods",
            OwnedSyncJob.SYNC_SELECTOR,
            byMirrorLabel::toPrimaryResourceIDs);
    return List.of(pods);
  }

  /**
   * Syncs the mirror's cache, unless the governing policy forbids the mirror ({@code violations}):
   * then no sync Job is created and its CronJob is removed, so no forbidden URL is ever used.
   */
  Outcome sync(PypiMirror mirror, String claimName, CacheStatus previous, List<String> violations) {
    if (!violations.isEmpty()) {
      deleteCronJob(mirror);
      return notSynced(previous, Conditions.REASON_POLICY_VIOLATION, violations);
    }
    Requirements.Parsed requirements = requirements(mirror);
    if (!requirements.problems().isEmpty()) {
      return notSynced(previous, Conditions.REASON_INVALID_REQUIREMENTS, requirements.problems());
    }
    CacheSync.Plan plan = CacheSync.plan(mirror, claimName, indexImage, requirements);
    keepCronJob(mirror, plan);
    List<Job> ours = syncJobs(mirror);
    reportFinished(mirror, ours);
    Optional<Job> running = runningOrStarted(mirror, plan, ours, previous);
    History history = History.of(ours, plan.hash());
    CacheStatus status = copy(previous);
    history.lastSucceeded().ifPresent(job -> record(status, job));
    return outcome(plan, status, running, history);
  }

  /** No sync, for {@code problems}; the cache keeps what an earlier sync left. */
  private static Outcome notSynced(CacheStatus previous, String reason, List<String> problems) {
    CacheStatus status = copy(previous);
    return new Outcome(
        status,
        false,
        reason,
        "no cache sync: " + String.join("; ", problems) + previousIndexNote(status));
  }

  /** The mirror's sync Jobs, as the informer holds them. */
  private List<Job> syncJobs(PypiMirror mirror) {
    String name = mirror.getMetadata().getName();
    String namespace = mirror.getMetadata().getNamespace();
    return owned
        .list(
            OwnedSyncJob.KIND,
            j ->
                namespace.equals(j.getMetadata().getNamespace())
                    && name.equals(label(j, MirrorObjects.MIRROR_LABEL)))
        .toList();
  }

  /** Tells {@link FinishedJobs} every finished sync Job of the mirror. */
  private void reportFinished(PypiMirror mirror, List<Job> ours) {
    finishedJobs.seen(
        mirror.getMetadata().getNamespace(),
        mirror.getMetadata().getName(),
        ours.stream()
            .filter(j -> finished(j).isPresent())
            .map(
                j ->
                    new FinishedJob(
                        Optional.ofNullable(j.getMetadata().getUid())
                            .orElse(j.getMetadata().getName()),
                        "Complete".equals(finished(j).orElseThrow().getType()),
                        instant(finishedAt(j))))
            .toList());
  }

  /**
   * The sync Job still running, else a new one for {@code plan} when no Job of it exists and the
   * cache was not synced with it yet.
   */
  private Optional<Job> runningOrStarted(
      PypiMirror mirror, CacheSync.Plan plan, List<Job> ours, CacheStatus previous) {
    Optional<Job> running = ours.stream().filter(j -> finished(j).isEmpty()).findFirst();
    String current = CacheSync.jobName(mirror.getMetadata().getName(), plan.hash());
    boolean currentExists = ours.stream().anyMatch(j -> j.getMetadata().getName().equals(current));
    String syncedHash = previous == null ? null : previous.getSyncedHash();
    if (currentExists || plan.hash().equals(syncedHash) || running.isPresent()) {
      return running;
    }
    Job job = client.resource(OwnedSyncJob.desired(mirror, plan)).create();
    events.record(
        mirror,
        Type.Normal,
        "SyncStarted",
        "cache sync Job " + job.getMetadata().getName() + " created");
    return Optional.of(job);
  }

  /** The last sync Jobs that succeeded and that failed. */
  record History(Optional<Job> lastSucceeded, Optional<Job> lastFailed) {
    static History of(List<Job> ours, String currentHash) {
      // latest first; timestamps have one-second resolution, so on a tie the current spec's Job
      // wins
      Comparator<Job> latest =
          Comparator.comparing(CacheSyncer::finishedAt)
              .thenComparing(j -> currentHash.equals(annotation(j, CacheSync.HASH_ANNOTATION)));
      return new History(last(ours, "Complete", latest), last(ours, "Failed", latest));
    }

    private static Optional<Job> last(List<Job> ours, String type, Comparator<Job> latest) {
      return ours.stream()
          .filter(j -> type.equals(finished(j).map(JobCondition::getType).orElse(null)))
          .max(latest);
    }

    /** Whether the last Job to finish failed. */
    boolean failedLast() {
      return lastFailed.isPresent()
          && (lastSucceeded.isEmpty()
              || finishedAt(lastFailed.get()).compareTo(finishedAt(lastSucceeded.get())) > 0);
    }
  }

  /** What the cache is, from the running Job, the last ones and what {@code status} holds. */
  private Outcome outcome(
      CacheSync.Plan plan, CacheStatus status, Optional<Job> running, History history) {
    if (running.isPresent()) {
      return new Outcome(
          status,
          false,
          Conditions.REASON_SYNCING,
          "cache sync Job "
              + running.get().getMetadata().getName()
              + " is running"
              + previousIndexNote(status));
    }
    if (history.failedLast()) {
      return failed(history.lastFailed().orElseThrow(), status);
    }
    if (plan.hash().equals(status.getSyncedHash())) {
      return synced(status);
    }
    return new Outcome(
        status,
        false,
        Conditions.REASON_SYNCING,
        "waiting for the cache sync to start" + previousIndexNote(status));
  }

  private Outcome failed(Job job, CacheStatus status) {
    JobCondition failure = finished(job).orElseThrow();
    return new Outcome(
        status,
        false,
        Conditions.REASON_SYNC_FAILED,
        "cache sync Job %s failed (%s: %s)%s"
            .formatted(
                job.getMetadata().getName(),
                failure.getReason(),
                failure.getMessage() + failureDetail(job),
                previousIndexNote(status)));
  }

  private static Outcome synced(CacheStatus status) {
    return new Outcome(
        status,
        true,
        Conditions.REASON_SYNCED,
        "%d files of %d projects, %d bytes, synced at %s by Job %s%s"
            .formatted(
                Optional.ofNullable(status.getPackageCount()).orElse(0),
                Optional.ofNullable(status.getProjectCount()).orElse(0),
                Optional.ofNullable(status.getSizeBytes()).orElse(0L),
                status.getLastSyncTime(),
                status.getLastSyncJob(),
                refusedNote(status)));
  }

  /**
   * The sync's requirement lines: the packages, then the ConfigMap's file, read now and carried in
   * the Job itself, so what runs is what was checked.
   */
  private Requirements.Parsed requirements(PypiMirror mirror) {
    CacheSpec cache = mirror.getSpec().getCache();
    Requirements.Parsed packages =
        Requirements.ofPackages("spec.cache.packages", cache.getPackages());
    RequirementsRef ref = cache.getRequirementsConfigMap();
    if (ref == null) {
      return packages;
    }
    String where = "ConfigMap " + ref.getName() + " key " + ref.getKey();
    ConfigMap configMap =
        client
            .configMaps()
            .inNamespace(mirror.getMetadata().getNamespace())
            .withName(ref.getName())
            .get();
    String text =
        configMap == null || configMap.getData() == null
            ? null
            : configMap.getData().get(ref.getKey());
    if (text == null) {
      return new Requirements.Parsed(
          List.of(), List.of("requirementsConfigMap: " + where + " not found"));
    }
    return Requirements.concat(packages, Requirements.ofFile(where, text));
  }

  /** What the trusted step left out, when it left something out. */
  private static String refusedNote(CacheStatus status) {
    return status.getRefused() == null || status.getRefused() == 0
        ? ""
        : "; %d downloaded files refused (status.cache.refusals)".formatted(status.getRefused());
  }

  private static String previousIndexNote(CacheStatus status) {
    return status.getLastSyncTime() == null
        ? ""
        : "; the index synced at " + status.getLastSyncTime() + " is still served";
  }

  /** Takes a succeeded Job's result: its time, hash and the index container's summary. */
  private void record(CacheStatus status, Job job) {
    status.setLastSyncTime(finishedAt(job));
    status.setLastSyncJob(job.getMetadata().getName());
    if (annotation(job, CacheSync.HASH_ANNOTATION) != null) {
      status.setSyncedHash(annotation(job, CacheSync.HASH_ANNOTATION));
    }
    summary(job)
        .ifPresent(
            s -> {
              status.setPackageCount(s.path("files").asInt());
              status.setProjectCount(s.path("projects").asInt());
              status.setSizeBytes(s.path("bytes").asLong());
              status.setUnreadableCount(
                  s.hasNonNull("unreadable") ? s.get("unreadable").asInt() : null);
              status.setAdded(s.has("added") ? s.path("added").asInt() : null);
              status.setAlreadyPresent(
                  s.has("alreadyPresent") ? s.path("alreadyPresent").asInt() : null);
              status.setRefused(s.has("refused") ? s.path("refused").asInt() : null);
              List<String> refusals = new ArrayList<>();
              s.path("refusals").forEach(r -> refusals.add(r.asText()));
              status.setRefusals(refusals.isEmpty() ? null : refusals);
            });
  }

  /** The index container's termination message of the Job's succeeded pod. */
  private Optional<JsonNode> summary(Job job) {
    return summary(job, true);
  }

  /** What the index container of a failed Job said: its error and refusals, if it ran. */
  private String failureDetail(Job job) {
    return summary(job, false)
        .filter(s -> s.has("error"))
        .map(
            s -> {
              List<String> refusals = new ArrayList<>();
              s.path("refusals").forEach(r -> refusals.add(r.asText()));
              return "; "
                  + s.path("error").asText()
                  + (refusals.isEmpty() ? "" : ": " + String.join("; ", refusals));
            })
        .orElse("");
  }

  private Optional<JsonNode> summary(Job job, boolean succeeded) {
    String jobName = job.getMetadata().getName();
    return pods.list(
            p ->
                jobName.equals(label(p, "job-name"))
                    && job.getMetadata().getNamespace().equals(p.getMetadata().getNamespace()))
        .filter(p -> p.getStatus() != null && p.getStatus().getContainerStatuses() != null)
        .flatMap(p -> p.getStatus().getContainerStatuses().stream())
        .filter(
            c ->
                "index".equals(c.getName())
                    && c.getState() != null
                    && c.getState().getTerminated() != null)
        .map(c -> c.getState().getTerminated())
        .filter(
            t -> succeeded == Integer.valueOf(0).equals(t.getExitCode()) && t.getMessage() != null)
        .map(t -> parse(t.getMessage()))
        .flatMap(Optional::stream)
        .findFirst();
  }

  private static Optional<JsonNode> parse(String message) {
    try {
      JsonNode node = JSON.readTree(message);
      return node != null && node.isObject() ? Optional.of(node) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private void keepCronJob(PypiMirror mirror, CacheSync.Plan plan) {
    var sync = mirror.getSpec().getCache().getSync();
    String name = CacheSync.cronJobName(mirror.getMetadata().getName());
    ResourceID id = new ResourceID(name, mirror.getMetadata().getNamespace());
    CronJob existing = owned.get(OwnedSyncCronJob.KIND, id).orElse(null);
    if (sync != null && sync.getSchedule() != null) {
      writer.createOrUpdate(
          mirror, OwnedSyncCronJob.KIND, OwnedSyncCronJob.desired(mirror, plan), existing);
    } else {
      deleteCronJob(mirror);
    }
  }

  private void deleteCronJob(PypiMirror mirror) {
    String name = CacheSync.cronJobName(mirror.getMetadata().getName());
    owned
        .get(OwnedSyncCronJob.KIND, new ResourceID(name, mirror.getMetadata().getNamespace()))
        .filter(existing -> MirrorObjects.isOwnedBy(existing, mirror))
        .ifPresent(existing -> client.resource(existing).delete());
  }

  /** The Job's terminal condition, if it finished. */
  static Optional<JobCondition> finished(Job job) {
    if (job.getStatus() == null || job.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return job.getStatus().getConditions().stream()
        .filter(c -> "True".equals(c.getStatus()))
        .filter(c -> Set.of("Complete", "Failed").contains(c.getType()))
        .findFirst();
  }

  private static String finishedAt(Job job) {
    if (job.getStatus() != null && job.getStatus().getCompletionTime() != null) {
      return job.getStatus().getCompletionTime();
    }
    return finished(job)
        .map(JobCondition::getLastTransitionTime)
        .filter(Objects::nonNull)
        .orElse("");
  }

  private static Instant instant(String timestamp) {
    try {
      return timestamp.isEmpty() ? null : Instant.parse(timestamp);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static CacheStatus copy(CacheStatus previous) {
    CacheStatus status = new CacheStatus();
    if (previous != null) {
      status.setLastSyncTime(previous.getLastSyncTime());
      status.setPackageCount(previous.getPackageCount());
      status.setProjectCount(previous.getProjectCount());
      status.setSizeBytes(previous.getSizeBytes());
      status.setUnreadableCount(previous.getUnreadableCount());
      status.setLastSyncJob(previous.getLastSyncJob());
      status.setSyncedHash(previous.getSyncedHash());
      status.setAdded(previous.getAdded());
      status.setAlreadyPresent(previous.getAlreadyPresent());
      status.setRefused(previous.getRefused());
      status.setRefusals(previous.getRefusals());
    }
    return status;
  }

  private static String annotation(HasMetadata object, String key) {
    var annotations = object.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }

  private static String label(HasMetadata object, String key) {
    var labels = object.getMetadata().getLabels();
    return labels == null ? null : labels.get(key);
  }
}
