package dev.amalgam.merge.method;

import dev.amalgam.merge.method.MagnitudeSelection.Cursor;
import java.util.Arrays;

/**
 * The per-element mask loops of the task-arithmetic family that stay in Java, as small functions over float
 * arrays. Each zeroes, in place, the elements its rule drops. The random (DARE) mask runs in
 * {@link dev.amalgam.kernels.Kernels#bernoulliKeep}; these threshold walks are sequential by nature (ties at the
 * threshold are kept in index order) and cost little next to the selection passes.
 */
final class SparsifyKernels {
  private SparsifyKernels() {}

  /** Keeps the elements in the top-k set of the cursor (visited in index order). */
  static void magnitude(float[] d, int count, Cursor keep) {
    for (int i = 0; i < count; i++) {
      if (!keep.inTop(MagnitudeSelection.absBits(d[i]))) d[i] = 0f;
    }
  }

  /** Keeps the elements in {@code keep}'s set and not in {@code drop}'s (both cursors see every element). */
  static void outliers(float[] d, int count, Cursor keep, Cursor drop) {
    for (int i = 0; i < count; i++) {
      int bits = MagnitudeSelection.absBits(d[i]);
      boolean kept = keep.inTop(bits);
      boolean dropped = drop.inTop(bits);
      if (!kept || dropped) d[i] = 0f;
    }
  }

  /**
   * DELLA's magnitude-ranked drop over one row {@code d[start..start+row)}: ascending rank r (0-based, ties by
   * index) of |d|, keep probability {@code p = (density - epsilon) + 2 epsilon r / (row - 1)} (r = 0 for a
   * one-element row), kept iff {@code u < p}.
   *
   * @param keys scratch of at least {@code row} longs
   */
  static void dellaRow(float[] d, int start, int row, float[] u, double density, double epsilon, long[] keys) {
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
