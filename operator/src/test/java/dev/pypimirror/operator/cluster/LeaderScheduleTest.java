package dev.pypimirror.operator.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The leader's periodic duties: an Error does not end them, and stopping waits for a run. */
class LeaderScheduleTest {

  @Test
  void anErrorInOneRunDoesNotCancelTheNextOnes() throws InterruptedException {
    LeaderSchedule schedule = new LeaderSchedule("test-schedule");
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch third = new CountDownLatch(3);
    try {
      schedule.start(
          () -> {
            runs.incrementAndGet();
            third.countDown();
            throw new NoClassDefFoundError("io/fabric8/kubernetes/api/model/rbac/ClusterRole");
          },
          0,
          10,
          TimeUnit.MILLISECONDS);

      assertThat(third.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(runs.get()).isGreaterThanOrEqualTo(3);
    } finally {
      schedule.stop();
    }
  }

  @Test
  void aOneOffRunThatThrowsLeavesTheScheduleRunning() throws InterruptedException {
    LeaderSchedule schedule = new LeaderSchedule("test-schedule");
    CountDownLatch after = new CountDownLatch(1);
    try {
      schedule.start(() -> {}, 1, 1, TimeUnit.HOURS);
      assertThat(
              schedule.runSoon(
                  () -> {
                    throw new IllegalStateException("boom");
                  }))
          .isTrue();
      assertThat(schedule.runLater(after::countDown, 10, TimeUnit.MILLISECONDS)).isTrue();

      assertThat(after.await(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      schedule.stop();
    }
  }

  @Test
  void stopReturnsOnlyAfterTheRunInFlightEnded() throws InterruptedException {
    LeaderSchedule schedule = new LeaderSchedule("test-schedule");
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean finished = new AtomicBoolean();
    schedule.start(
        () -> {
          started.countDown();
          // like a request in flight: does not end at the first interrupt
          long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
          while (System.nanoTime() < until) {
            Thread.onSpinWait();
          }
          finished.set(true);
        },
        0,
        1,
        TimeUnit.HOURS);
    assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();

    schedule.stop();

    assertThat(finished).isTrue();
  }

  @Test
  void nothingRunsAfterStop() throws InterruptedException {
    LeaderSchedule schedule = new LeaderSchedule("test-schedule");
    AtomicBoolean ran = new AtomicBoolean();
    schedule.start(() -> {}, 1, 1, TimeUnit.HOURS);
    assertThat(schedule.runLater(() -> ran.set(true), 200, TimeUnit.MILLISECONDS)).isTrue();

    schedule.stop();
    Thread.sleep(400);

    assertThat(ran).isFalse();
    assertThat(schedule.runSoon(() -> ran.set(true))).isFalse();
  }
}
