package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * DELLA's per-row ranking against the definition, written here with a comparison sort of (magnitude
 * bits, index): the Java reference's radix sort and every native path keep the same elements, bit
 * for bit.
 */
class DellaRowTest {
  /** The definition: rank by a sort of (|d| bits, index), keep iff u < p(rank). */
  private static void reference(
      float[] d, int start, int row, float[] u, double density, double epsilon) {
    long[] keys = new long[row];
    for (int j = 0; j < row; j++) {
      keys[j] = ((long) (Float.floatToRawIntBits(d[start + j]) & 0x7FFFFFFF) << 32) | j;
    }
    Arrays.sort(keys);
    double low = density - epsilon;
    for (int r = 0; r < row; r++) {
      int j = (int) keys[r];
      double p = row > 1 ? low + 2 * epsilon * r / (row - 1) : low;
      if (!(u[j] < p)) d[start + j] = 0f;
    }
  }

  /** Values with many exact ties, zeros of both signs, NaNs, infinities and tiny subnormals. */
  private static float value(Random r) {
    switch (r.nextInt(10)) {
      case 0:
        return r.nextBoolean() ? 0f : -0f;
      case 1:
        return (r.nextBoolean() ? 1 : -1) * (float) r.nextInt(4); // exact ties
      case 2:
        return r.nextBoolean() ? Float.NaN : Float.intBitsToFloat(0xffc00001 + r.nextInt(5));
      case 3:
        return r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
      case 4:
        return Float.intBitsToFloat(r.nextInt(64)); // subnormals: only the low digit differs
      default:
        return (float) r.nextGaussian() * 0.01f;
    }
  }

  @Test
  void radixRanksKeepExactlyWhatTheComparisonSortKeeps() {
    Random r = new Random(7);
    int[] rows = {1, 2, 3, 7, 255, 256, 257, 2048, 5632};
    for (int row : rows) {
      for (int trial = 0; trial < 5; trial++) {
        int start = r.nextInt(5);
        float[] d = new float[start + row + 3];
        float[] u = new float[row];
        for (int i = 0; i < d.length; i++) d[i] = value(r);
        for (int j = 0; j < row; j++) u[j] = r.nextFloat();
        if (trial == 4) Arrays.fill(d, start, start + row, 0.5f); // one digit everywhere
        float[] expected = d.clone();
        reference(expected, start, row, u, 0.5, 0.3);
        long[] keys = new long[2 * row];
        int[] counts = new int[JavaKernels.DELLA_RADIX];
        JavaKernels.dellaRow(d, start, row, u, 0.5, 0.3, keys, counts);
        int[] got = new int[d.length];
        int[] want = new int[d.length];
        for (int i = 0; i < d.length; i++) {
          got[i] = Float.floatToRawIntBits(d[i]);
          want[i] = Float.floatToRawIntBits(expected[i]);
        }
        assertArrayEquals(want, got, "row " + row + " trial " + trial);
      }
    }
  }

  @Test
  void everyPathMasksWholeRowsLikeTheDefinition() {
    List<KernelTestSupport.Impl> impls = KernelTestSupport.implementations();
    try {
      Random r = new Random(11);
      long seed = 0x5eed_0001L;
      long hash = Philox.streamHash("model.layers.0.mlp.down_proj.weight", 1);
      int[][] shapes = {{1, 1}, {3, 1}, {2, 7}, {4, 33}, {3, 256}, {2, 1000}, {1, 4099}};
      double[][] parameters = {{0.5, 0.1}, {0.3, 0.3}, {0.9, 0.05}, {0.0, 0.0}, {1.0, 0.0}};
      for (int[] shape : shapes) {
        int rows = shape[0];
        int row = shape[1];
        int n = rows * row;
        long first = r.nextInt(1000) * (r.nextBoolean() ? 1L : 1L << 33);
        float[] d = new float[n + 5];
        for (int i = 0; i < d.length; i++) d[i] = value(r);
        for (double[] p : parameters) {
          float[] expected = d.clone();
          float[] u = new float[row];
          for (int start = 0; start < n; start += row) {
            Philox.of(seed, hash).uniforms(first + start, row, u);
            reference(expected, start, row, u, p[0], p[1]);
          }
          for (KernelTestSupport.Impl impl : impls) {
            float[] got = d.clone();
            impl.kernels()
                .dellaMask(
                    seed, hash, first, p[0], p[1], got, n, row, new long[3 * row], new float[row]);
            int[] gotBits = new int[got.length];
            int[] wantBits = new int[got.length];
            for (int i = 0; i < got.length; i++) {
              gotBits[i] = Float.floatToRawIntBits(got[i]);
              wantBits[i] = Float.floatToRawIntBits(expected[i]);
            }
            assertArrayEquals(
                wantBits, gotBits, impl + " rows " + rows + "x" + row + " " + Arrays.toString(p));
          }
        }
      }
    } finally {
      KernelTestSupport.closeAll(impls);
    }
  }

  @Test
  void partialRowsAndShortScratchAreRefused() {
    List<KernelTestSupport.Impl> impls = KernelTestSupport.implementations();
    try {
      for (KernelTestSupport.Impl impl : impls) {
        Kernels k = impl.kernels();
        float[] v = new float[10];
        assertThrows(
            IllegalArgumentException.class,
            () -> k.dellaMask(1, 2, 0, 0.5, 0.1, v, 10, 4, new long[8], new float[4]));
        assertThrows(
            IllegalArgumentException.class,
            () -> k.dellaMask(1, 2, 0, 0.5, 0.1, v, 10, 5, new long[9], new float[5]));
        assertThrows(
            IllegalArgumentException.class,
            () -> k.dellaMask(1, 2, 0, 0.5, 0.1, v, 10, 5, new long[15], new float[4]));
        assertThrows(
            IllegalArgumentException.class,
            () -> k.dellaMask(1, 2, -1, 0.5, 0.1, v, 10, 5, new long[15], new float[5]));
        assertThrows(
            IllegalArgumentException.class,
            () -> k.dellaMask(1, 2, 0, 0.5, 0.1, v, 10, 0, new long[10], new float[5]));
      }
    } finally {
      KernelTestSupport.closeAll(impls);
    }
  }
}
