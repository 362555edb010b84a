package dev.pypimirror.operator.serving;

import io.netty.channel.unix.Errors;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.Set;

/**
 * Whether a connection's I/O error means only that the client went: it reset the connection or
 * closed it while bytes were still being sent (EPIPE, ECONNRESET, a channel closed meanwhile). Any
 * other error (a file that shrank while sent, EIO or ESTALE from a network volume) is the server's
 * and stays an error.
 */
public final class ClientLeft {
  /** What the JDK's NIO says for those, from the platform's own strings (the C locale's). */
  private static final Set<String> MESSAGES =
      Set.of("Broken pipe", "Connection reset by peer", "Connection reset");

  private ClientLeft() {}

  public static boolean is(Throwable error) {
    if (error instanceof ClosedChannelException) {
      return true;
    }
    if (error instanceof Errors.NativeIoException nativeError) { // the epoll transport's
      return nativeError.expectedErr() == Errors.ERRNO_EPIPE_NEGATIVE
          || nativeError.expectedErr() == Errors.ERRNO_ECONNRESET_NEGATIVE;
    }
    return error instanceof IOException
        && error.getMessage() != null
        && MESSAGES.contains(error.getMessage());
  }
}
