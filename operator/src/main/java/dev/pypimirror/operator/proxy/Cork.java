package dev.pypimirror.operator.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.epoll.EpollChannelOption;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Holds a connection's partial segments back while a response's head and file go out (TCP_CORK), as
 * nginx's {@code tcp_nopush} does: the head then leaves in the file's first segment, not in a
 * packet of its own, which costs the client a wake-up and a read per file (on loopback, 1 MiB
 * wheels: about 7 % more per second, and a slower tail at a moderate rate, as nginx's:
 * docs/benchmarks.md). Linux's epoll transport only; on any other (NIO) the send goes as before.
 */
final class Cork {
  private Cork() {}

  /**
   * Corks the connection when its transport can; returns what uncorks it (run it once the file is
   * sent or failed: the last partial segment leaves then). Called on the connection's event loop.
   */
  static Runnable hold(HttpConnection connection) {
    if (!(connection instanceof ConnectionBase base)) {
      return () -> {};
    }
    Channel channel = base.channel();
    if (!set(channel, true)) {
      return () -> {};
    }
    return () -> set(channel, false);
  }

  /** Whether the option was set: false on a transport without it, or a channel already closed. */
  private static boolean set(Channel channel, boolean corked) {
    try {
      return channel.isOpen() && channel.config().setOption(EpollChannelOption.TCP_CORK, corked);
    } catch (ChannelException closedMeanwhile) {
      return false;
    }
  }
}
