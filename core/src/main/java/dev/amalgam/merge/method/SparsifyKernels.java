package dev.amalgam.merge.method;

/**
 * The one per-element loop of the task-arithmetic family that stays in Java: counting the elements
 * equal to a magnitude threshold before a task's block. The masks themselves run in the kernels:
 * the random (DARE) mask in {@link dev.amalgam.kernels.Kernels#bernoulliKeep}, the magnitude
 * thresholds (TIES, breadcrumbs) in {@link dev.amalgam.kernels.Kernels#magnitudeMask} and DELLA's
 * per-row ranking in {@link dev.amalgam.kernels.Kernels#dellaMask}.
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
}
