package dev.pypimirror.operator.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pypimirror.operator.api.SyncSpec;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Schedules as a Kubernetes CronJob accepts them, and the CRD's pattern agreeing. */
class CronScheduleTest {
  static final Pattern CRD = Pattern.compile(SyncSpec.SCHEDULE_PATTERN);

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0 3 * * *",
        "*/15 * * * *",
        "0 0-23/2 * * *",
        "5,35 1 1-7 JAN-mar MON-fri",
        "0 3 ? * sun",
        "30 2 1 */3 *",
        "59 23 31 12 6",
        "5/10 * * * *",
        "  0 3 * * *  ",
        "@hourly",
        "@daily",
        "@midnight",
        "@weekly",
        "@monthly",
        "@yearly",
        "@annually",
        "@every 1h30m",
        "@every 90s"
      })
  void schedulesACronJobAcceptsAreAcceptedByTheValidatorAndTheCrd(String schedule) {
    assertThat(CronSchedule.problem(schedule)).isEmpty();
    assertThat(CRD.matcher(schedule).matches()).as("CRD pattern").isTrue();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          every night           | expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, found 2
          0 3 * *               | expected 5 fields
          0 3 * * * *           | expected 5 fields
          ''                    | expected 5 fields
          60 * * * *            | minute: "60" is outside 0-59
          0 24 * * *            | hour: "24" is outside 0-23
          0 0 0 * *             | day of month: "0" is outside 1-31
          0 0 1 13 *            | month: "13" is outside 1-12
          0 0 * * 7             | day of week: "7" is outside 0-6
          0 0 * FOO *           | month: "FOO" is not a value (or a name: JAN, FEB
          30-10 * * * *         | minute: "30-10" begins after it ends
          */0 * * * *           | minute: the step of "*/0" must be a positive number
          1-2-3 * * * *         | minute: too many hyphens
          */2/3 * * * *         | minute: too many slashes
          1,,2 * * * *          | minute: "" is not a value
          @nightly              | unknown macro @nightly
          @every soon           | @every needs a duration such as 90m or 1h30m, got "soon"
          CRON_TZ=UTC 0 3 * * * | TZ or CRON_TZ is not allowed
          """)
  void otherSchedulesAreRefusedSayingWhy(String schedule, String why) {
    assertThat(CronSchedule.problem(schedule))
        .hasValueSatisfying(p -> assertThat(p).startsWith(why));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"every night", "0 3 * *", "@nightly", "CRON_TZ=UTC 0 3 * * *", "0 3 * * * *"})
  void theCrdRefusesWhatItsShapeCanTell(String schedule) {
    assertThat(CRD.matcher(schedule).matches()).isFalse();
  }
}
