package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * DELLA's per-row ranking by radix sort against the definition, written here with a comparison sort
 * of (magnitude bits, index): the same elements kept, bit for bit.
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
      if (!(u[start + j] < p)) d[start + j] = 0f;
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
        float[] u = new float[d.length];
        for (int i = 0; i < d.length; i++) {
          d[i] = value(r);
          u[i] = r.nextFloat();
        }
        if (trial == 4) Arrays.fill(d, start, start + row, 0.5f); // one digit everywhere
        float[] expected = d.clone();
        reference(expected, start, row, u, 0.5, 0.3);
        long[] keys = new long[2 * row];
        int[] counts = new int[SparsifyKernels.RADIX];
        SparsifyKernels.dellaRow(d, start, row, u, 0.5, 0.3, keys, counts);
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
}
