package dev.amalgam.sweep;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Adaptive refinement ({@code refine: N}): after the grid, up to N new points of the interpolation
 * axis, each the midpoint of two neighbouring points where the trade-off changes most.
 *
 * <p>Points are grouped by method and by their other parameters (a density, say) and ordered by
 * their position t; for the two-model methods the input models stand at t = 0 and t = 1. Each pair
 * of neighbours is scored by how far apart they lie in the trade-off plane, both objectives scaled
 * by their range over all points, so a jump in either one counts. The N pairs with the largest
 * change get their midpoints (ties go to the earlier pair); pairs closer than {@link #MIN_GAP} and
 * points whose t is split by filter are left alone.
 */
public final class Refinement {
  /** Neighbours closer than this in t are not split further. */
  public static final double MIN_GAP = 1e-3;

  private Refinement() {}

  /**
   * The new points, numbered from {@code nextIndex}.
   *
   * @param results every point's results so far (inputs included)
   * @param count the most points to add
   */
  public static List<GridPoint> propose(List<PointResult> results, int count, int nextIndex) {
    if (count <= 0) return List.of();
    double[] range = ranges(results);
    Map<String, List<PointResult>> groups = new LinkedHashMap<>();
    List<PointResult> inputs = new ArrayList<>();
    for (PointResult r : results) {
      GridPoint p = r.point();
      if (p.isInput()) {
        inputs.add(r);
        continue;
      }
      Map<String, Double> primary = p.parameters().get(Grid.primaryAxis(p.method()));
      if (primary == null || primary.size() != 1 || !primary.containsKey("")) continue;
      groups.computeIfAbsent(groupKey(p), k -> new ArrayList<>()).add(r);
    }
    List<Candidate> candidates = new ArrayList<>();
    for (List<PointResult> group : groups.values()) {
      List<PointResult> line = new ArrayList<>(group);
      if (Grid.usesT(group.get(0).point().method())) {
        for (PointResult in : inputs) if (!Double.isNaN(in.point().t())) line.add(in);
      }
      line.sort(Comparator.comparingDouble(r -> r.point().t()));
      for (int i = 0; i + 1 < line.size(); i++) {
        PointResult a = line.get(i);
        PointResult b = line.get(i + 1);
        if (b.point().t() - a.point().t() < 2 * MIN_GAP) continue;
        if (!a.isComparable() || !b.isComparable()) continue;
        double dx = scaled(b.instruction().value() - a.instruction().value(), range[0]);
        double dy = scaled(b.clinical().value() - a.clinical().value(), range[1]);
        candidates.add(
            new Candidate(
                group.get(0).point(),
                a.point().t(),
                b.point().t(),
                Math.hypot(dx, dy),
                candidates.size()));
      }
    }
    candidates.sort(
        Comparator.comparingDouble((Candidate c) -> -c.change).thenComparingInt(c -> c.order));
    List<GridPoint> out = new ArrayList<>();
    for (Candidate c : candidates) {
      if (out.size() == count) break;
      if (!(c.change > 0)) break;
      double mid = SweepReader.round((c.from + c.to) / 2);
      Map<String, Map<String, Double>> parameters = Grid.copy(c.template.parameters());
      parameters.get(Grid.primaryAxis(c.template.method())).put("", mid);
      out.add(
          new GridPoint(
              nextIndex + out.size(),
              GridPoint.REFINE,
              c.template.method(),
              null,
              parameters,
              mid));
    }
    return out;
  }

  private record Candidate(GridPoint template, double from, double to, double change, int order) {}

  private static String groupKey(GridPoint p) {
    Map<String, Map<String, Double>> others = new LinkedHashMap<>(p.parameters());
    others.remove(Grid.primaryAxis(p.method()));
    return p.method() + " " + Objects.toString(others);
  }

  /** The range of each objective over the comparable points: [instruction, clinical]. */
  private static double[] ranges(List<PointResult> results) {
    double minX = Double.POSITIVE_INFINITY;
    double maxX = Double.NEGATIVE_INFINITY;
    double minY = Double.POSITIVE_INFINITY;
    double maxY = Double.NEGATIVE_INFINITY;
    for (PointResult r : results) {
      if (!r.isComparable()) continue;
      minX = Math.min(minX, r.instruction().value());
      maxX = Math.max(maxX, r.instruction().value());
      minY = Math.min(minY, r.clinical().value());
      maxY = Math.max(maxY, r.clinical().value());
    }
    return new double[] {maxX - minX, maxY - minY};
  }

  private static double scaled(double delta, double range) {
    return range > 0 ? delta / range : 0;
  }
}
