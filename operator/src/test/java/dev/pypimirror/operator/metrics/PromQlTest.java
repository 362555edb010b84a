package dev.pypimirror.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The checker of the shipped PromQL: what it reads, and that it refuses what Prometheus does. */
class PromQlTest {
  @Test
  void readsSelectorsMatchersAndGroupingLabels() {
    PromQl.Parsed parsed =
        PromQl.parse(
            "histogram_quantile(0.99, sum by (le) (rate(a_bucket{x=\"1\",y=~\"$ns\"}[5m])))"
                + " > 2.5 or absent(b) unless on(job) c offset 1h");

    assertThat(parsed.type()).isEqualTo(PromQl.Type.INSTANT);
    assertThat(parsed.selectors())
        .containsExactly(
            new PromQl.Selector(
                "a_bucket",
                List.of(new PromQl.Matcher3("x", "=", "1"), new PromQl.Matcher3("y", "=~", "$ns"))),
            new PromQl.Selector("b", List.of()),
            new PromQl.Selector("c", List.of()));
    assertThat(parsed.groupingLabels()).containsExactlyInAnyOrder("le", "job");
  }

  @Test
  void acceptsWhatPrometheusAccepts() {
    for (String ok :
        List.of(
            "a - time() < 21 * 24 * 3600",
            "max by (n, m) (a / b) > 0.9",
            "sum(increase(a[15m])) > 0",
            "(time() - max by (n) (a)) / 3600",
            "sum(rate(a[$__rate_interval]))",
            "-a ^ 2 ^ 3",
            "max_over_time(a[1h:5m])",
            "1 < bool 2",
            "sum without (x) (a)",
            "topk(3, a)",
            "a == on(x) group_left(y) b")) {
      assertThat(PromQl.parse(ok).type()).as(ok).isNotNull();
    }
  }

  @Test
  void refusesWhatPrometheusRefuses() {
    for (String bad :
        List.of(
            "rate(a)",
            "sum(a[5m])",
            "a[5m]",
            "a{x=\"1\"",
            "a{x=1}",
            "frobnicate(a)",
            "a and 1",
            "1 < 2",
            "sum by (le (a)",
            "rate(a[5])",
            "histogram_quantile(a, b)",
            "a +",
            "sum(a) b",
            "(a)[5m]")) {
      assertThatThrownBy(() -> PromQl.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
