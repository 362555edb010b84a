package dev.pypimirror.operator.serving;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggerContextListener;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Keeps a client's leaving out of the error log. Vert.x logs at ERROR, with a stack trace, every
 * file of 1 MiB or more whose client went before its end (a broken pipe or a reset, from its {@code
 * ConnectionBase}, whatever handlers are set): that is a cancelled download, not a fault of the
 * server's, and one per cancelled pip would bury real errors. Such a line (that logger, an error
 * that {@link ClientLeft} says is the client's going) is logged at DEBUG level only; every other
 * line passes as it is, a failed send of the server's own (a file that shrank, EIO) too. Installed
 * by {@link HttpServing} when it starts (not in logback.xml: the build's annotation processors read
 * that file before this class is compiled), and again after any reset of Logback's context.
 */
public final class ClientLeftFilter extends TurboFilter {
  static final String CONNECTION_LOGGER = "io.vertx.core.net.impl.ConnectionBase";

  /** Adds the filter to Logback's context, once; nothing when the logging is not Logback's. */
  static void install() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      install(context);
    }
  }

  static synchronized void install(LoggerContext context) {
    if (context.getTurboFilterList().stream().noneMatch(ClientLeftFilter.class::isInstance)) {
      addTo(context);
      context.addListener(new AddedAgainAfterReset());
    }
  }

  private static void addTo(LoggerContext context) {
    ClientLeftFilter filter = new ClientLeftFilter();
    filter.start();
    context.addTurboFilter(filter);
  }

  /** A reset (logging reconfigured, as `run --log-format json` does) empties the filter list. */
  private static final class AddedAgainAfterReset extends ContextAwareBase
      implements LoggerContextListener {
    @Override
    public boolean isResetResistant() {
      return true;
    }

    @Override
    public void onReset(LoggerContext context) {
      addTo(context);
    }

    @Override
    public void onStart(LoggerContext context) {}

    @Override
    public void onStop(LoggerContext context) {}

    @Override
    public void onLevelChange(Logger logger, Level level) {}
  }

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level == null
        || !level.isGreaterOrEqual(Level.WARN)
        || !ClientLeft.is(t)
        || !logger.getName().equals(CONNECTION_LOGGER)) {
      return FilterReply.NEUTRAL;
    }
    if (logger.isDebugEnabled()) {
      logger.debug(format, t); // the same line, at the level it deserves (not filtered again)
    }
    return FilterReply.DENY;
  }
}
