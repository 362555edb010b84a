package dev.pypimirror.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * A client's share of the upstream connections: its places, its own line, and an entry only while
 * it has requests holding or waiting for a place.
 */
class UpstreamSharesTest {
  static final Duration LONG = Duration.ofSeconds(30);

  @Test
  void beyondItsShareAClientWaitsInTurnWhileOthersHaveTheirs() throws Exception {
    UpstreamShares shares = new UpstreamShares(2);
    Runnable a1 = shares.acquire("a", LONG).getNow(null);
    Runnable a2 = shares.acquire("a", LONG).getNow(null);
    CompletableFuture<Runnable> a3 = shares.acquire("a", LONG);
    CompletableFuture<Runnable> a4 = shares.acquire("a", LONG);
    assertThat(a1).isNotNull();
    assertThat(a2).isNotNull();
    assertThat(a3).isNotDone();
    assertThat(shares.acquire("b", LONG)).isCompleted(); // another client's share is its own
    assertThat(shares.inUse("a")).isEqualTo(2);

    a1.run();
    a1.run(); // once only: a4 still waits
    assertThat(a3).isCompleted();
    assertThat(a4).isNotDone();
    a2.run();
    assertThat(a4).isCompleted();
    assertThat(shares.inUse("a")).isEqualTo(2);
  }

  @Test
  void aClientIsRememberedOnlyWhileItHoldsOrWaitsForAPlace() throws Exception {
    UpstreamShares shares = new UpstreamShares(1);
    List<Runnable> held = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      held.add(shares.acquire("10.0." + (i >> 8) + "." + (i & 255), LONG).getNow(null));
    }
    assertThat(shares.clients()).isEqualTo(10_000);
    held.forEach(Runnable::run);
    assertThat(shares.clients()).isZero();

    // one waiting past its patience: its entry stays while the holder holds, then goes
    Runnable holder = shares.acquire("c", LONG).getNow(null);
    CompletableFuture<Runnable> late = shares.acquire("c", Duration.ofMillis(1));
    assertThatThrownBy(() -> late.get(30, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(TimeoutException.class);
    assertThat(shares.clients()).isEqualTo(1);
    holder.run();
    assertThat(shares.clients()).isZero();
    assertThat(shares.inUse("c")).isZero();
  }

  @Test
  void theDefaultShareIsHalfOfAllConnectionsAndNoShareIsMoreThanAll() {
    assertThat(ProxySettings.Limits.upstreamShare(0, 64)).isEqualTo(32);
    assertThat(ProxySettings.Limits.upstreamShare(0, 1)).isEqualTo(1);
    assertThat(ProxySettings.Limits.upstreamShare(0, 3)).isEqualTo(1);
    assertThat(ProxySettings.Limits.upstreamShare(10, 4)).isEqualTo(4);
    assertThat(ProxySettings.Limits.upstreamShare(3, 64)).isEqualTo(3);
    assertThat(ProxySettings.Limits.DEFAULTS.maxUpstreamPerClient()).isEqualTo(32);
    assertThatThrownBy(() -> new ProxySettings.Limits(1, 1, 1, -1, Duration.ZERO, Duration.ZERO))
        .hasMessageContaining("--max-upstream-per-client");
  }
}
