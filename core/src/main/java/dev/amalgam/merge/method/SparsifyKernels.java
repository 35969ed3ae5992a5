package dev.amalgam.merge.method;

import java.util.Arrays;

/**
 * The per-element mask loop of the task-arithmetic family that stays in Java: DELLA's per-row
 * ranking. It zeroes, in place, the elements its rule drops. The random (DARE) mask runs in {@link
 * dev.amalgam.kernels.Kernels#bernoulliKeep} and the magnitude thresholds (TIES, breadcrumbs) in
 * {@link dev.amalgam.kernels.Kernels#magnitudeMask}.
 */
final class SparsifyKernels {
  private SparsifyKernels() {}

  /**
   * The number of {@code d[0..count)} whose magnitude bits ({@link MagnitudeSelection#absBits})
   * equal {@code bits}.
   */
  static long countMagnitudeBits(float[] d, int count, int bits) {
    // branch-free, so the JIT can vectorise it: for a, bits in [0, 2^31), (a ^ bits) - 1 is
    // negative iff they
    // are equal (bits = -1 or MAX_VALUE mark thresholds without equal elements and are never
    // counted here)
    long equal = 0;
    for (int from = 0; from < count; from += 1 << 20) {
      int to = Math.min(count, from + (1 << 20));
      int run = 0;
      for (int i = from; i < to; i++)
        run += (((Float.floatToRawIntBits(d[i]) & 0x7FFFFFFF) ^ bits) - 1) >>> 31;
      equal += run;
    }
    return equal;
  }

  /**
   * DELLA's magnitude-ranked drop over one row {@code d[start..start+row)}: ascending rank r
   * (0-based, ties by index) of |d|, keep probability {@code p = (density - epsilon) + 2 epsilon r
   * / (row - 1)} (r = 0 for a one-element row), kept iff {@code u < p}.
   *
   * @param keys scratch of at least {@code row} longs
   */
  static void dellaRow(
      float[] d, int start, int row, float[] u, double density, double epsilon, long[] keys) {
    for (int j = 0; j < row; j++) {
      keys[j] = ((long) MagnitudeSelection.absBits(d[start + j]) << 32) | j;
    }
    Arrays.sort(keys, 0, row);
    double low = density - epsilon;
    for (int r = 0; r < row; r++) {
      int j = (int) keys[r];
      double p = row > 1 ? low + 2 * epsilon * r / (row - 1) : low;
      if (!(u[start + j] < p)) d[start + j] = 0f;
    }
  }
}
