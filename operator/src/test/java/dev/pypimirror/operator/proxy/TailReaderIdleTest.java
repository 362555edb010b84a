package dev.pypimirror.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader sent the rest of a checked file by the kernel, behind a real Vert.x server with a short
 * idle time-out: a slow client that never stops reading gets the whole file. Vert.x's time-out
 * counts a write only once it has finished, so the rest sent as one region was cut in the middle (9
 * of 12 MiB) while its bytes flowed; it goes in regions of {@link TailReader#REGION} now.
 */
class TailReaderIdleTest {
  @TempDir Path dir;
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aSlowClientSentTheRestByTheKernelIsNotCutByTheIdleTimeOut() throws Exception {
    byte[] bytes = new byte[12 << 20];
    new Random(12).nextBytes(bytes);
    GrowingFile file = GrowingFile.open(Files.write(dir.resolve("t.part"), bytes), bytes.length);
    AtomicReference<TailReader.Ended> how = new AtomicReference<>();
    HttpServer server =
        vertx
            .createHttpServer(
                new HttpServerOptions().setIdleTimeout(3).setIdleTimeoutUnit(TimeUnit.SECONDS))
            .requestHandler(
                request ->
                    TailReader.serve(
                        vertx.getOrCreateContext(),
                        request,
                        file,
                        0,
                        Duration.ofSeconds(30),
                        n -> {},
                        () ->
                            request
                                .response()
                                .putHeader("Content-Length", Integer.toString(bytes.length)),
                        how::set))
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    file.wrote(bytes.length - 1); // all but the last byte: readable, not yet checked
    try (Socket socket = new Socket()) {
      socket.setReceiveBufferSize(32 << 10);
      socket.connect(new InetSocketAddress("127.0.0.1", server.actualPort()));
      socket.setSoTimeout(30_000);
      socket
          .getOutputStream()
          .write("GET /f HTTP/1.1\r\nHost: t\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      for (int matched = 0; matched < 4; ) { // the head, to its blank line
        int c = in.read();
        assertThat(c).as("the head").isNotNegative();
        matched = c == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : c == '\r' ? 1 : 0;
      }
      Thread.sleep(200); // the client has its first chunks; now the file is whole and checked
      file.wrote(1);
      file.ended(GrowingFile.End.VERIFIED);

      ByteArrayOutputStream body = new ByteArrayOutputStream();
      byte[] buffer = new byte[8 << 10];
      long started = System.nanoTime();
      for (int n; body.size() < bytes.length && (n = in.read(buffer)) >= 0; ) {
        body.write(buffer, 0, n);
        Thread.sleep(5); // about 1.5 MB/s: slow, but it never stops reading
      }
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .as("longer than the idle time-out")
          .isGreaterThan(Duration.ofSeconds(3));
      assertThat(body.size()).isEqualTo(bytes.length);
      assertThat(Arrays.equals(body.toByteArray(), bytes)).as("the file's bytes").isTrue();
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(how).hasValue(TailReader.Ended.COMPLETE));
    }
  }
}
