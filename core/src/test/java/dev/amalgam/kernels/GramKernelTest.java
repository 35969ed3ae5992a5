package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The spherical methods' Gram sums: every path gives the reference's bits (one chain of double
 * additions per sum, element by element), with and without a base, for every count the kernel
 * specialises and a generic one, and on values with NaNs, infinities and subnormals.
 */
class GramKernelTest {
  /** The definition, written out here: f32 deltas, exact double products, additions in order. */
  private static double[] reference(ByteBuffer[] x, DType[] t, ByteBuffer b, DType bt, long n) {
    int count = x.length;
    double[] acc = new double[count * (count + 1) / 2];
    for (long e = 0; e < n; e++) {
      int k = 0;
      for (int i = 0; i < count; i++) {
        float xi = JavaKernels.load(x[i], t[i], e);
        if (b != null) xi -= JavaKernels.load(b, bt, e);
        for (int j = i; j < count; j++) {
          float xj = JavaKernels.load(x[j], t[j], e);
          if (b != null) xj -= JavaKernels.load(b, bt, e);
          acc[k++] += (double) xi * (double) xj;
        }
      }
    }
    return acc;
  }

  /**
   * A bound of the sum of |x_i x_j| for each Gram entry: sqrt(S_ii S_jj) by Cauchy-Schwarz (the
   * diagonal sums have no cancellation), for the CUDA paths' tolerance.
   */
  private static double[] magnitudes(double[] acc, int count) {
    int[] diagonal = new int[count];
    for (int i = 0, k = 0; i < count; i++) {
      diagonal[i] = k;
      k += count - i;
    }
    double[] m = new double[acc.length];
    for (int i = 0, k = 0; i < count; i++) {
      for (int j = i; j < count; j++, k++) {
        m[k] = Math.sqrt(Math.abs(acc[diagonal[i]]) * Math.abs(acc[diagonal[j]]));
      }
    }
    return m;
  }

  @Test
  void everyPathSumsLikeTheDefinition() {
    List<KernelTestSupport.Impl> impls = KernelTestSupport.implementations();
    try {
      long[] sizes = {0, 1, 31, 4096, 70_001};
      for (int count : new int[] {1, 2, 3, 4, 5}) {
        for (boolean withBase : new boolean[] {false, true}) {
          for (long n : sizes) {
            ByteBuffer[] x = new ByteBuffer[count];
            DType[] types = new DType[count];
            for (int i = 0; i < count; i++) {
              types[i] = KernelTestSupport.TYPES[(i + count) % 3];
              long seed = 31L * count + i + n;
              x[i] =
                  (i == 1
                          ? KernelTestSupport.special(types[i], n, seed)
                          : KernelTestSupport.normal(types[i], n, seed))
                      .view();
            }
            ByteBuffer base =
                withBase ? KernelTestSupport.normal(DType.BF16, n, 99 + n).view() : null;
            DType baseType = withBase ? DType.BF16 : null;
            double[] want = reference(x, types, base, baseType, n);
            for (KernelTestSupport.Impl impl : impls) {
              double[] got = new double[want.length];
              // two calls split in element order give the sums of one
              long half = n / 2;
              impl.kernels().gram(x, types, base, baseType, half, got);
              ByteBuffer[] rest = new ByteBuffer[count];
              for (int i = 0; i < count; i++) {
                rest[i] = x[i].duplicate().order(x[i].order());
                rest[i].position(Math.toIntExact(x[i].position() + types[i].byteCount(half)));
              }
              ByteBuffer baseRest = null;
              if (base != null) {
                baseRest = base.duplicate().order(base.order());
                baseRest.position(Math.toIntExact(base.position() + DType.BF16.byteCount(half)));
              }
              impl.kernels().gram(rest, types, baseRest, baseType, n - half, got);
              KernelTestSupport.assertChainSums(
                  impl,
                  want,
                  got,
                  magnitudes(want, count),
                  n,
                  "count " + count + " base " + withBase + " n " + n);
            }
          }
        }
      }
    } finally {
      KernelTestSupport.closeAll(impls);
    }
  }

  @Test
  void badArgumentsAreRefused() {
    List<KernelTestSupport.Impl> impls = KernelTestSupport.implementations();
    try {
      ByteBuffer x = KernelTestSupport.normal(DType.F32, 8, 1).view();
      for (KernelTestSupport.Impl impl : impls) {
        Kernels k = impl.kernels();
        DType[] f32 = {DType.F32};
        assertThrows(
            IllegalArgumentException.class,
            () -> k.gram(new ByteBuffer[0], new DType[0], null, null, 8, new double[1]));
        assertThrows(
            IllegalArgumentException.class,
            () -> k.gram(new ByteBuffer[] {x, x}, f32, null, null, 8, new double[3]));
        assertThrows(
            IllegalArgumentException.class,
            () ->
                k.gram(
                    new ByteBuffer[] {x, x},
                    new DType[] {DType.F32, DType.F32},
                    null,
                    null,
                    8,
                    new double[2]));
        assertThrows(
            IllegalArgumentException.class,
            () -> k.gram(new ByteBuffer[] {x}, f32, null, null, 9, new double[1]));
        assertThrows(
            IllegalArgumentException.class,
            () -> k.gram(new ByteBuffer[] {x}, f32, x, DType.F32, -1, new double[1]));
        ByteBuffer[] many = new ByteBuffer[Kernels.GRAM_MAX_INPUTS + 1];
        DType[] manyTypes = new DType[many.length];
        java.util.Arrays.fill(many, x);
        java.util.Arrays.fill(manyTypes, DType.F32);
        assertThrows(
            IllegalArgumentException.class,
            () -> k.gram(many, manyTypes, null, null, 8, new double[many.length * many.length]));
      }
    } finally {
      KernelTestSupport.closeAll(impls);
    }
  }
}
