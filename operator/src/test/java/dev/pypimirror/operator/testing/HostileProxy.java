package dev.pypimirror.operator.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * An HTTP proxy on loopback that answers for every host itself: a CONNECT tunnel is ended here and
 * TLS is spoken with its own certificate (a client that trusts it, e.g. through {@code PIP_CERT},
 * cannot tell), and every {@code /simple/...} path is answered from its own directory, laid out as
 * {@link IndexServer} serves one. Records each CONNECT and request line.
 */
public final class HostileProxy implements AutoCloseable {
  private final ServerSocket server;
  private final Path root;
  private final SSLContext tls;
  private final List<String> requests = new CopyOnWriteArrayList<>();

  private HostileProxy(Path root, SSLContext tls) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.root = root;
    this.tls = tls;
    Thread acceptor = new Thread(this::accept, "hostile-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Answers from {@code root}, speaking TLS inside tunnels with {@code tls}'s certificate. */
  public static HostileProxy start(Path root, SSLContext tls) throws IOException {
    return new HostileProxy(root, tls);
  }

  /** The proxy URL, e.g. http://127.0.0.1:PORT */
  public String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** Every CONNECT ({@code CONNECT host:port}) and request line ({@code GET /path}) it answered. */
  public List<String> requests() {
    return requests;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        Thread connection = new Thread(() -> serve(socket), "hostile-proxy-connection");
        connection.setDaemon(true);
        connection.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = new BufferedInputStream(socket.getInputStream());
      String head = readHead(in);
      if (head == null) {
        return;
      }
      String[] requestLine = head.split("\r\n", 2)[0].split(" ");
      if (requestLine[0].equals("CONNECT")) {
        requests.add("CONNECT " + requestLine[1]);
        OutputStream out = socket.getOutputStream();
        out.write(
            "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        // the client starts TLS only after the 200: nothing of it is buffered in {@code in}
        SSLSocket inner =
            (SSLSocket) tls.getSocketFactory().createSocket(socket, null, socket.getPort(), true);
        inner.setUseClientMode(false); // the server side of the tunnel
        InputStream tunnelIn = new BufferedInputStream(inner.getInputStream());
        for (String h = readHead(tunnelIn); h != null; h = readHead(tunnelIn)) {
          answer(h, inner.getOutputStream());
        }
      } else {
        for (String h = head; h != null; h = readHead(in)) {
          answer(h, socket.getOutputStream());
        }
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  /** Answers one request from the directory: the path of an absolute URL or of a tunnel. */
  private void answer(String head, OutputStream out) throws IOException {
    String target = head.split("\r\n", 2)[0].split(" ")[1];
    String path = target.replaceFirst("^[a-z]+://[^/]+", "").replaceFirst("[?#].*$", "");
    requests.add("GET " + path);
    Path file = IndexServer.served(root, path);
    if (file == null) {
      out.write(
          "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return;
    }
    byte[] body = Files.readAllBytes(file);
    String type = file.toString().endsWith(".html") ? "text/html" : "application/octet-stream";
    out.write(
        "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            .formatted(type, body.length)
            .getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    out.flush();
  }

  /** A request's head up to the blank line, or null at the end of the stream. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    for (int b = in.read(); b >= 0; b = in.read()) {
      head.write(b);
      if (b == '\n' && head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        return head.toString(StandardCharsets.ISO_8859_1);
      }
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
