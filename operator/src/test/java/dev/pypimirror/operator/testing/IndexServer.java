package dev.pypimirror.operator.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;

/**
 * Serves a directory as a simple index on loopback under /simple/, over http or https, and records
 * every path asked for.
 */
public final class IndexServer implements AutoCloseable {
  private final HttpServer server;
  private final Path root;
  private final List<String> requests = new CopyOnWriteArrayList<>();

  private IndexServer(HttpServer server, Path root) {
    this.server = server;
    this.root = root;
    server.createContext("/", this::handle);
    server.start();
  }

  public static IndexServer http(Path root) throws IOException {
    return new IndexServer(
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0), root);
  }

  public static IndexServer https(Path root, SSLContext tls) throws IOException {
    HttpsServer server =
        HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    return new IndexServer(server, root);
  }

  /** The index URL, e.g. http://127.0.0.1:PORT/simple/ */
  public String url() {
    String scheme = server instanceof HttpsServer ? "https" : "http";
    return scheme + "://127.0.0.1:" + server.getAddress().getPort() + "/simple/";
  }

  public List<String> requests() {
    return requests;
  }

  /** A loopback port with nothing listening: a dead index. */
  public static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** The file of {@code root} a path under /simple/ names (a folder: its index.html), or null. */
  static Path served(Path root, String path) {
    Path file =
        path.startsWith("/simple/")
            ? root.resolve(path.substring("/simple/".length())).normalize()
            : null;
    if (file != null && Files.isDirectory(file)) {
      file = file.resolve("index.html");
    }
    return file == null || !file.startsWith(root) || !Files.isRegularFile(file) ? null : file;
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    requests.add(path);
    Path file = served(root, path);
    if (file == null) {
      exchange.sendResponseHeaders(404, -1);
      exchange.close();
      return;
    }
    byte[] body = Files.readAllBytes(file);
    exchange
        .getResponseHeaders()
        .add(
            "Content-Type",
            file.toString().endsWith(".html") ? "text/html" : "application/octet-stream");
    exchange.sendResponseHeaders(200, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
