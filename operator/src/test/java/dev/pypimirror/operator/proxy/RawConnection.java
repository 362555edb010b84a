package dev.pypimirror.operator.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 connection written and read by hand, so a test sees the bytes as they come: which
 * source address it comes from, a response's head, and exactly what follows it (nothing a client
 * library would hide or wait for).
 */
final class RawConnection implements AutoCloseable {
  /** A response's status and header fields (names in lower case). */
  record Head(int status, Map<String, String> headers) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private final Socket socket;
  private final InputStream in;

  private RawConnection(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
  }

  /** A connection to {@code 127.0.0.1:port} from {@code from} (any loopback address). */
  static RawConnection open(String from, int port) throws IOException {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(from, 0));
    socket.connect(new InetSocketAddress("127.0.0.1", port));
    socket.setSoTimeout(30_000);
    return new RawConnection(socket);
  }

  /** Sends an HTTP/1.1 request with {@code headers} (name, value, ...) besides Host. */
  RawConnection send(String method, String path, String... headers) throws IOException {
    return sendAs("HTTP/1.1", method, path, headers);
  }

  /** Sends a request of that HTTP version with {@code headers} (name, value, ...) besides Host. */
  RawConnection sendAs(String version, String method, String path, String... headers)
      throws IOException {
    StringBuilder request =
        new StringBuilder(method + " " + path + " " + version + "\r\nHost: proxy\r\n");
    for (int i = 0; i < headers.length; i += 2) {
      request.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    socket
        .getOutputStream()
        .write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
    return this;
  }

  /** Reads one response head, up to and with its blank line, and nothing after it. */
  Head head() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("the connection ended within a head: " + bytes);
      }
      bytes.write(b);
      matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
    }
    String[] lines = bytes.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(
          lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
          lines[i].substring(colon + 1).strip());
    }
    return new Head(Integer.parseInt(lines[0].split(" ")[1]), headers);
  }

  /** Reads exactly {@code length} bytes. */
  byte[] body(long length) throws IOException {
    return in.readNBytes(Math.toIntExact(length));
  }

  /** Reads whatever comes until the connection ends or is reset; how much that was. */
  long drain() {
    return end().bytes();
  }

  /** How a connection's bytes ended: how many came, and whether it was reset or closed cleanly. */
  record Ending(long bytes, boolean reset) {}

  /** Reads whatever comes until the connection ends, telling a reset from a clean close. */
  Ending end() {
    long read = 0;
    byte[] buffer = new byte[65536];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        read += n;
      }
      return new Ending(read, false);
    } catch (java.net.SocketTimeoutException e) {
      throw new java.io.UncheckedIOException("the connection neither ended nor sent", e);
    } catch (IOException reset) {
      return new Ending(read, true);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
