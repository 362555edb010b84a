package dev.pypimirror.operator.serving;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Vert.x's ERROR for a client gone mid-file is DEBUG; every other line passes as it is. */
class ClientLeftFilterTest {
  private final Logger connection =
      (Logger) LoggerFactory.getLogger(ClientLeftFilter.CONNECTION_LOGGER);
  private final Logger other = (Logger) LoggerFactory.getLogger("io.vertx.core.impl.ContextImpl");
  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

  @BeforeEach
  void listen() {
    ClientLeftFilter.install();
    ClientLeftFilter.install(); // once is enough: a second server starting adds nothing
    lines.start();
    connection.addAppender(lines);
    other.addAppender(lines);
  }

  @AfterEach
  void stop() {
    connection.detachAppender(lines);
    other.detachAppender(lines);
    connection.setLevel(null);
  }

  private String logged() {
    return lines.list.stream()
        .map(line -> line.getLevel() + " " + line.getFormattedMessage())
        .toList()
        .toString();
  }

  @Test
  void aResetOfTheLoggingContextKeepsTheFilter() {
    LoggerContext context = new LoggerContext();
    ClientLeftFilter.install(context);

    context.reset(); // what switching to JSON logs does
    context.reset();

    assertThat(context.getTurboFilterList())
        .hasSize(1)
        .allMatch(ClientLeftFilter.class::isInstance);
  }

  @Test
  void whatCountsAsTheClientGoing() {
    assertThat(ClientLeft.is(new IOException("Broken pipe"))).isTrue();
    assertThat(ClientLeft.is(new SocketException("Connection reset"))).isTrue();
    assertThat(ClientLeft.is(new ClosedChannelException())).isTrue();
    assertThat(ClientLeft.is(new IOException("Input/output error"))).isFalse();
    assertThat(ClientLeft.is(new IOException((String) null))).isFalse();
    assertThat(ClientLeft.is(new IllegalStateException("Broken pipe"))).isFalse();
  }

  @Test
  void aBrokenPipeIsDebugOnlyAndShownWhenDebugIsOn() {
    connection.error("sendfile(..) failed: Broken pipe", new IOException("Broken pipe"));
    assertThat(lines.list).isEmpty();

    connection.setLevel(Level.DEBUG);
    connection.error("sendfile(..) failed: Broken pipe", new IOException("Broken pipe"));
    assertThat(logged()).isEqualTo("[DEBUG sendfile(..) failed: Broken pipe]");
  }

  @Test
  void otherErrorsAndOtherLoggersPassAsTheyAre() {
    connection.error("boom", new IllegalStateException("a bug"));
    connection.error("no throwable");
    connection.error( // the server's own failure: a cached file that shrank while it was sent
        "shrank", new IOException("Underlying file size 10 smaller then requested count 20"));
    other.error("Unhandled exception", new IOException("an I/O error elsewhere"));

    assertThat(logged())
        .isEqualTo("[ERROR boom, ERROR no throwable, ERROR shrank, ERROR Unhandled exception]");
    assertThat(
            ((LoggerContext) LoggerFactory.getILoggerFactory())
                .getTurboFilterList().stream().filter(ClientLeftFilter.class::isInstance).count())
        .isEqualTo(1);
  }
}
