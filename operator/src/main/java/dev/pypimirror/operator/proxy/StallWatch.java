package dev.pypimirror.operator.proxy;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * A check run on a context's event loop every quarter of a stall bound (so a stall is noticed
 * within a quarter of its bound after it is reached), until it says it is done or is cancelled.
 */
final class StallWatch {
  private final Vertx vertx;
  private final long timer;

  private StallWatch(Vertx vertx, long timer) {
    this.vertx = vertx;
    this.timer = timer;
  }

  /**
   * Starts {@code check} (called on the context) every quarter of {@code stall}; it returns false
   * once there is nothing more to watch. Called on the context.
   */
  static StallWatch start(Context context, Duration stall, BooleanSupplier check) {
    Vertx vertx = context.owner();
    long period = Math.max(1, stall.toMillis() / 4);
    return new StallWatch(
        vertx,
        vertx.setPeriodic(
            period,
            id -> {
              if (!check.getAsBoolean()) {
                vertx.cancelTimer(id);
              }
            }));
  }

  void cancel() {
    vertx.cancelTimer(timer);
  }
}
