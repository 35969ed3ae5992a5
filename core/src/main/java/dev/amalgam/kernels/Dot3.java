package dev.amalgam.kernels;

/**
 * The three reductions SLERP needs, accumulated as amalgam.h contract point 6 prescribes.
 *
 * @param xy sum of x*y
 * @param xx sum of x*x
 * @param yy sum of y*y
 */
public record Dot3(double xy, double xx, double yy) {

  /**
   * Adds reduction segments in order. A tensor reduced in several calls, each starting at a
   * multiple of {@link Kernels#DOT_SEGMENT}, accumulates exactly the same sums as one call over the
   * whole tensor, whatever the chunking or the thread count.
   */
  public static final class Accumulator {
    private double xy;
    private double xx;
    private double yy;

    /** Sums at zero. */
    public Accumulator() {}

    /** Adds one segment's sums. */
    public void add(double segmentXy, double segmentXx, double segmentYy) {
      xy += segmentXy;
      xx += segmentXx;
      yy += segmentYy;
    }

    /** The sums so far. */
    public Dot3 result() {
      return new Dot3(xy, xx, yy);
    }
  }
}
