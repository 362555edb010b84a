package dev.pypimirror.bench;

import dev.pypimirror.operator.webhook.AdmissionResponse;
import dev.pypimirror.operator.webhook.PodAdmission;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One admission in-process: AdmissionReview bytes in (JSON parse), selection, the patch, the
 * rendered config, and the answer out (patch serialized, base64, AdmissionReview serialized).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MutationBenchmark {
  PodAdmission admission;
  byte[] injected;
  byte[] untouched;

  @Setup
  public void setUp() {
    admission = Workload.admission();
    injected = Workload.injectedReview();
    untouched = Workload.untouchedReview();
    if (!admission.review(injected).bodyText().contains("\"patch\"")) {
      throw new IllegalStateException("the benchmark pod is not injected");
    }
  }

  @Benchmark
  public AdmissionResponse injectedAdmission() {
    return admission.review(injected);
  }

  @Benchmark
  public AdmissionResponse untouchedAdmission() {
    return admission.review(untouched);
  }
}
