package dev.pypimirror.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.impl.ConnectionBase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A connection is corked while a cached file goes out and uncorked after, on the epoll transport
 * the proxy runs on; on NIO, which has no TCP_CORK, nothing changes and nothing fails.
 */
class CorkTest {
  private Vertx vertx;

  @AfterEach
  void stop() throws Exception {
    if (vertx == null) {
      return; // skipped before it started: no epoll here
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** What the server saw of TCP_CORK: before, while held, and after it was let go. */
  private String corkStates(boolean nativeTransport) throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(nativeTransport));
    var server =
        vertx
            .createHttpServer()
            .requestHandler(
                request -> {
                  Channel channel = ((ConnectionBase) request.connection()).channel();
                  Object before = channel.config().getOption(EpollChannelOption.TCP_CORK);
                  Runnable uncork = Cork.hold(request.connection());
                  Object held = channel.config().getOption(EpollChannelOption.TCP_CORK);
                  uncork.run();
                  Object after = channel.config().getOption(EpollChannelOption.TCP_CORK);
                  request.response().end(before + " " + held + " " + after);
                })
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + "/"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void onEpollTheConnectionIsCorkedWhileHeldAndUncorkedAfter() throws Exception {
    assumeThat(Epoll.isAvailable()).as("Linux on x86-64 or aarch64").isTrue();

    assertThat(corkStates(true)).isEqualTo("false true false");
  }

  @Test
  void onNioNothingIsCorkedAndNothingFails() throws Exception {
    assertThat(corkStates(false)).isEqualTo("null null null");
  }

  @Test
  void aConnectionClosedMeanwhileIsLeftAlone() throws Exception {
    assumeThat(Epoll.isAvailable()).as("Linux on x86-64 or aarch64").isTrue();
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    var outcome = new CompletableFuture<String>();
    var server =
        vertx
            .createHttpServer()
            .requestHandler(
                request -> {
                  Runnable uncork = Cork.hold(request.connection());
                  request
                      .connection()
                      .close()
                      .onComplete(
                          closed -> {
                            try {
                              uncork.run(); // after the close: no exception
                              outcome.complete("uncorked after the close");
                            } catch (RuntimeException e) {
                              outcome.complete(e.toString());
                            }
                          });
                })
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    try {
      HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + "/"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (IOException expected) {
      // the server closed the connection without an answer
    }

    assertThat(outcome.get(10, TimeUnit.SECONDS)).isEqualTo("uncorked after the close");
  }
}
