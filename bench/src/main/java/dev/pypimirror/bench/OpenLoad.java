package dev.pypimirror.bench;

import io.netty.channel.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open-loop HTTPS load generator: requests leave at a fixed arrival rate whatever the answers
 * do, and each latency is measured from the request's scheduled send time, so a stalled server
 * shows as latency instead of as fewer requests (no coordinated omission). One Vert.x event loop
 * (Netty's native epoll, whose timers wake to the microsecond, and OpenSSL, to keep the generator's
 * own CPU low) both schedules and sends, over a few keep-alive connections; a request finding every
 * connection busy waits in the client's queue, and that wait counts.
 *
 * <p>Several targets (name, URL, body, and the pid of the process serving it) are measured in
 * interleaved rounds, so slow drift of a shared machine hits all of them alike. For each target it
 * reads the serving process's CPU time (utime + stime from /proc/PID/stat) around its phases and
 * divides by the answers: the server's own CPU per request.
 *
 * <p>Usage: {@code OpenLoad rate seconds rounds warmupSeconds connections name=url=body=pid ...}
 * Prints one line per target: {@code name answers=... cpu_us=... p50_ms=... p99_ms=...}.
 */
public final class OpenLoad {
  private static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(1) / Long.getLong("clk.tck", 100);

  private record Target(String name, String host, int port, String path, Buffer body, long pid) {
    static Target parse(String spec) throws IOException {
      String[] parts = spec.split("=", 4);
      var url = java.net.URI.create(parts[1]);
      return new Target(
          parts[0],
          url.getHost(),
          url.getPort(),
          url.getRawPath(),
          Buffer.buffer(Files.readAllBytes(Path.of(parts[2]))),
          Long.parseLong(parts[3]));
    }
  }

  /** What the phases of one target added up to. */
  private static final class Totals {
    long sent;
    long answered;
    long failed;
    long serverTicks;
    long serverSystemTicks;
    long ownTicks;
    final Map<String, Long> threadTicks = new java.util.TreeMap<>();
    long nanos;
    final List<long[]> latencies = new ArrayList<>();
  }

  private OpenLoad() {}

