package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.kernels.KernelTestSupport.Region;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * SLERP as Amalgam runs it, on every implementation: {@link Kernels#dot3}, then {@link
 * Slerp#coefficients}, then one {@link Kernels#weightedSum}. Identities are checked bit for bit, a
 * general case against double precision.
 */
class SlerpTest extends EveryImplementationTest {
  private static final long N = 100_003;

  private static Slerp.Coefficients coefficients(Kernels k, Region a, Region b, double t) {
    return Slerp.coefficients(k.dot3(a.view(), DType.BF16, b.view(), DType.BF16, N), t);
  }

  private static Region apply(Kernels k, Region a, Region b, Slerp.Coefficients c, DType outType) {
    Region out = KernelTestSupport.region(outType, N, 2);
    k.weightedSum(
        new ByteBuffer[] {a.view(), b.view()},
        new DType[] {DType.BF16, DType.BF16},
        new float[] {c.s0(), c.s1()},
        out.view(),
        outType,
        N);
    return out;
  }

  /** b = f(a) element-wise, computed exactly in bf16 (f doubles or negates). */
  private static Region mapped(Region a, java.util.function.DoubleUnaryOperator f) {
    Region b = KernelTestSupport.region(DType.BF16, N, 6);
    for (long i = 0; i < N; i++) {
      JavaKernels.store(
          b.view(),
          DType.BF16,
          i,
          (float) f.applyAsDouble(JavaKernels.load(a.view(), DType.BF16, i)));
    }
    return b;
  }

  /**
   * b = a * cos + noise * sin with unit-variance noise: the cosine between a and b is about {@code
   * cos}.
   */
  private static Region correlated(Region a, double cos, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double sin = Math.sqrt(1 - cos * cos);
    return mapped(a, v -> v * cos + rng.nextGaussian() * 0.02 * sin);
  }

  @Test
  void tZeroGivesTheBaseAndTOneTheOther() {
    Region a = KernelTestSupport.normal(DType.BF16, N, 31);
    Region b = correlated(a, 0.6, 32);
    onEveryImpl(
        impl -> {
          Slerp.Coefficients at0 = coefficients(impl.kernels(), a, b, 0.0);
          Slerp.Coefficients at1 = coefficients(impl.kernels(), a, b, 1.0);
          assertFalse(
              at0.linearFallback(),
              impl + ": cosine " + at0.cosine() + " must take the slerp path");
          assertEquals(1f, at0.s0(), impl + " s0 at t=0");
          assertEquals(0f, at0.s1(), impl + " s1 at t=0");
          assertEquals(0f, at1.s0(), impl + " s0 at t=1");
          assertEquals(1f, at1.s1(), impl + " s1 at t=1");
          apply(impl.kernels(), a, b, at0, DType.BF16).assertSameAs(a, impl + ": slerp(a, b, 0)");
          apply(impl.kernels(), a, b, at1, DType.BF16).assertSameAs(b, impl + ": slerp(a, b, 1)");
        });
  }

  @Test
  void colinearAndAntiparallelInputsFallBackToLerp() {
    Region a = KernelTestSupport.normal(DType.BF16, N, 33);
    Region twice = mapped(a, v -> 2 * v), negated = mapped(a, v -> -v);
    double t = 0.3;
    onEveryImpl(
        impl -> {
          for (Region b : new Region[] {twice, negated}) {
            Slerp.Coefficients c = coefficients(impl.kernels(), a, b, t);
            String what = impl + (b == twice ? ": b = 2a" : ": b = -a");
            assertTrue(c.linearFallback(), what + " must fall back to lerp, cosine " + c.cosine());
            assertEquals(b == twice ? 1.0 : -1.0, c.cosine(), 1e-12, what);
            assertEquals((float) (1 - t), c.s0(), what);
            assertEquals((float) t, c.s1(), what);
            // And the lerp itself: out = fma(t, b, (1 - t) * a) per element, which is b's multiple
            // of a exactly.
            Region out = apply(impl.kernels(), a, b, c, DType.F32);
            for (long i = 0; i < N; i++) {
              float av = JavaKernels.load(a.view(), DType.BF16, i),
                  bv = JavaKernels.load(b.view(), DType.BF16, i);
              float want = Math.fma(c.s1(), bv, c.s0() * av);
              if (Float.floatToRawIntBits(want)
                  != Float.floatToRawIntBits(JavaKernels.load(out.view(), DType.F32, i))) {
                fail(what + ": lerp element " + i);
              }
            }
          }
        });
  }

  @Test
  void slerpOfAVectorWithItselfIsTheVector() {
    Region a = KernelTestSupport.normal(DType.BF16, N, 34);
    onEveryImpl(
        impl -> {
          for (double t : new double[] {0.0, 0.25, 0.5, 0.7, 1.0}) {
            Slerp.Coefficients c = coefficients(impl.kernels(), a, a, t);
            assertTrue(c.linearFallback(), impl + ": slerp(a, a) must take the lerp path");
            // (1 - t) a + t a is within a few f32 ulps of a, far inside half a bf16 ulp: rounding
            // restores a.
            apply(impl.kernels(), a, a, c, DType.BF16)
                .assertSameAs(a, impl + ": slerp(a, a, " + t + ")");
          }
        });
  }

  @Test
  void generalCaseMatchesDoublePrecision() {
    Region a = KernelTestSupport.normal(DType.BF16, N, 35);
    Region b = correlated(a, 0.8, 36);
    double t = 0.3;
    // Reference: every step in double from the exact bf16 values, mergekit's formulas.
    double dot = 0, na = 0, nb = 0;
    for (long i = 0; i < N; i++) {
      double x = JavaKernels.load(a.view(), DType.BF16, i),
          y = JavaKernels.load(b.view(), DType.BF16, i);
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    double cos = dot / Math.sqrt(na * nb);
    double theta = Math.acos(cos);
    double s0 = Math.sin((1 - t) * theta) / Math.sin(theta),
        s1 = Math.sin(t * theta) / Math.sin(theta);
    double[] reference = new double[(int) N];
    for (int i = 0; i < N; i++) {
      reference[i] =
          s0 * JavaKernels.load(a.view(), DType.BF16, i)
              + s1 * JavaKernels.load(b.view(), DType.BF16, i);
    }
    assertTrue(cos > 0.7 && cos < 0.9, "test data: cosine " + cos);
    onEveryImpl(
        impl -> {
          Slerp.Coefficients c = coefficients(impl.kernels(), a, b, t);
          assertFalse(c.linearFallback(), impl.name());
          assertEquals(cos, c.cosine(), 1e-6, impl + ": cosine");
          assertEquals(s0, c.s0(), 1e-6, impl + ": s0");
          assertEquals(s1, c.s1(), 1e-6, impl + ": s1");
          Region f32 = apply(impl.kernels(), a, b, c, DType.F32);
          Region bf16 = apply(impl.kernels(), a, b, c, DType.BF16);
          double dotRef = 0, outNorm = 0, refNorm = 0;
          for (int i = 0; i < N; i++) {
            double o = JavaKernels.load(f32.view(), DType.F32, i);
            dotRef += o * reference[i];
            outNorm += o * o;
            refNorm += reference[i] * reference[i];
            // bf16 output: within one bf16 ulp of the double result (rounding adds at most half of
            // one).
            double ulp = Math.ulp(Bf16.toFloat(Bf16.fromFloat((float) reference[i]))) * 65536.0;
            double got = JavaKernels.load(bf16.view(), DType.BF16, i);
            if (Math.abs(got - reference[i]) > ulp)
              fail(impl + ": bf16 element " + i + " = " + got + ", double " + reference[i]);
          }
          assertEquals(
              1.0,
              dotRef / Math.sqrt(outNorm * refNorm),
              1e-6,
              impl + ": cosine(f32 output, double reference)");
          assertEquals(1.0, Math.sqrt(outNorm / refNorm), 1e-5, impl + ": norm ratio");
        });
  }
}
