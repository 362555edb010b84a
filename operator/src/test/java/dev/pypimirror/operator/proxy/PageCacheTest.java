package dev.pypimirror.operator.proxy;

import static dev.pypimirror.operator.proxy.ProxyHttpTest.get;
import static dev.pypimirror.operator.proxy.ProxyHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pypimirror.operator.proxy.PageCache.Answered;
import dev.pypimirror.operator.proxy.ProxyEndToEndTest.Proxy;
import dev.pypimirror.operator.simple.Freshness;
import dev.pypimirror.operator.simple.Resolution;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The page cache stays bounded whatever clients ask: names no upstream has are remembered in memory
 * only (bounded) and never reach the disk or the root page, memory holds at most its pages and
 * bytes, a view made for a stale answer does not outlive the refresh, and a page served stale
 * because upstream is slow says so in one log line per refresh.
 */
class PageCacheTest {
  @TempDir Path scratch;
  FakeUpstream upstream;
  ExecutorService threads;
  Path cache;
  FileStore store;

  /** The stale answers due, run by the test instead of after 5 s. */
  final List<Runnable> staleDue = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    upstream = new FakeUpstream();
    threads = Executors.newFixedThreadPool(4);
    cache = Files.createDirectories(scratch.resolve("cache"));
    store = new FileStore(cache, 0.99, Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    upstream.close();
    threads.shutdownNow();
  }

  /** A project with {@code files} (small, made-up) wheels on the upstream. */
  void project(String name, int files) throws Exception {
    Path dir = Files.createDirectories(scratch.resolve("wheels").resolve(name));
    for (int i = 0; i < files; i++) {
      Path wheel = dir.resolve(name.replace('-', '_') + "-1." + i + "-py3-none-any.whl");
      Files.writeString(wheel, "wheel " + name + " " + i);
      upstream.add(name, wheel);
    }
  }

  PageCache pages(Duration ttl, PageCache.Bounds bounds) {
    List<Upstream> upstreams = Upstream.of(List.of(upstream.url()), Map.of(), f -> "");
    return new PageCache(
        upstreams,
        Resolution.FirstMatch,
        Freshness.of(ttl),
        false,
        new UpstreamClient(threads, "test", 8, 8, Duration.ofSeconds(30)),
        store,
        threads,
        staleDue::add,
        Clock.systemUTC(),
        new ProxyMetrics(upstreams.size(), store::fetchedBytes, store::full),
        bounds);
  }

  static PageCache.Result ask(PageCache pages, String project) throws Exception {
    return pages.project(project, null).get(30, TimeUnit.SECONDS);
  }

  static String rootJson(PageCache pages) throws Exception {
    return new String(
        pages
            .root()
            .get(30, TimeUnit.SECONDS)
            .body(dev.pypimirror.operator.simple.PageFormat.values()[0], false),
        StandardCharsets.UTF_8);
  }

