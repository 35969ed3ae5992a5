package dev.amalgam.merge.method;

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

  /** Buckets of one radix digit of {@link #dellaRow}'s magnitude sort (8 bits). */
  static final int RADIX = 256;

  /**
   * DELLA's magnitude-ranked drop over one row {@code d[start..start+row)}: ascending rank r
   * (0-based, ties by index) of |d|, keep probability {@code p = (density - epsilon) + 2 epsilon r
   * / (row - 1)} (r = 0 for a one-element row), kept iff {@code u < p}.
   *
   * <p>The ranks come from a stable least-significant-digit radix sort of the 31 magnitude bits,
   * four passes of 8 bits (a pass whose digit is the same for the whole row is skipped): elements
   * start in index order, so equal magnitudes stay in index order, as the definition asks. It gives
   * the ranks of a comparison sort of {@code (magnitude, index)} in linear time.
   *
   * @param keys scratch of at least {@code 2 * row} longs
   * @param counts scratch of at least {@link #RADIX} ints
   */
  static void dellaRow(
      float[] d,
      int start,
      int row,
      float[] u,
      double density,
      double epsilon,
      long[] keys,
      int[] counts) {
    int from = 0; // keys[from..from+row) holds the current order; the other half is the target
    for (int j = 0; j < row; j++) {
      keys[j] = ((long) MagnitudeSelection.absBits(d[start + j]) << 32) | j;
    }
    for (int shift = 32; shift < 63; shift += 8) {
      java.util.Arrays.fill(counts, 0, RADIX, 0);
      for (int i = from; i < from + row; i++) counts[(int) (keys[i] >>> shift) & (RADIX - 1)]++;
      if (counts[(int) (keys[from] >>> shift) & (RADIX - 1)] == row) continue; // one digit: no move
      int sum = 0;
      for (int b = 0; b < RADIX; b++) {
        int c = counts[b];
        counts[b] = sum;
        sum += c;
      }
      int to = row - from; // 0 or row
      for (int i = from; i < from + row; i++) {
        long k = keys[i];
        keys[to + counts[(int) (k >>> shift) & (RADIX - 1)]++] = k;
      }
      from = to;
    }
    double low = density - epsilon;
    for (int r = 0; r < row; r++) {
      int j = (int) keys[from + r];
      double p = row > 1 ? low + 2 * epsilon * r / (row - 1) : low;
      if (!(u[start + j] < p)) d[start + j] = 0f;
    }
  }
}
