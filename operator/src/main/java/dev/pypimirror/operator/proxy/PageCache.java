package dev.pypimirror.operator.proxy;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pypimirror.operator.cache.DistributionFile;
import dev.pypimirror.operator.serving.LogThrottle;
import dev.pypimirror.operator.settings.Defaults;
import dev.pypimirror.operator.simple.FileHash;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Project pages: asked for upstream only when the stored one is older than the TTL (whatever the
 * client's Cache-Control says), conditionally with the stored validators, one request per project
 * at a time; kept in memory (bounded in pages and bytes, least recently asked dropped first) and
 * stored in {@code <cache>/.proxy/pages/} so a restart serves them too. When the upstreams fail or
 * do not answer within {@link #STALE_WAIT}, a stored page is served stale (listing only the files
 * the cache holds) while the refresh goes on; a project never seen is then an error at once. "Not
 * found" is remembered for a short while, in memory only (bounded in count): any client can ask for
 * any name, so nothing about a name no upstream has reaches the disk. Offline, nothing is asked
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

  /** What memory holds, whatever clients ask for. */
  record Bounds(int pages, long bytes, int notFound) {
    static final Bounds DEFAULTS =
        new Bounds(
            Defaults.PROXY_PAGE_MEMORY_PAGES.defaultValue(),
            Defaults.PROXY_PAGE_MEMORY_BYTES.defaultValue(),
            Defaults.PROXY_NOT_FOUND_KEPT.defaultValue());
  }

  /** Heap a parsed file link takes besides its strings (objects, map, references), roughly. */
  private static final long LINK_OVERHEAD = 256;

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

  /**
   * What memory keeps of a project that has a page: its snapshot (null when only a view of the
   * sync's files is known, offline or stale) and the view limited to the files held, made when
   * upstream could not be asked; {@code snapshotBytes} estimated once, off the event loop.
   */
  private record Kept(Snapshot snapshot, long snapshotBytes, HeldView held) {
    long bytes() {
      return snapshotBytes + (held == null || held.page() == null ? 0 : held.page().bytes());
    }
  }

  private final List<Upstream> upstreams;
  private final Resolution resolution;
  private final Freshness freshness;
  private final boolean offline;
  private final UpstreamClient client;
  private final FileStore store;
  private final Executor workers;
  private final Clock clock;
  private final ProxyMetrics metrics;
  private final Executor staleTimer;
  private final SingleFlight<String, Snapshot> flight = new SingleFlight<>();

  /** Failure lines while upstreams are down: bounded, however many names clients ask for. */
  private final LogThrottle failureLines =
      new LogThrottle(Duration.ofMinutes(1), 1024, System::nanoTime);

  private final PageMemory<Kept> memory;

  /** Projects without a page: no upstream has them, or they were never seen and upstream failed. */
  private final PageMemory<Snapshot> absent;

  /** The refresh whose slowness was logged, per project: one line per refresh. */
  private final Map<String, CompletableFuture<Snapshot>> slowLogged = new ConcurrentHashMap<>();

  private volatile HeldView root;
  private volatile CompletableFuture<?> tidied = CompletableFuture.completedFuture(null);

  /**
   * @param staleTimer runs a task once {@link #STALE_WAIT} has passed ({@link #afterStaleWait})
   * @param bounds what memory holds ({@link Bounds#DEFAULTS})
   */
  PageCache(
      List<Upstream> upstreams,
      Resolution resolution,
      Freshness freshness,
      boolean offline,
      UpstreamClient client,
      FileStore store,
      Executor workers,
      Executor staleTimer,
      Clock clock,
      ProxyMetrics metrics,
      Bounds bounds) {
    this.upstreams = List.copyOf(upstreams);
    this.resolution = resolution;
    this.freshness = freshness;
    this.offline = offline;
    this.client = client;
    this.store = store;
    this.workers = workers;
    this.clock = clock;
    this.metrics = metrics;
    this.staleTimer = staleTimer;
    this.memory = new PageMemory<>(bounds.pages(), bounds.bytes(), Kept::bytes);
    this.absent = new PageMemory<>(bounds.notFound(), Long.MAX_VALUE, s -> 0);
  }

  /** Runs tasks on {@code workers} once {@link #STALE_WAIT} has passed. */
  static Executor afterStaleWait(Executor workers) {
    return CompletableFuture.delayedExecutor(STALE_WAIT.toMillis(), TimeUnit.MILLISECONDS, workers);
  }

  /** A fresh page from memory, without any I/O; empty when anything more is needed. */
  public Optional<ServedPage> fresh(String project) {
    Kept kept = memory.get(project);
    Snapshot s = kept == null ? null : kept.snapshot();
    if (s == null || offline || !isFresh(s)) {
      return Optional.empty();
    }
    return Optional.of(s.served());
  }

  /** The project's page as held in memory, when one with files is (no I/O, never refreshed). */
  public Optional<ServedPage> held(String project) {
    Kept kept = memory.get(project);
    Snapshot s = kept == null ? null : kept.snapshot();
    return s == null || !s.found() ? Optional.empty() : Optional.ofNullable(s.served());
  }

  /**
   * The page of a (normalized) project, for {@code client} (its address: a fetch upstream counts
   * against its share of the connections; null: nobody's).
   */
  public CompletableFuture<Result> project(String project, String clientAddress) {
    Snapshot inMemory = inMemory(project);
    CompletableFuture<Snapshot> known =
        inMemory != null
            ? CompletableFuture.completedFuture(inMemory)
            : CompletableFuture.supplyAsync(() -> load(project), workers);
    return known.thenCompose(s -> decide(project, s, clientAddress));
  }

  private Snapshot inMemory(String project) {
    Kept kept = memory.get(project);
    return kept != null && kept.snapshot() != null ? kept.snapshot() : absent.get(project);
  }

  /** Keeps what is now known of a project: a page in memory, an absence among the absent. */
  private void remember(Snapshot s) {
    if (s.found()) {
      Kept kept = new Kept(s, bytes(s), null);
      absent.remove(s.project());
      memory.put(s.project(), kept);
    } else {
      memory.remove(s.project());
      absent.put(s.project(), s);
    }
  }

  /**
   * Roughly the heap a snapshot takes: its rendered page (each format, plain and gzipped) and the
   * parsed pages behind it (each upstream's, the resolved one, the rendered one's links).
   */
  private static long bytes(Snapshot s) {
    java.util.Set<ProjectPage> pages =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    pages.add(s.resolved());
    s.records().values().forEach(r -> pages.add(r.page()));
    long bytes = s.served() == null ? 0 : s.served().bytes() + parsedBytes(s.resolved());
    for (ProjectPage page : pages) {
      bytes += parsedBytes(page);
    }
    return bytes;
  }

  private static long parsedBytes(ProjectPage page) {
    if (page == null) {
      return 0;
    }
    long bytes = 0;
    for (FileLink file : page.files()) {
      bytes += LINK_OVERHEAD + 2L * (file.filename().length() + file.url().length());
    }
    return bytes;
  }

  /** Pages in memory (with or without a stale view), for tests. */
  int pagesInMemory() {
    return memory.size();
  }

  /** What the pages in memory take, estimated, for tests. */
  long bytesInMemory() {
    return memory.bytes();
  }

  /** Views of the files held (stale or offline pages) in memory, for tests. */
  int heldViews() {
    return memory.count(kept -> kept.held() != null);
  }

  /** Projects remembered without a page, for tests. */
  int absentInMemory() {
    return absent.size();
  }

  private boolean isFresh(Snapshot s) {
    return freshness.decide(s.found(), s.fetched(), clock.instant()) == Freshness.Decision.FRESH;
  }

  private CompletableFuture<Result> decide(String project, Snapshot stored, String clientAddress) {
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
    CompletableFuture<Snapshot> refresh =
        flight.run(project, () -> refresh(project, stored, clientAddress));
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
    CompletableFuture<Result> stale = new CompletableFuture<>();
    staleTimer.execute(
        () -> {
          if (fromRefresh.isDone()) {
            return; // the refresh answered: no stale page, no view of it kept
          }
          try {
            logSlow(project, refresh);
            stale.complete(heldOnly(project, stored, Answered.STALE));
          } catch (RuntimeException e) {
            stale.completeExceptionally(e);
          }
        });
    return fromRefresh.applyToEither(stale, r -> r);
  }

  /** Says once per refresh (however many clients wait for it) that its stored page goes stale. */
  private void logSlow(String project, CompletableFuture<Snapshot> refresh) {
    if (!refresh.isDone() && slowLogged.putIfAbsent(project, refresh) == null) {
      LOG.warn(
          "project {}: no upstream answer within {} s; serving the stored page stale while the"
              + " refresh goes on",
          project,
          STALE_WAIT.toSeconds());
      refresh.whenComplete((s, e) -> slowLogged.remove(project, refresh));
    }
  }

  /** Asks the upstreams in order (as the resolution needs them) and stores what they say. */
  private CompletableFuture<Snapshot> refresh(
      String project, Snapshot stored, String clientAddress) {
    return ask(project, stored, new ArrayList<>(), new HashMap<>(), clientAddress)
        .thenApplyAsync(
            answers -> {
              Snapshot next = resolve(project, stored, answers.answers(), answers.records());
              remember(next);
              if (next.retryAfter() == null) {
                if (next.found()) {
                  save(next);
                } else {
                  forget(project);
                }
              } else if (failureLines.mayLog(next.found() ? "stale " + project : "unseen")) {
                // a stored page's project once a minute each; never-seen names (any client can
                // ask for new ones) once a minute in all
                LOG.warn(
                    "project {}: upstreams unavailable{}",
                    project,
                    next.found()
                        ? "; serving the stored page stale"
                        : " (other projects never seen are not logged again within a minute)");
              }
              return next;
            },
            workers);
  }

  private record Asked(List<Answer> answers, Map<Integer, Record> records) {}

  private CompletableFuture<Asked> ask(
      String project,
      Snapshot stored,
      List<Answer> answers,
      Map<Integer, Record> records,
      String clientAddress) {
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
            revalidate ? before.lastModified() : null,
            clientAddress)
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
                if (failureLines.mayLog("upstream " + upstream.number())) {
                  LOG.warn(
                      "{}: page of {} failed: {} (more of this upstream's failures within a"
                          + " minute are counted in pypimirror_proxy_upstream_errors_total, not"
                          + " logged)",
                      upstream,
                      project,
                      reason);
                }
                metrics.upstreamError(upstream.number());
                answers.add(new Answer.Failed());
                if (before != null) {
                  records.put(i, before);
                }
              }
              return ask(project, stored, answers, records, clientAddress);
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
    Map<String, Integer> upstreamOf = upstreamOf(records, answers);
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
    ProjectPage withLocal = withKnownHashes(withSyncedFiles(resolved, upstreamOf), upstreamOf);
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

  /**
   * Files whose page gave no sha256 get the one computed when the proxy fetched them, when the
   * fetched file is the one the page lists: checked against the same other hash the page gives, or,
   * when that cannot be compared, from the upstream that lists it now (a file of that name another
   * upstream served is not this one).
   */
  private ProjectPage withKnownHashes(ProjectPage page, Map<String, Integer> upstreamOf) {
    List<FileLink> files = new ArrayList<>();
    for (FileLink file : page.files()) {
      int upstream = upstreamOf.getOrDefault(file.filename(), -1);
      Optional<String> known =
          file.sha256() != null
              ? Optional.empty()
              : store.knownSha256(
                  file.filename(),
                  FileHash.expected(file.hashes()).orElse(null),
                  upstream < 0 ? null : upstreams.get(upstream).url().toString());
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
    Kept kept = memory.get(project);
    Snapshot s = kept == null ? null : kept.snapshot();
    if (s != null) {
      remember(
          snapshot(project, s.records(), s.resolved(), s.upstreamOf(), s.fetched(), s.changed()));
    }
  }

  /** For each file name, the first upstream (in order) whose page lists it. */
  /**
   * Which upstream each file name of the resolved page comes from: the first upstream that answered
   * with it this time. A failed upstream's kept record is not one of them: the page's link for the
   * name then comes from another upstream, and the file is fetched (with credentials) as that
   * upstream's, never as the failed one's.
   */
  static Map<String, Integer> upstreamOf(Map<Integer, Record> records, List<Answer> answers) {
    Map<String, Integer> of = new HashMap<>();
    records.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              int i = e.getKey();
              boolean answered = i < answers.size() && answers.get(i) instanceof Answer.Found;
              if (answered && e.getValue().found()) {
                e.getValue().page().files().forEach(f -> of.putIfAbsent(f.filename(), i));
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
    Snapshot base = stored != null && stored.found() ? stored : null;
    Kept kept = memory.get(project);
    HeldView view = kept != null && kept.snapshot() == base ? kept.held() : null;
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
          withKnownHashes(withSyncedFiles(new ProjectPage(project, files), upstreamOf), upstreamOf);
      if (page.files().isEmpty() && (stored == null || !stored.found())) {
        view = new HeldView(null, now);
      } else {
        view =
            new HeldView(
                ServedPage.project(page, upstreamOf, stored == null ? now : stored.changed()), now);
      }
      if (view.page() != null) { // a name nothing holds is not remembered: any client can ask
        keep(project, base, view);
      }
    }
    if (view.page() == null) {
      return new Result(null, offline ? Answered.NOT_FOUND : Answered.ERROR);
    }
    return new Result(view.page(), outcome);
  }

  /**
   * Keeps a view with the snapshot it was made from, unless memory moved on meanwhile (a refresh
   * answered): a view outlives neither its snapshot nor the bounds.
   */
  private void keep(String project, Snapshot base, HeldView view) {
    memory.update(
        project,
        current -> {
          Snapshot now = current == null ? null : current.snapshot();
          if (now != base) {
            return current;
          }
          return new Kept(base, current == null ? 0 : current.snapshotBytes(), view);
        });
  }

  /**
   * The root page: every project the cache knows, stored pages (projects some upstream listed) and
   * the sync's, never upstream's; no name that no upstream has.
   */
  public CompletableFuture<ServedPage> root() {
    HeldView view = root;
    Instant now = clock.instant();
    if (view != null && view.made().plus(HELD_VIEW_LIFE).isAfter(now)) {
      return CompletableFuture.completedFuture(view.page());
    }
    return tidied.handleAsync(
        (done, e) -> {
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

  /** Removes the stored page of a project no upstream has any more. */
  private void forget(String project) {
    try {
      Files.deleteIfExists(file(project));
    } catch (IOException e) {
      LOG.warn("cannot remove the stored page of {}: {}", project, e.toString());
    }
  }

  /**
   * Removes, in the background, the stored answers that no upstream had the project (earlier
   * versions stored those too); the root page waits for it. Once, at start.
   */
  CompletableFuture<Integer> tidy() {
    CompletableFuture<Integer> removed =
        CompletableFuture.supplyAsync(
            () -> {
              int count = 0;
              try (DirectoryStream<Path> entries =
                  Files.newDirectoryStream(store.pages(), "*.json")) {
                for (Path entry : entries) {
                  if (!anyFound(entry)) {
                    Files.deleteIfExists(entry);
                    count++;
                  }
                }
              } catch (IOException | RuntimeException e) {
                LOG.warn("cannot tidy the stored pages: {}", e.toString());
              }
              if (count > 0) {
                LOG.info("removed {} stored pages of projects no upstream had", count);
              }
              return count;
            },
            workers);
    tidied = removed;
    return removed;
  }

  /**
   * Whether a stored page says some upstream had the project; read only up to the first that did
   * ({@code found} comes before the page). Unreadable: true, so that it is left for {@link #load}.
   */
  private static boolean anyFound(Path stored) {
    try (JsonParser json = MAPPER.getFactory().createParser(stored.toFile())) {
      for (JsonToken token = json.nextToken(); token != null; token = json.nextToken()) {
        if (token == JsonToken.FIELD_NAME
            && json.currentName().equals("found")
            && json.nextToken() == JsonToken.VALUE_TRUE) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private void save(Snapshot s) {
    if (s.resolved().files().isEmpty() && !Files.exists(file(s.project()))) {
      return; // a page without files stays in memory: it adds nothing a restart would miss
    }
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
      boolean anyFound = false;
      for (JsonNode upstream : root.get("upstreams")) {
        anyFound |= upstream.path("found").asBoolean();
      }
      if (!anyFound) {
        forget(project); // an earlier version stored that no upstream had it
        return null;
      }
      List<Upstream> known = knownUpstreams(root.get("upstreams"));
      Map<Integer, Record> records = records(project, root.get("upstreams"), known);
      Snapshot s =
          stored(
              project,
              records,
              known.size(),
              Instant.ofEpochMilli(root.get("fetched").asLong()),
              Instant.ofEpochMilli(root.get("changed").asLong()));
      if (s != null && s.found()) {
        remember(s);
        return s;
      }
      return null; // the upstreams that had it are not asked any more: ask the current ones
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
          project, Map.copyOf(records), p.page(), upstreamOf(records, answers), fetched, changed);
    }
    if (outcome instanceof Outcome.NotFound) {
      return new Snapshot(
          project, Map.copyOf(records), null, Map.of(), fetched, changed, null, null);
    }
    return null;
  }
}