  List<String> storedPages() throws Exception {
    try (var files = Files.list(cache.resolve(".proxy/pages"))) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void pageMemoryDropsTheLeastRecentlyUsedOverItsCountOrBytesAndKeepsNothingHeavierThanAll() {
    PageMemory<String> memory = new PageMemory<>(3, 10, String::length);
    memory.put("a", "aaa");
    memory.put("b", "bbb");
    memory.put("c", "cc");
    assertThat(memory.get("a")).isEqualTo("aaa"); // used: b is the least recent now
    memory.put("d", "dd");
    assertThat(memory.get("b")).isNull();
    assertThat(memory.size()).isEqualTo(3);
    memory.put("e", "eeeeee"); // c, a, d and e: c goes by count, then a by bytes
    assertThat(memory.get("c")).isNull();
    assertThat(memory.get("a")).isNull();
    assertThat(memory.bytes()).isEqualTo(8);

    memory.put("d", "d".repeat(11)); // heavier than the bound: not kept, the old one dropped
    assertThat(memory.get("d")).isNull();
    assertThat(memory.get("e")).isEqualTo("eeeeee");
    assertThat(memory.bytes()).isEqualTo(6);
    memory.update("e", old -> old + "!");
    assertThat(memory.bytes()).isEqualTo(7);
    memory.remove("e");
    assertThat(memory.size()).isZero();
    assertThat(memory.bytes()).isZero();
  }

  @Test
  void namesNoUpstreamHasStayInBoundedMemoryNeverOnDiskNorInTheRoot() throws Exception {
    project("proj-a", 1);
    PageCache pages = pages(Duration.ofSeconds(600), new PageCache.Bounds(100, 1 << 20, 5));

    assertThat(ask(pages, "proj-a").outcome()).isEqualTo(Answered.MISS);
    for (int i = 0; i < 40; i++) {
      assertThat(ask(pages, "nowhere-" + i).outcome()).isEqualTo(Answered.NOT_FOUND);
    }

    assertThat(storedPages()).containsExactly("proj-a.json");
    assertThat(pages.absentInMemory()).isEqualTo(5);
    assertThat(pages.pagesInMemory()).isEqualTo(1);
    assertThat(rootJson(pages)).contains("proj-a").doesNotContain("nowhere");
    // the last ones are remembered: not asked again within the minute
    long asked = upstream.count("/simple/nowhere-39/");
    assertThat(ask(pages, "nowhere-39").outcome()).isEqualTo(Answered.NOT_FOUND);
    assertThat(upstream.count("/simple/nowhere-39/")).isEqualTo(asked);
  }

  @Test
  void aStoredPageThatTurnsNotFoundLeavesTheDiskAndTheRoot() throws Exception {
    project("proj-a", 1);
    PageCache pages = pages(Duration.ZERO, PageCache.Bounds.DEFAULTS);
    assertThat(ask(pages, "proj-a").outcome()).isEqualTo(Answered.MISS);
    assertThat(storedPages()).containsExactly("proj-a.json");

    upstream.remove("proj-a");
    assertThat(ask(pages, "proj-a").outcome()).isEqualTo(Answered.NOT_FOUND);

    assertThat(storedPages()).isEmpty();
    assertThat(pages.pagesInMemory()).isZero();
    assertThat(pages.absentInMemory()).isEqualTo(1);
    staleDue.forEach(Runnable::run); // the refresh answered: the stale answer does nothing
    assertThat(rootJson(pages)).doesNotContain("proj-a");
  }

  @Test
  void startingRemovesTheNotFoundAnswersEarlierVersionsStored() throws Exception {
    project("proj-a", 1);
    Files.writeString(
        cache.resolve(".proxy/pages/old-miss.json"),
        "{\"fetched\":1,\"changed\":1,\"upstreams\":[{\"url\":\""
            + upstream.url()
            + "\",\"found\":false}]}");
    PageCache first = pages(Duration.ofSeconds(600), PageCache.Bounds.DEFAULTS);
    assertThat(ask(first, "proj-a").outcome()).isEqualTo(Answered.MISS);

    PageCache restarted = pages(Duration.ofSeconds(600), PageCache.Bounds.DEFAULTS);
    assertThat(restarted.tidy().get(30, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(storedPages()).containsExactly("proj-a.json");
    assertThat(rootJson(restarted)).contains("proj-a").doesNotContain("old-miss");
    // the stored page is served after the restart without asking upstream
    long asked = upstream.count("/simple/proj-a/");
    assertThat(ask(restarted, "proj-a").outcome()).isEqualTo(Answered.HIT);
    assertThat(upstream.count("/simple/proj-a/")).isEqualTo(asked);
  }

  @Test
  void memoryHoldsAtMostItsPagesAndBytesAndAPageOverTheBytesIsServedNotKept() throws Exception {
    for (char c = 'a'; c <= 'f'; c++) {
      project("proj-" + c, 1);
    }
    project("proj-big", 200);

    PageCache byCount = pages(Duration.ofSeconds(600), new PageCache.Bounds(3, 1 << 20, 10));
    for (char c = 'a'; c <= 'f'; c++) {
      assertThat(ask(byCount, "proj-" + c).outcome()).isEqualTo(Answered.MISS);
    }
    assertThat(byCount.pagesInMemory()).isEqualTo(3);
    assertThat(byCount.fresh("proj-f")).isPresent();
    assertThat(byCount.fresh("proj-a")).isEmpty();

    long onePage = byCount.bytesInMemory() / 3;
    long cap = onePage * 4;
    PageCache byBytes = pages(Duration.ofSeconds(600), new PageCache.Bounds(100, cap, 10));
    for (char c = 'a'; c <= 'f'; c++) {
      assertThat(ask(byBytes, "proj-" + c).outcome()).isIn(Answered.MISS, Answered.HIT);
      assertThat(byBytes.bytesInMemory()).isLessThanOrEqualTo(cap);
    }
    assertThat(byBytes.pagesInMemory()).isBetween(1, 4);

    PageCache.Result big = ask(byBytes, "proj-big");
    assertThat(big.outcome()).isEqualTo(Answered.MISS);
    assertThat(big.page().files()).isEqualTo(200);
    assertThat(byBytes.fresh("proj-big")).isEmpty();
    assertThat(byBytes.bytesInMemory()).isLessThanOrEqualTo(cap);
    // not kept, but stored: served again from disk
    assertThat(ask(byBytes, "proj-big").outcome()).isEqualTo(Answered.HIT);
  }

  @Test
  void aRevalidatedPageKeepsNoStaleViewOnceTheStaleWaitIsOver() throws Exception {
    project("proj-a", 2);
    PageCache pages = pages(Duration.ZERO, PageCache.Bounds.DEFAULTS);
    assertThat(ask(pages, "proj-a").outcome()).isEqualTo(Answered.MISS);
    for (int i = 0; i < 3; i++) {
      assertThat(ask(pages, "proj-a").outcome()).isEqualTo(Answered.REVALIDATED);
    }
    assertThat(staleDue).hasSize(3);

    staleDue.forEach(Runnable::run);

    assertThat(pages.heldViews()).isZero();
    assertThat(pages.pagesInMemory()).isEqualTo(1);
  }

  @Test
  void aSlowUpstreamServesTheStoredPageStaleWithOneLogLinePerRefresh() throws Exception {
    project("proj-a", 2);
    PageCache pages = pages(Duration.ZERO, PageCache.Bounds.DEFAULTS);
    assertThat(ask(pages, "proj-a").outcome()).isEqualTo(Answered.MISS);
    Logger log = (Logger) LoggerFactory.getLogger(PageCache.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    log.addAppender(logs);
    CountDownLatch held = new CountDownLatch(1);
    upstream.pagesHeld = held;
    try {
      List<CompletableFuture<PageCache.Result>> waiting = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        waiting.add(pages.project("proj-a", null));
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> staleDue.size() == 3);
      assertThat(waiting).noneMatch(CompletableFuture::isDone);

      staleDue.forEach(Runnable::run);

      for (var answer : waiting) {
        assertThat(answer.get(30, TimeUnit.SECONDS).outcome()).isEqualTo(Answered.STALE);
        assertThat(answer.get().page().files()).isZero(); // the cache holds none of its files
      }
      assertThat(pages.heldViews()).isEqualTo(1); // one view for the three
      assertThat(logs.list)
          .filteredOn(e -> e.getFormattedMessage().contains("no upstream answer within 5 s"))
          .singleElement()
          .satisfies(e -> assertThat(e.getFormattedMessage()).contains("project proj-a"));
    } finally {
      held.countDown();
      upstream.pagesHeld = null;
      log.detachAppender(logs);
    }
    // the refresh answered after all: the stale view is dropped with the old snapshot
    await().atMost(Duration.ofSeconds(30)).until(() -> pages.heldViews() == 0);
    assertThat(pages.fresh("proj-a")).isEmpty(); // TTL zero: never fresh
    assertThat(ask(pages, "proj-a").outcome()).isEqualTo(Answered.REVALIDATED);
  }

  @Test
  void throughTheProxyRandomNamesLeaveNoStoredPagesAndTheRootListsWhatUpstreamsHad()
      throws Exception {
    project("proj-a", 1);
    try (Proxy proxy =
        ProxyEndToEndTest.proxy(cache, Resolution.FirstMatch, false, Map.of(), upstream.url())) {
      assertThat(get(proxy.port(), "/simple/proj-a/").statusCode()).isEqualTo(200);
      for (int i = 0; i < 30; i++) {
        assertThat(get(proxy.port(), "/simple/random-" + i + "/").statusCode()).isEqualTo(404);
      }
      assertThat(storedPages()).containsExactly("proj-a.json");
      assertThat(text(get(proxy.port(), "/simple/"))).contains("proj-a").doesNotContain("random");
    }
  }
}
