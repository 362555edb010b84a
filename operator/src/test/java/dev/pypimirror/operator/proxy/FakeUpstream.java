package dev.pypimirror.operator.proxy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback upstream index written for the proxy's tests, independent of the project's own page
 * code: PEP 503 HTML or PEP 691 JSON by the Accept header, files under /files/, every request
 * recorded. It can demand basic auth, serve a file with other bytes than its page's hash, and hold
 * file answers back for a while so that clients overlap.
 */
public final class FakeUpstream implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final Map<String, List<Path>> projects = new ConcurrentHashMap<>();
  public final List<String> requests = new CopyOnWriteArrayList<>();

  /** Each request's method and path. */
  final List<String> requestLines = new CopyOnWriteArrayList<>();

  public final List<String> authorizations = new CopyOnWriteArrayList<>();
  final Set<String> corrupt = ConcurrentHashMap.newKeySet();
  volatile String requiredAuthorization;
  volatile long fileDelayMillis;

  /** Files sent half, then held until the client goes: a transfer stalled mid-body. */
  final Set<String> stalled = ConcurrentHashMap.newKeySet();

  /** Files sent half at once, then the rest once their latch is counted down. */
  final Map<String, java.util.concurrent.CountDownLatch> heldAtHalf = new ConcurrentHashMap<>();

  /** Files sent half at once, then a KiB every 100 ms: an upstream that trickles. */
  final Set<String> trickled = ConcurrentHashMap.newKeySet();

  /** Projects whose page head is sent, then a byte of the body every 100 ms. */
  final Set<String> trickledPages = ConcurrentHashMap.newKeySet();

  /** Trickled answers whose client closed the connection before the end. */
  final AtomicInteger tricklesCutOff = new AtomicInteger();

  private final AtomicInteger filesInFlight = new AtomicInteger();

  /** The file requests it is answering now. */
  int filesInFlight() {
    return filesInFlight.get();
  }

  /** The most file requests it was answering at once. */
  final AtomicInteger mostFilesAtOnce = new AtomicInteger();

  /**
   * File answers are chunked, without Content-Length: a client knows their length only at the end.
   */
  volatile boolean filesWithoutLength;

  /** HEAD of a file answers without Content-Length, as a server that would send it chunked. */
  volatile boolean headWithoutLength;

  /** HEAD of a file answers with this as its Content-Length, when set. */
  volatile String headLength;

  /** While set, file answers wait until it is counted down (after they are counted in flight). */
  volatile java.util.concurrent.CountDownLatch filesHeld;

  /** While set, page answers wait until it is counted down: an upstream slower than the wait. */
  volatile java.util.concurrent.CountDownLatch pagesHeld;

  /** Pages give no hashes. */
  volatile boolean noHashes;

  /** The algorithm (hashlib's name) whose digest pages give for files and core metadata. */
  volatile String hashAlgorithm = "sha256";

  /** Files whose core metadata (PEP 658) the pages announce and /files/NAME.metadata serves. */
  final Map<String, byte[]> metadata = new ConcurrentHashMap<>();

  public FakeUpstream() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(threads);
    server.createContext("/", this::handle);
    server.start();
  }

  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/simple/";
  }

  public void add(String project, Path file) {
    projects.computeIfAbsent(normalize(project), k -> new CopyOnWriteArrayList<>()).add(file);
  }

  /** The project is gone: its page is a 404 from now on. */
  void remove(String project) {
    projects.remove(normalize(project));
  }

  public void requireBasic(String user, String password) {
    requiredAuthorization =
        "Basic "
            + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  long count(String pathPrefix) {
    return requests.stream().filter(r -> r.startsWith(pathPrefix)).count();
  }

  /**
   * A file of random bytes (seeded by its size) named as an sdist of {@code project}, {@code mib}
   * MiB long.
   */
  public static Path randomSdist(Path dir, String project, int mib) throws IOException {
    byte[] bytes = new byte[mib << 20];
    new java.util.Random(mib).nextBytes(bytes);
    return Files.write(dir.resolve(project.replace('-', '_') + "-1.0.tar.gz"), bytes);
  }

  static String normalize(String name) {
    return name.toLowerCase().replaceAll("[-_.]+", "-");
  }

  static String sha256(Path file) throws IOException {
    return sha256(Files.readAllBytes(file));
  }

  static String sha256(byte[] bytes) {
    return digest("sha256", bytes);
  }

  /** The hex digest by hashlib's name of the algorithm (sha256, sha512, md5). */
  static String digest(String algorithm, byte[] bytes) {
    String jdkName = Map.of("sha256", "SHA-256", "sha512", "SHA-512", "md5", "MD5").get(algorithm);
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance(jdkName).digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getRawPath();
      requests.add(path);
      requestLines.add(exchange.getRequestMethod() + " " + path);
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      if (authorization != null) {
        authorizations.add(authorization);
      }
      if (requiredAuthorization != null && !requiredAuthorization.equals(authorization)) {
        exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"test\"");
        exchange.sendResponseHeaders(401, -1);
        return;
      }
      if (path.startsWith("/simple/") && path.endsWith("/") && path.length() > 8) {
        page(exchange, path.substring(8, path.length() - 1));
      } else if (path.startsWith("/files/")) {
        file(exchange, path.substring(7));
      } else {
        exchange.sendResponseHeaders(404, -1);
      }
    }
  }

  private void page(HttpExchange exchange, String project) throws IOException {
    waitFor(pagesHeld);
    if (trickledPages.contains(project)) {
      byte[] body = new byte[1 << 20];
      java.util.Arrays.fill(body, (byte) ' ');
      exchange.getResponseHeaders().add("Content-Type", "text/html");
      exchange.sendResponseHeaders(200, body.length);
      trickle(exchange.getResponseBody(), body, 0, 1);
      return;
    }
    List<Path> files = projects.get(project);
    if (files == null) {
      exchange.sendResponseHeaders(404, -1);
      return;
    }
    String accept = String.valueOf(exchange.getRequestHeaders().getFirst("Accept"));
    boolean json = accept.startsWith("application/vnd.pypi.simple.v1+json");
    String algorithm = hashAlgorithm;
    Map<String, String> hashes = new LinkedHashMap<>();
    for (Path file : files) {
      hashes.put(file.getFileName().toString(), digest(algorithm, Files.readAllBytes(file)));
    }
    StringBuilder body = new StringBuilder();
    if (json) {
      List<String> entries = new ArrayList<>();
      hashes.forEach(
          (name, hash) ->
              entries.add(
                  "{\"filename\":\"%s\",\"url\":\"../../files/%s\",\"hashes\":{%s},\"requires-python\":\">=3\"%s}"
                      .formatted(
                          name,
                          name,
                          noHashes ? "" : "\"" + algorithm + "\":\"" + hash + "\"",
                          metadata.containsKey(name)
                              ? ",\"core-metadata\":{\""
                                  + algorithm
                                  + "\":\""
                                  + digest(algorithm, metadata.get(name))
                                  + "\"}"
                              : "")));
      body.append("{\"meta\":{\"api-version\":\"1.0\"},\"name\":\"")
          .append(project)
          .append("\",\"files\":[")
          .append(String.join(",", entries))
          .append("]}");
    } else {
      body.append("<!DOCTYPE html><html><body>\n");
      for (var e : hashes.entrySet()) {
        String name = e.getKey();
        body.append("<a href=\"/files/").append(name);
        if (!noHashes) {
          body.append('#').append(algorithm).append('=').append(e.getValue());
        }
        body.append("\" data-requires-python=\"&gt;=3\"");
        if (metadata.containsKey(name)) {
          body.append(" data-core-metadata=\"")
              .append(algorithm)
              .append('=')
              .append(digest(algorithm, metadata.get(name)))
              .append('"');
        }
        body.append('>').append(name).append("</a><br/>\n");
      }
      body.append("</body></html>\n");
    }
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    exchange
        .getResponseHeaders()
        .add("Content-Type", json ? "application/vnd.pypi.simple.v1+json" : "text/html");
    exchange.sendResponseHeaders(200, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  private void file(HttpExchange exchange, String name) throws IOException {
    if (name.endsWith(".metadata") && metadata.containsKey(name.substring(0, name.length() - 9))) {
      byte[] bytes = metadata.get(name.substring(0, name.length() - 9));
      exchange.sendResponseHeaders(200, bytes.length);
      exchange.getResponseBody().write(bytes);
      return;
    }
    Path found = null;
    for (List<Path> files : projects.values()) {
      for (Path file : files) {
        if (file.getFileName().toString().equals(name)) {
          found = file;
        }
      }
    }
    if (found == null) {
      exchange.sendResponseHeaders(404, -1);
      return;
    }
    mostFilesAtOnce.accumulateAndGet(filesInFlight.incrementAndGet(), Math::max);
    try {
      waitFor(filesHeld);
      if (fileDelayMillis > 0) {
        sleep(fileDelayMillis);
      }
      byte[] bytes = Files.readAllBytes(found);
      if (corrupt.contains(name)) {
        bytes[bytes.length / 2] ^= 0x55;
      }
      exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
      if (exchange.getRequestMethod().equals("HEAD")) {
        if (!headWithoutLength) {
          exchange
              .getResponseHeaders()
              .add(
                  "Content-Length",
                  headLength != null ? headLength : Integer.toString(bytes.length));
        }
        exchange.sendResponseHeaders(200, -1);
        return;
      }
      exchange.sendResponseHeaders(200, filesWithoutLength ? 0 : bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        if (trickled.contains(name)) {
          out.write(bytes, 0, bytes.length / 2);
          trickle(out, bytes, bytes.length / 2, 1024);
          return;
        }
        var held = heldAtHalf.get(name);
        if (held != null) {
          out.write(bytes, 0, bytes.length / 2);
          out.flush();
          try {
            held.await(60, java.util.concurrent.TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          out.write(bytes, bytes.length / 2, bytes.length - bytes.length / 2);
          return;
        }
        if (stalled.contains(name)) {
          out.write(bytes, 0, bytes.length / 2);
          out.flush();
          sleep(60_000); // until the test ends and closes the server
        }
        out.write(bytes);
      }
    } finally {
      filesInFlight.decrementAndGet();
    }
  }

  /** Waits until {@code held} (when set) is counted down, at most 30 s. */
  private static void waitFor(java.util.concurrent.CountDownLatch held) {
    if (held != null) {
      try {
        held.await(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Writes the rest of {@code bytes} from {@code at}, {@code step} bytes every 100 ms. */
  private void trickle(OutputStream out, byte[] bytes, int at, int step) {
    try {
      for (int i = at; i < bytes.length; i += step) {
        out.write(bytes, i, Math.min(step, bytes.length - i));
        out.flush();
        Thread.sleep(100);
      }
    } catch (IOException e) {
      tricklesCutOff.incrementAndGet(); // the client hung up
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow(); // ends a stalled answer
  }
}
