package dev.pypimirror.operator.serving;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.io.IOException;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;

/**
 * Keeps a client's leaving out of the error log. Vert.x logs at ERROR, with a stack trace, every
 * file of 1 MiB or more whose client went before its end (a broken pipe or a reset, from its {@code
 * ConnectionBase}, whatever handlers are set): that is a cancelled download, not a fault of the
 * server's, and one per cancelled pip would bury real errors. Such a line (that logger, an {@link
 * IOException}) is logged at DEBUG level only; every other line passes as it is. Installed by
 * {@link HttpServing} when it starts (not in logback.xml: the build's annotation processors read
 * that file before this class is compiled).
 */
public final class ClientLeftFilter extends TurboFilter {
  static final String CONNECTION_LOGGER = "io.vertx.core.net.impl.ConnectionBase";

  /** Adds the filter to Logback's context, once; nothing when the logging is not Logback's. */
  static synchronized void install() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context
        && context.getTurboFilterList().stream().noneMatch(ClientLeftFilter.class::isInstance)) {
      ClientLeftFilter filter = new ClientLeftFilter();
      filter.start();
      context.addTurboFilter(filter);
    }
  }

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level == null
        || !level.isGreaterOrEqual(Level.WARN)
        || !(t instanceof IOException)
        || !logger.getName().equals(CONNECTION_LOGGER)) {
      return FilterReply.NEUTRAL;
    }
    if (logger.isDebugEnabled()) {
      logger.debug(format, t); // the same line, at the level it deserves (not filtered again)
    }
    return FilterReply.DENY;
  }
}
