package dev.amalgam.sweep;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The trade-off front: the points that no other point beats on both objectives (higher clinical and
 * higher instruction-following scores are better). A point is dominated when another is at least as
 * good on both and better on one; equal points are all kept.
 */
public final class ParetoFront {
  private ParetoFront() {}

  /** The non-dominated points with both objectives known, by rising instruction objective. */
  public static List<PointResult> of(List<PointResult> results) {
    List<PointResult> front = new ArrayList<>();
    for (PointResult p : results) {
      if (!p.isComparable()) continue;
      boolean dominated = false;
      for (PointResult q : results) {
        if (q == p || !q.isComparable()) continue;
        double qx = q.instruction().value();
        double qy = q.clinical().value();
        double px = p.instruction().value();
        double py = p.clinical().value();
        if (qx >= px && qy >= py && (qx > px || qy > py)) {
          dominated = true;
          break;
        }
      }
      if (!dominated) front.add(p);
    }
    front.sort(
        Comparator.comparingDouble((PointResult p) -> p.instruction().value())
            .thenComparing(p -> -p.clinical().value())
            .thenComparingInt(p -> p.point().index()));
    return front;
  }
}
