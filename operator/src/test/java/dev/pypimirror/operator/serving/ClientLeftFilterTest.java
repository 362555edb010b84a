package dev.pypimirror.operator.serving;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
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
    other.error("Unhandled exception", new IOException("an I/O error elsewhere"));

    assertThat(logged()).isEqualTo("[ERROR boom, ERROR no throwable, ERROR Unhandled exception]");
    assertThat(
            ((LoggerContext) LoggerFactory.getILoggerFactory())
                .getTurboFilterList().stream().filter(ClientLeftFilter.class::isInstance).count())
        .isEqualTo(1);
  }
}
