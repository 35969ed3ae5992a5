package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;

/**
 * Exact magnitude ranks without sorting a tensor: the k-th largest {@code |x|} found by a two-pass
 * radix selection over float bit patterns. For non-negative floats the bit pattern orders like an
 * int, so pass one counts the high 16 bits of {@code |x|} into 65536 buckets and finds the bucket
 * holding rank k, and pass two counts the low 16 bits of the elements in that bucket, giving the
 * exact threshold value. Memory is two histograms, whatever the tensor's size.
 *
 * <p>The selection ranks elements by {@code |x|} descending, then by element index ascending: where
 * several elements equal the threshold, the first ones (lowest index) are kept. mergekit's tie
 * order is unspecified (torch argsort), so ties are the one place where a kept set can differ from
 * mergekit's. NaN magnitudes rank above infinity.
 *
 * <p>The two counting passes run in {@link Kernels#magnitudeHistogramHigh} and {@link
 * Kernels#magnitudeHistogramLow} (native where the library is loaded); the selection stays here.
 */
final class MagnitudeSelection {
  static final int BUCKETS = Kernels.MAGNITUDE_BUCKETS;

  private MagnitudeSelection() {}

  /** {@code |x|}'s bit pattern: orders like the magnitude. */
  static int absBits(float x) {
    return Float.floatToRawIntBits(x) & 0x7FFFFFFF;
  }

  /**
   * The bucket holding descending rank {@code k} (1-based) and the count of elements in higher
   * buckets.
   *
   * @return {bucket, count above the bucket}
   */
  static long[] locate(long[] histogram, long k) {
    long above = 0;
    for (int b = histogram.length - 1; b >= 0; b--) {
      if (above + histogram[b] >= k) return new long[] {b, above};
      above += histogram[b];
    }
    throw new IllegalStateException("rank " + k + " beyond the " + above + " counted elements");
  }

  /**
   * The top-k set in the order (|x| descending, index ascending), as a threshold: an element is in
   * it iff its magnitude bits exceed {@code bits}, or equal them and fewer than {@code equalKept}
   * equal elements came before it.
   */
  record Threshold(int bits, long equalKept) {
    /** Every element. */
    static Threshold all() {
      return new Threshold(-1, 0);
    }

    /** No element. */
    static Threshold none() {
      return new Threshold(Integer.MAX_VALUE, 0);
    }
  }

  /** Applies a threshold to elements visited in index order; one per pass. */
  static final class Cursor {
    private final Threshold threshold;
    private long equalSeen;

    Cursor(Threshold threshold) {
      this.threshold = threshold;
    }

    /** Whether the next element in index order, with these magnitude bits, is in the top-k set. */
    boolean inTop(int bits) {
      if (bits > threshold.bits()) return true;
      if (bits == threshold.bits() && equalSeen < threshold.equalKept()) {
        equalSeen++;
        return true;
      }
      return false;
    }
  }

  /**
   * Finds the threshold of the top {@code k} of {@code count} elements over two streaming passes.
   */
  static final class TopK {
    private final long k;
    private final Kernels kernels;
    private long[] histogram;
    private int high = -1;
    private long aboveHigh;
    private Threshold result;
    private long equalTotal; // elements whose magnitude bits equal the threshold's

    /** A selection counting with the process-wide {@link Kernels#shared()} kernels. */
    TopK(long k, long count) {
      this(k, count, Kernels.shared());
    }

    /** A selection whose counting passes run in {@code kernels}. */
    TopK(long k, long count, Kernels kernels) {
      this.k = k;
      this.kernels = kernels;
      if (k <= 0) {
        result = Threshold.none();
      } else if (k >= count) {
        result = Threshold.all();
      } else {
        histogram = new long[BUCKETS];
      }
    }

    /** Whether another pass over the values is needed. */
    boolean needsPass() {
      return result == null;
    }

    /**
     * Counts values of this pass into {@code into} (a histogram of {@link #BUCKETS} counters)
     * instead of the selection's own: workers count blocks in any order, then {@link #add} the
     * totals before {@link #finishPass}. Does nothing once no pass is needed.
     */
    void count(float[] values, int n, long[] into) {
      if (result != null) return;
      if (high < 0) {
        kernels.magnitudeHistogramHigh(values, n, into);
      } else {
        kernels.magnitudeHistogramLow(values, n, high, into);
      }
    }

    /** Adds counts gathered by {@link #count} and clears them. */
    void add(long[] counts) {
      if (result != null) return;
      for (int b = 0; b < BUCKETS; b++) histogram[b] += counts[b];
      java.util.Arrays.fill(counts, 0);
    }

    /**
     * Whether the kept set depends on element order: some, but not all, of the elements equal to
     * the threshold are kept, so a walk must know how many came before it.
     */
    boolean orderDependent() {
      Threshold t = threshold();
      return t.equalKept() > 0 && t.equalKept() < equalTotal;
    }

    /** Feeds the next values, in index order, during a pass. */
    void accept(float[] values, int n) {
      if (result != null) return;
      if (high < 0) {
        kernels.magnitudeHistogramHigh(values, n, histogram);
      } else {
        kernels.magnitudeHistogramLow(values, n, high, histogram);
      }
    }

    /** Ends a pass. */
    void finishPass() {
      if (result != null) return;
      if (high < 0) {
        long[] located = locate(histogram, k);
        high = (int) located[0];
        aboveHigh = located[1];
        java.util.Arrays.fill(histogram, 0);
      } else {
        long[] located = locate(histogram, k - aboveHigh);
        int bits = (high << 16) | (int) located[0];
        result = new Threshold(bits, k - aboveHigh - located[1]);
        equalTotal = histogram[(int) located[0]];
        histogram = null;
      }
    }

    /** The threshold, once no pass is needed. */
    Threshold threshold() {
      if (result == null) throw new IllegalStateException("selection needs another pass");
      return result;
    }
  }
}
