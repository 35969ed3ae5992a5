package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.kernels.KernelTestSupport.Region;
import dev.amalgam.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * dot3 results must not depend on the thread count: ranges spanning several {@link
 * Kernels#DOT_SEGMENT}s are cut at segment boundaries and combined in segment order, whichever
 * thread computed each segment.
 */
class Dot3DeterminismTest {
  /** Four segments, the last one partial and not a multiple of the 32-element group. */
  private static final long N = 3L * Kernels.DOT_SEGMENT + 12_345;

  @Test
  void oneTwoAndThreeThreadsGiveTheSameBits() {
    List<Executable> checks = new ArrayList<>();
    for (DType[] types : new DType[][] {{DType.BF16, DType.BF16}, {DType.F32, DType.F16}}) {
      Region x = KernelTestSupport.normal(types[0], N, 21),
          y = KernelTestSupport.normal(types[1], N, 22);
      Dot3 reference =
          KernelEquivalenceTest.referenceDot3(x.view(), types[0], y.view(), types[1], N);
      List<Function<Integer, Kernels>> makers = new ArrayList<>();
      List<String> names = new ArrayList<>();
      makers.add(Kernels::java);
      names.add("java");
      Kernels.nativeBestIsa()
          .ifPresent(
              best -> {
                for (Isa isa : Isa.values()) {
                  if (isa.compareTo(best) > 0) break;
                  makers.add(threads -> Kernels.nativeKernels(isa, threads));
                  names.add("native " + isa.label());
                }
              });
      for (int m = 0; m < makers.size(); m++) {
        Function<Integer, Kernels> maker = makers.get(m);
        String name = names.get(m) + " " + types[0] + " . " + types[1];
        checks.add(
            () -> {
              Dot3[] byThreads = new Dot3[4];
              for (int threads = 1; threads <= 3; threads++) {
                try (Kernels k = maker.apply(threads)) {
                  byThreads[threads] = k.dot3(x.view(), types[0], y.view(), types[1], N);
                }
              }
              assertEquals(byThreads[1], byThreads[2], name + ": 1 vs 2 threads");
              assertEquals(byThreads[1], byThreads[3], name + ": 1 vs 3 threads");
              assertEquals(
                  reference, byThreads[1], name + ": against the segment-wise Java reference");
            });
      }
    }
    assertAll(checks);
  }
}
