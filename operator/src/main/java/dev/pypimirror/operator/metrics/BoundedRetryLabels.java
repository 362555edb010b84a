package dev.pypimirror.operator.metrics;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.api.reconciler.RetryInfo;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;

/**
 * java-operator-sdk's Micrometer metrics with the retry attempt, a label of its started counter,
 * capped: the operator retries a failing reconcile for as long as it fails, and each new attempt
 * number would otherwise be a new series for ever. {@value #CAP} stands for that many or more.
 */
final class BoundedRetryLabels {
  static final int CAP = 5;

  private BoundedRetryLabels() {}

  /**
   * The delegate, every call passed on as made (those the interface adds later too) except that
   * {@code reconcileCustomResource} gets its retry capped.
   */
  static Metrics around(Metrics delegate) {
    return (Metrics)
        Proxy.newProxyInstance(
            Metrics.class.getClassLoader(),
            new Class<?>[] {Metrics.class},
            (proxy, method, args) -> {
              Object[] passed = args;
              if (method.getName().equals("reconcileCustomResource")) {
                passed = args.clone();
                passed[1] = capped((RetryInfo) args[1]);
              }
              try {
                return method.invoke(delegate, passed);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  static RetryInfo capped(RetryInfo retry) {
    if (retry == null || retry.getAttemptCount() <= CAP) {
      return retry;
    }
    return new RetryInfo() {
      @Override
      public int getAttemptCount() {
        return CAP;
      }

      @Override
      public boolean isLastAttempt() {
        return retry.isLastAttempt();
      }
    };
  }
}
