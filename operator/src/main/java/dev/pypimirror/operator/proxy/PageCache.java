package dev.pypimirror.operator.proxy;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pypimirror.operator.cache.DistributionFile;
import dev.pypimirror.operator.simple.FileLink;
import dev.pypimirror.operator.simple.Freshness;
import dev.pypimirror.operator.simple.ProjectPage;
import dev.pypimirror.operator.simple.Resolution;
import dev.pypimirror.operator.simple.Resolution.Answer;
import dev.pypimirror.operator.simple.Resolution.Outcome;
import dev.pypimirror.operator.simple.SimpleHtml;
import dev.pypimirror.operator.simple.SimpleJson;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Project pages: asked for upstream only when the stored one is older than the TTL (whatever the
 * client's Cache-Control says), conditionally with the stored validators, one request per project
 * at a time; stored in memory and in {@code <cache>/.proxy/pages/} so a restart serves them too.
 * When the upstreams fail or do not answer within {@link #STALE_WAIT}, a stored page is served
 * stale (listing only the files the cache holds) while the refresh goes on; a project never seen is
 * then an error at once. "Not found" is remembered for a short while. Offline, nothing is asked
 * upstream: the stored page and the sync's own page, both limited to the files held.
 */
public final class PageCache {
  private static final Logger LOG = LoggerFactory.getLogger(PageCache.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** How long a client waits for upstream when a stored page could be served instead. */
  static final Duration STALE_WAIT = Duration.ofSeconds(5);

  /** After every upstream failed, how long the stored page is served without asking again. */
  static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(30);

  /** How long a stale or offline page, limited to the files held, is kept before it is redone. */
  static final Duration HELD_VIEW_LIFE = Duration.ofSeconds(10);

  /** Pages kept in memory; the others are read back from disk when asked for. */
  static final int MEMORY_PAGES = 2000;

  /** How a page request was answered, for the metrics and the log. */
  public enum Answered {
    HIT,
    MISS,
    REVALIDATED,
    STALE,
    NOT_FOUND,
    ERROR
  }

  /** The answer for a project: its page (null when not found or failed) and how it came. */
  public record Result(ServedPage page, Answered outcome) {}

  /** What one upstream last said about a project. */
  record Record(boolean found, ProjectPage page, String etag, String lastModified) {}

  /** All that is known of a project. */
  record Snapshot(
      String project,
      Map<Integer, Record> records,
      ProjectPage resolved,
      Map<String, Integer> upstreamOf,
      Instant fetched,
      Instant changed,
      Instant retryAfter,
      ServedPage served) {
    boolean found() {
      return resolved != null;
    }
  }

  private record HeldView(ServedPage page, Instant made) {}

  private final List<Upstream> upstreams;
  private final Resolution resolution;
  private final Freshness freshness;
  private final boolean offline;
  private final UpstreamClient client;
  private final FileStore store;
  private final Executor workers;
  private final Clock clock;
  private final ProxyMetrics metrics;
  private final SingleFlight<String, Snapshot> flight = new SingleFlight<>();
  private final Map<String, Snapshot> memory =
      java.util.Collections.synchronizedMap(
          new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Snapshot> eldest) {
              return size() > MEMORY_PAGES;
            }
          });
  private final Map<String, HeldView> held = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile HeldView root;

  public PageCache(
      List<Upstream> upstreams,
      Resolution resolution,
      Freshness freshness,
      boolean offline,
      UpstreamClient client,
      FileStore store,
      Executor workers,
      Clock clock,
      ProxyMetrics metrics) {
    this.upstreams = List.copyOf(upstreams);
    this.resolution = resolution;
    this.freshness = freshness;
    this.offline = offline;
    this.client = client;
    this.store = store;
    this.workers = workers;
    this.clock = clock;
    this.metrics = metrics;
  }

  /** A fresh page from memory, without any I/O; empty when anything more is needed. */
  public Optional<ServedPage> fresh(String project) {
    Snapshot s = memory.get(project);
    if (s == null || offline || !s.found() || !isFresh(s)) {
      return Optional.empty();
    }
    return Optional.of(s.served());
  }

  /** The page of a (normalized) project. */
  public CompletableFuture<Result> project(String project) {
    Snapshot inMemory = memory.get(project);
    CompletableFuture<Snapshot> known =
        inMemory != null
            ? CompletableFuture.completedFuture(inMemory)
            : CompletableFuture.supplyAsync(() -> load(project), workers);
    return known.thenCompose(s -> decide(project, s));
  }

  private boolean isFresh(Snapshot s) {
    return freshness.decide(s.found(), s.fetched(), clock.instant()) == Freshness.Decision.FRESH;
  }

  private CompletableFuture<Result> decide(String project, Snapshot stored) {
    if (offline) {
      return CompletableFuture.supplyAsync(() -> heldOnly(project, stored, Answered.HIT), workers);
    }
    Instant now = clock.instant();
    if (stored != null && isFresh(stored)) {
      return CompletableFuture.completedFuture(
          stored.found()
              ? new Result(stored.served(), Answered.HIT)
              : new Result(null, Answered.NOT_FOUND));
    }
    if (stored != null && stored.retryAfter() != null && now.isBefore(stored.retryAfter())) {
      return CompletableFuture.supplyAsync(
          () -> heldOnly(project, stored, Answered.STALE), workers);
    }
    CompletableFuture<Snapshot> refresh = flight.run(project, () -> refresh(project, stored));
    CompletableFuture<Result> fromRefresh =
        refresh.thenCompose(
            s -> {
              if (s.retryAfter() != null) { // every upstream that mattered failed
                if (s.found()) {
                  return CompletableFuture.supplyAsync(
                      () -> heldOnly(project, s, Answered.STALE), workers);
                }
                return CompletableFuture.completedFuture(new Result(null, Answered.ERROR));
              }
              if (!s.found()) {
                return CompletableFuture.completedFuture(new Result(null, Answered.NOT_FOUND));
              }
              boolean revalidated =
                  stored != null && stored.found() && s.changed().equals(stored.changed());
              return CompletableFuture.completedFuture(
                  new Result(s.served(), revalidated ? Answered.REVALIDATED : Answered.MISS));
            });
    if (stored == null || !stored.found()) {
      return fromRefresh;
    }
    CompletableFuture<Result> stale =
        CompletableFuture.supplyAsync(
            () -> heldOnly(project, stored, Answered.STALE),
            CompletableFuture.delayedExecutor(
                STALE_WAIT.toMillis(), TimeUnit.MILLISECONDS, workers));
    return fromRefresh.applyToEither(stale, r -> r);
  }

  /** Asks the upstreams in order (as the resolution needs them) and stores what they say. */
  private CompletableFuture<Snapshot> refresh(String project, Snapshot stored) {
    return ask(project, stored, new ArrayList<>(), new HashMap<>())
        .thenApplyAsync(
            answers -> {
              Snapshot next = resolve(project, stored, answers.answers(), answers.records());
              memory.put(project, next);
              held.remove(project);
              if (next.retryAfter() == null) {
                save(next);
              } else {
                LOG.warn(
                    "project {}: upstreams unavailable{}",
                    project,
                    next.found() ? "; serving the stored page stale" : "");
              }
              return next;
            },
            workers);
  }

  private record Asked(List<Answer> answers, Map<Integer, Record> records) {}

  private CompletableFuture<Asked> ask(
      String project, Snapshot stored, List<Answer> answers, Map<Integer, Record> records) {
    int i = answers.size();
    if (i >= upstreams.size() || !resolution.askNext(answers)) {
      return CompletableFuture.completedFuture(new Asked(answers, records));
    }
    Upstream upstream = upstreams.get(i);
    Record before = stored == null ? null : stored.records().get(i);
    boolean revalidate = before != null && before.found();
    long started = System.nanoTime();
    return client
        .page(
            upstream,
            project,
            revalidate ? before.etag() : null,
            revalidate ? before.lastModified() : null)
        .thenCompose(
            answer -> {
              metrics.upstreamLatency(upstream.number(), System.nanoTime() - started);
              if (answer instanceof UpstreamClient.PageAnswer.Found found) {
                ProjectPage page = allowed(upstream, found.page());
                answers.add(new Answer.Found(page));
                records.put(i, new Record(true, page, found.etag(), found.lastModified()));
              } else if (answer instanceof UpstreamClient.PageAnswer.NotModified) {
                if (revalidate) {
                  answers.add(new Answer.Found(before.page()));
                  records.put(i, before);
                } else {
                  answers.add(new Answer.Failed());
                }
              } else if (answer instanceof UpstreamClient.PageAnswer.Missing) {
                answers.add(new Answer.Missing());
                records.put(i, new Record(false, null, null, null));
              } else {
                String reason = ((UpstreamClient.PageAnswer.Failed) answer).reason();
                LOG.warn("{}: page of {} failed: {}", upstream, project, reason);
                metrics.upstreamError(upstream.number());
                answers.add(new Answer.Failed());
                if (before != null) {
                  records.put(i, before);
                }
              }
              return ask(project, stored, answers, records);
            });
  }

  /**
   * The files of an upstream's page the proxy may serve: a plain file name of this project (a page
   * cannot slip another project's file into the cache), at a URL the upstream may be fetched at.
   */
  static ProjectPage allowed(Upstream upstream, ProjectPage page) {
    List<FileLink> files = new ArrayList<>();
    for (FileLink file : page.files()) {
      URI url;
      try {
        url = URI.create(file.url());
      } catch (IllegalArgumentException e) {
        continue;
      }
      var distribution = DistributionFile.parse(file.filename());
      if (FileStore.plainName(file.filename())
          && distribution.isPresent()
          && distribution.get().normalizedProject().equals(page.name())
          && upstream.mayFetch(url)) {
        files.add(file);
      }
    }
    return new ProjectPage(page.name(), files);
  }

  private Snapshot resolve(
      String project, Snapshot stored, List<Answer> answers, Map<Integer, Record> records) {
    Instant now = clock.instant();
    Outcome outcome = resolution.resolve(project, answers);
    if (outcome instanceof Outcome.Unavailable) {
      if (stored != null) {
        return new Snapshot(
            project,
            stored.records(),
            stored.resolved(),
            stored.upstreamOf(),
            stored.fetched(),
            stored.changed(),
            now.plus(RETRY_AFTER_FAILURE),
            stored.served());
      }
      return new Snapshot(
          project, Map.of(), null, Map.of(), now, now, now.plus(RETRY_AFTER_FAILURE), null);
    }
    if (outcome instanceof Outcome.NotFound) {
      return new Snapshot(project, Map.copyOf(records), null, Map.of(), now, now, null, null);
    }
    ProjectPage resolved = ((Outcome.Page) outcome).page();
    Map<String, Integer> upstreamOf = upstreamOf(records);
    if (stored != null && stored.found() && resolved.equals(stored.resolved())) {
      return new Snapshot(
          project,
          Map.copyOf(records),
          resolved,
          upstreamOf,
          now,
          stored.changed(),
          null,
          stored.served());
    }
    return snapshot(project, Map.copyOf(records), resolved, upstreamOf, now, now);
  }

  private Snapshot snapshot(
      String project,
      Map<Integer, Record> records,
      ProjectPage resolved,
      Map<String, Integer> upstreamOf,
      Instant fetched,
      Instant changed) {
    ProjectPage withLocal = withKnownHashes(withSyncedFiles(resolved, upstreamOf));
    return new Snapshot(
        project,
        records,
        resolved,
        upstreamOf,
        fetched,
        changed,
        null,
        ServedPage.project(withLocal, upstreamOf, changed));
  }

  /** Files whose page gave no sha256 get the one computed when the proxy fetched them. */
  private ProjectPage withKnownHashes(ProjectPage page) {
    List<FileLink> files = new ArrayList<>();
    for (FileLink file : page.files()) {
      Optional<String> known =
          file.sha256() == null ? store.knownSha256(file.filename()) : Optional.empty();
      if (known.isPresent()) {
        Map<String, String> hashes = new HashMap<>(file.hashes());
        hashes.put("sha256", known.get());
        file =
            new FileLink(
                file.filename(),
                file.url(),
                hashes,
                file.requiresPython(),
                file.yanked(),
                file.coreMetadata());
      }
      files.add(file);
    }
    return new ProjectPage(page.name(), files);
  }

  /**
   * Renders a project's page again after the proxy stored one of its files that came without a
   * hash, so the page gives the computed one from then on (off the event loop).
   */
  void learnedHash(String project) {
    Snapshot s = memory.get(project);
    if (s != null && s.found()) {
      memory.put(
          project,
          snapshot(project, s.records(), s.resolved(), s.upstreamOf(), s.fetched(), s.changed()));
      held.remove(project);
    }
  }

  /** For each file name, the first upstream (in order) whose page lists it. */
  private static Map<String, Integer> upstreamOf(Map<Integer, Record> records) {
    Map<String, Integer> of = new HashMap<>();
    records.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              if (e.getValue().found()) {
                e.getValue().page().files().forEach(f -> of.putIfAbsent(f.filename(), e.getKey()));
              }
            });
    return of;
  }

  /**
   * The page with the files a sync put in the cache that it does not list (from the sync's own page
   * {@code <cache>/<project>/index.html}), after its own.
   */
  private ProjectPage withSyncedFiles(ProjectPage page, Map<String, Integer> upstreamOf) {
    List<FileLink> synced = syncedFiles(page.name());
    if (synced.isEmpty()) {
      return page;
    }
    List<FileLink> files = new ArrayList<>(page.files());
    java.util.Set<String> names = new java.util.HashSet<>(upstreamOf.keySet());
    page.files().forEach(f -> names.add(f.filename()));
    for (FileLink file : synced) {
      if (names.add(file.filename())) {
        files.add(file);
      }
    }
    return new ProjectPage(page.name(), files);
  }

  private List<FileLink> syncedFiles(String project) {
    Path page = store.root().resolve(project).resolve("index.html");
    try {
      if (!Files.isRegularFile(page, LinkOption.NOFOLLOW_LINKS)) {
        return List.of();
      }
      String html = Files.readString(page, StandardCharsets.UTF_8);
      List<FileLink> files = new ArrayList<>();
      for (FileLink file : SimpleHtml.parse(project, html, page.toUri()).files()) {
        if (store.cached(file.filename()).isPresent()) {
          files.add(file.at("")); // served from the cache only
        }
      }
      return files;
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }

  /** The stored page limited to the files the cache holds, with the sync's own; made off loop. */
  private Result heldOnly(String project, Snapshot stored, Answered outcome) {
    HeldView view = held.get(project);
    Instant now = clock.instant();
    if (view == null || view.made().plus(HELD_VIEW_LIFE).isBefore(now)) {
      List<FileLink> files = new ArrayList<>();
      Map<String, Integer> upstreamOf = stored == null ? Map.of() : stored.upstreamOf();
      if (stored != null && stored.found()) {
        for (FileLink file : stored.resolved().files()) {
          if (store.cached(file.filename()).isPresent()) {
            files.add(file);
          }
        }
      }
      ProjectPage page =
          withKnownHashes(withSyncedFiles(new ProjectPage(project, files), upstreamOf));
      if (page.files().isEmpty() && (stored == null || !stored.found())) {
        view = new HeldView(null, now);
      } else {
        view =
            new HeldView(
                ServedPage.project(page, upstreamOf, stored == null ? now : stored.changed()), now);
      }
      if (view.page() != null) { // a name nothing holds is not remembered: any client can ask
        held.put(project, view);
      }
    }
    if (view.page() == null) {
      return new Result(null, offline ? Answered.NOT_FOUND : Answered.ERROR);
    }
    return new Result(view.page(), outcome);
  }

  /**
   * The root page: every project the cache knows (stored pages and the sync's), never upstream's.
   */
  public CompletableFuture<ServedPage> root() {
    HeldView view = root;
    Instant now = clock.instant();
    if (view != null && view.made().plus(HELD_VIEW_LIFE).isAfter(now)) {
      return CompletableFuture.completedFuture(view.page());
    }
    return CompletableFuture.supplyAsync(
        () -> {
          TreeSet<String> projects = new TreeSet<>();
          list(store.pages(), projects, true);
          list(store.root(), projects, false);
          ServedPage page = ServedPage.root(List.copyOf(projects), now);
          root = new HeldView(page, now);
          return page;
        },
        workers);
  }

  private static void list(Path dir, TreeSet<String> projects, boolean storedPages) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (storedPages && name.endsWith(".json")) {
          name = name.substring(0, name.length() - 5);
        } else if (storedPages || !Files.isRegularFile(entry.resolve("index.html"))) {
          continue;
        }
        final String candidate = name;
        dev.pypimirror.operator.simple.ProjectName.parse(name)
            .filter(n -> n.equals(candidate))
            .ifPresent(projects::add);
      }
    } catch (IOException e) {
      // nothing to list
    }
  }

  // --- stored on disk -------------------------------------------------------------------------

  private Path file(String project) {
    return store.pages().resolve(project + ".json");
  }

  private void save(Snapshot s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator json = MAPPER.getFactory().createGenerator(out)) {
      json.writeStartObject();
      json.writeNumberField("fetched", s.fetched().toEpochMilli());
      json.writeNumberField("changed", s.changed().toEpochMilli());
      json.writeArrayFieldStart("upstreams");
      for (var e : new java.util.TreeMap<>(s.records()).entrySet()) {
        json.writeStartObject();
        json.writeStringField("url", upstreams.get(e.getKey()).url().toString());
        json.writeBooleanField("found", e.getValue().found());
        if (e.getValue().etag() != null) {
          json.writeStringField("etag", e.getValue().etag());
        }
        if (e.getValue().lastModified() != null) {
          json.writeStringField("lastModified", e.getValue().lastModified());
        }
        if (e.getValue().found()) {
          json.writeFieldName("page");
          json.writeRawValue(
              new String(SimpleJson.projectPage(e.getValue().page()), StandardCharsets.UTF_8));
        }
        json.writeEndObject();
      }
      json.writeEndArray();
      json.writeEndObject();
    } catch (IOException e) {
      LOG.warn("cannot store the page of {}: {}", s.project(), e.toString());
      return;
    }
    try {
      Path temporary = Files.createTempFile(store.pages(), ".page-", ".tmp");
      try {
        Files.write(temporary, out.toByteArray());
        Files.move(temporary, file(s.project()), StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(temporary);
      }
    } catch (IOException e) {
      LOG.warn("cannot store the page of {}: {}", s.project(), e.toString());
    }
  }

  /** The stored snapshot of a project, from disk; null when there is none (or it is unreadable). */
  private Snapshot load(String project) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file(project));
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      LOG.warn("cannot read the stored page of {}: {}", project, e.toString());
      return null;
    }
    try {
      JsonNode root = MAPPER.readTree(bytes);
      List<Upstream> known = knownUpstreams(root.get("upstreams"));
      Map<Integer, Record> records = records(project, root.get("upstreams"), known);
      Snapshot s =
          stored(
              project,
              records,
              known.size(),
              Instant.ofEpochMilli(root.get("fetched").asLong()),
              Instant.ofEpochMilli(root.get("changed").asLong()));
      if (s != null) {
        memory.put(project, s);
      }
      return s;
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot read the stored page of {}: {}", project, e.toString());
      return null;
    }
  }

  /**
   * The upstreams whose stored pages count: offline, every stored one in its stored order, whatever
   * the upstreams are now (an offline proxy usually has none); online, the current ones.
   */
  private List<Upstream> knownUpstreams(JsonNode stored) {
    if (!offline) {
      return upstreams;
    }
    List<Upstream> known = new ArrayList<>();
    for (JsonNode node : stored) {
      known.add(new Upstream(known.size(), URI.create(node.get("url").asText()), null));
    }
    return known;
  }

  /** What each known upstream last said, by its number, from the stored answers. */
  private static Map<Integer, Record> records(String project, JsonNode stored, List<Upstream> known)
      throws IOException {
    Map<Integer, Record> records = new HashMap<>();
    for (JsonNode node : stored) {
      String url = node.get("url").asText();
      for (Upstream upstream : known) {
        if (upstream.url().toString().equals(url)) {
          records.put(upstream.number(), record(project, node, upstream));
        }
      }
    }
    return records;
  }

  private static Record record(String project, JsonNode node, Upstream upstream)
      throws IOException {
    boolean found = node.get("found").asBoolean();
    ProjectPage page =
        found
            ? allowed(
                upstream,
                SimpleJson.parse(
                    project, MAPPER.writeValueAsBytes(node.get("page")), upstream.url()))
            : null;
    return new Record(
        found,
        page,
        node.hasNonNull("etag") ? node.get("etag").asText() : null,
        node.hasNonNull("lastModified") ? node.get("lastModified").asText() : null);
  }

  /**
   * The snapshot the stored records resolve to; null when they do not (an upstream added since, or
   * one that failed: asked at once).
   */
  private Snapshot stored(
      String project,
      Map<Integer, Record> records,
      int upstreamCount,
      Instant fetched,
      Instant changed) {
    List<Answer> answers = new ArrayList<>();
    for (int i = 0; i < upstreamCount; i++) {
      Record r = records.get(i);
      answers.add(
          r == null
              ? new Answer.Failed()
              : r.found() ? new Answer.Found(r.page()) : new Answer.Missing());
    }
    Outcome outcome = resolution.resolve(project, answers);
    if (outcome instanceof Outcome.Page p) {
      return snapshot(
          project, Map.copyOf(records), p.page(), upstreamOf(records), fetched, changed);
    }
    if (outcome instanceof Outcome.NotFound) {
      return new Snapshot(
          project, Map.copyOf(records), null, Map.of(), fetched, changed, null, null);
    }
    return null;
  }
}