  public static void main(String[] args) throws Exception {
    int rate = Integer.parseInt(args[0]);
    int seconds = Integer.parseInt(args[1]);
    int rounds = Integer.parseInt(args[2]);
    int warmup = Integer.parseInt(args[3]);
    int connections = Integer.parseInt(args[4]);
    List<Target> targets = new ArrayList<>();
    for (int i = 5; i < args.length; i++) {
      targets.add(Target.parse(args[i]));
    }
    Vertx vertx =
        Vertx.vertx(
            new VertxOptions()
                // epoll's timers wake to the microsecond; NIO's selector to the millisecond
                .setPreferNativeTransport(true)
                .setEventLoopPoolSize(1)
                .setWorkerPoolSize(1));
    // one client per target, so each keeps its own warm connections to its own server
    Map<Target, HttpClient> clients = new LinkedHashMap<>();
    for (Target target : targets) {
      clients.put(
          target,
          vertx.createHttpClient(
              new HttpClientOptions()
                  .setSsl(true)
                  .setTrustAll(true) // the bench's own throwaway certificate
                  .setVerifyHost(false)
                  .setSslEngineOptions(new OpenSSLEngineOptions())
                  .setKeepAlive(true)
                  .setMaxPoolSize(connections)
                  .setConnectTimeout(5000)));
    }
    Context context = vertx.getOrCreateContext();
    for (Target target : targets) {
      // warm the server's code, the client's and the connections, then let the JIT settle
      phase(context, clients.get(target), target, rate, warmup, new Totals());
    }
    Map<Target, Totals> totals = new LinkedHashMap<>();
    targets.forEach(t -> totals.put(t, new Totals()));
    for (int round = 0; round < rounds; round++) {
      for (Target target : targets) {
        phase(context, clients.get(target), target, rate, seconds, totals.get(target));
      }
    }
    for (Target target : targets) {
      System.out.println(report(target.name(), totals.get(target)));
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** {@code rate} requests a second for {@code seconds}, each on its own schedule. */
  private static void phase(
      Context context, HttpClient client, Target target, int rate, int seconds, Totals totals)
      throws Exception {
    int count = rate * seconds;
    long period = TimeUnit.SECONDS.toNanos(1) / rate;
    long[] latencies = new long[count];
    Arrays.fill(latencies, -1);
    AtomicInteger failed = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(count);
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setHost(target.host())
            .setPort(target.port())
            .setURI(target.path())
            .putHeader("Content-Type", "application/json")
            .setTimeout(10_000);
    long[] serverBefore = userAndSystemTicks(target.pid());
    Map<String, Long> threadsBefore = ticksByThreadGroup(target.pid());
    long ownBefore = cpuTicks(ProcessHandle.current().pid());
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
    EventLoop loop = ((ContextInternal) context).nettyEventLoop();
    Runnable[] tick = {null};
    int[] next = {0};
    // the event loop sends every request whose time has come, then sleeps until the next one's:
    // no thread hand-off per request, and a late wake-up sends every overdue request at once,
    // each still timed from its own schedule
    tick[0] =
        () -> {
          long now = System.nanoTime();
          while (next[0] < count && start + next[0] * period <= now) {
            int index = next[0]++;
            long scheduled = start + index * period;
            client
                .request(options)
                .compose(request -> request.send(target.body()))
                .compose(
                    response -> {
                      if (response.statusCode() != 200) {
                        failed.incrementAndGet();
                      }
                      return response.end();
                    })
                .onComplete(
                    result -> {
                      if (result.succeeded()) {
                        latencies[index] = System.nanoTime() - scheduled;
                      } else {
                        failed.incrementAndGet();
                      }
                      done.countDown();
                    });
          }
          if (next[0] < count) {
            loop.schedule(
                tick[0], start + next[0] * period - System.nanoTime(), TimeUnit.NANOSECONDS);
          }
        };
    context.runOnContext(v -> tick[0].run());
    boolean finished = done.await(30, TimeUnit.SECONDS);
    long elapsed = System.nanoTime() - start;
    long[] serverAfter = userAndSystemTicks(target.pid());
    totals.serverTicks += serverAfter[0] + serverAfter[1] - serverBefore[0] - serverBefore[1];
    totals.serverSystemTicks += serverAfter[1] - serverBefore[1];
    ticksByThreadGroup(target.pid())
        .forEach(
            (group, ticks) ->
                totals.threadTicks.merge(
                    group, ticks - threadsBefore.getOrDefault(group, 0L), Long::sum));
    totals.ownTicks += cpuTicks(ProcessHandle.current().pid()) - ownBefore;
    totals.nanos += elapsed;
    totals.sent += count;
    totals.failed += failed.get() + (finished ? 0 : done.getCount());
    long[] answered = Arrays.stream(latencies).filter(l -> l >= 0).toArray();
    totals.answered += answered.length;
    totals.latencies.add(answered);
  }

  private static String report(String name, Totals totals) {
    long[] all = totals.latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    long answers = Math.max(1, totals.answered);
    return String.format(
        Locale.ROOT,
        "%s sent=%d answered=%d failed=%d rate=%.1f cpu_us=%.1f system_cpu_us=%.1f"
            + " loadgen_cpu_us=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f"
            + " threads_us=%s",
        name,
        totals.sent,
        totals.answered,
        totals.failed,
        totals.sent / (totals.nanos / 1e9),
        totals.serverTicks * TICK_NANOS / 1e3 / answers,
        totals.serverSystemTicks * TICK_NANOS / 1e3 / answers,
        totals.ownTicks * TICK_NANOS / 1e3 / answers,
        percentile(all, 50),
        percentile(all, 90),
        percentile(all, 99),
        percentile(all, 99.9),
        all.length == 0 ? Double.NaN : all[all.length - 1] / 1e6,
        totals.threadTicks.entrySet().stream()
            .filter(e -> e.getValue() > 0)
            .map(
                e ->
                    String.format(
                        Locale.ROOT,
                        "%s:%.1f",
                        e.getKey(),
                        e.getValue() * TICK_NANOS / 1e3 / answers))
            .collect(java.util.stream.Collectors.joining(",")));
  }

  private static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(p / 100 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
  }

  /** A process's user + system CPU time in clock ticks, its exited threads included. */
  static long cpuTicks(long pid) {
    long[] ticks = userAndSystemTicks(pid);
    return ticks[0] + ticks[1];
  }

  /** A process's user and system CPU time in clock ticks, its exited threads included. */
  static long[] userAndSystemTicks(long pid) {
    try {
      return userAndSystem(Files.readString(Path.of("/proc/" + pid + "/stat")));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the CPU time of process " + pid, e);
    }
  }

  private static long[] userAndSystem(String stat) {
    // the command name may hold spaces; the fields after it are fixed
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return new long[] {Long.parseLong(fields[11]), Long.parseLong(fields[12])};
  }

  /**
   * CPU ticks of the process's live threads by kind: Vert.x event loops, garbage collection (the
   * serial collector runs in the VM thread), the JIT compilers, the rest. A thread that exited
   * between two readings is missing from the second, so the groups can sum to less than the total.
   */
  static Map<String, Long> ticksByThreadGroup(long pid) {
    Map<String, Long> groups = new java.util.TreeMap<>();
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException gone) {
          continue;
        }
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        String group =
            name.startsWith("vert.x-eventloo")
                ? "eventloop"
                : name.startsWith("GC ") || name.startsWith("G1 ") || name.equals("VM Thread")
                    ? "gc+vm"
                    : name.startsWith("C1 ") || name.startsWith("C2 ") ? "jit" : "other";
        long[] ticks = userAndSystem(stat);
        groups.merge(group, ticks[0] + ticks[1], Long::sum);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list the threads of process " + pid, e);
    }
    return groups;
  }
}
