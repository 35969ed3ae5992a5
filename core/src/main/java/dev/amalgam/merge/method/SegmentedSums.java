package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;

/**
 * Several running sums in double, accumulated per fixed segment of {@link Kernels#DOT_SEGMENT}
 * elements (by element index, not by chunk) and added segment by segment in order. The result
 * therefore depends neither on how the executor cuts the tensor into chunks nor on the thread
 * count, and matches the segment order of the kernels' canonical reductions.
 *
 * <p>Callers walk a chunk in spans that never cross a segment boundary: {@link #span}, then {@link
 * #add} for each element of the span, then {@link #reached} with the index after the span.
 */
final class SegmentedSums {
  private final double[] partial;
  private final double[] total;
  private long segmentEnd = Kernels.DOT_SEGMENT;

  SegmentedSums(int sums) {
    partial = new double[sums];
    total = new double[sums];
  }

  /**
   * How many of {@code remaining} elements starting at element {@code index} lie in the current
   * segment.
   */
  int span(long index, int remaining) {
    return (int) Math.min(remaining, segmentEnd - index);
  }

  /** Adds {@code value} to sum {@code k} of the current segment. */
  void add(int k, double value) {
    partial[k] += value;
  }

  /**
   * Records that every element before {@code end} has been added; closes the segment at its
   * boundary.
   */
  void reached(long end) {
    if (end == segmentEnd) {
      flush();
      segmentEnd += Kernels.DOT_SEGMENT;
    }
  }

  /** The sums over everything added, the last (partial) segment included. */
  double[] totals() {
    flush();
    return total.clone();
  }

  private void flush() {
    for (int k = 0; k < partial.length; k++) {
      total[k] += partial[k];
      partial[k] = 0;
    }
  }
}
