package dev.amalgam.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A point's results: every task's metrics and the two objectives the trade-off is drawn in.
 *
 * @param point the point
 * @param modelKey the content key of the evaluated model (a merge's key or an input's file hash)
 * @param tasks task id to its result, in the suite's order
 * @param clinical the clinical objective: the mean of the clinical tasks' metrics
 * @param instruction the instruction-following objective: the mean of the instruction tasks'
 *     metrics
 */
public record PointResult(
    GridPoint point,
    String modelKey,
    Map<String, TaskResult> tasks,
    Measure clinical,
    Measure instruction) {
  /** Copies the tasks, keeping their order. */
  public PointResult {
    tasks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(tasks));
  }

  /**
   * The mean of several tasks' measures. The interval of a mean over tasks combines the tasks'
   * half-widths as for independent estimates ({@code sqrt(sum h^2) / k}); one task keeps its own.
   */
  public static Measure mean(List<Measure> measures) {
    List<Measure> known = new ArrayList<>();
    for (Measure m : measures) if (m.isKnown()) known.add(m);
    if (known.isEmpty() || known.size() < measures.size()) return Measure.NONE;
    if (known.size() == 1) return known.get(0);
    int k = known.size();
    double sum = 0;
    double low = 0;
    double high = 0;
    boolean intervals = true;
    for (Measure m : known) {
      sum += m.value();
      if (!m.hasInterval()) {
        intervals = false;
        continue;
      }
      low += Math.pow(m.value() - m.lower(), 2);
      high += Math.pow(m.upper() - m.value(), 2);
    }
    double mean = sum / k;
    return intervals
        ? new Measure(mean, mean - Math.sqrt(low) / k, mean + Math.sqrt(high) / k)
        : new Measure(mean, Double.NaN, Double.NaN);
  }

  /** Whether both objectives are numbers (only such points can be compared). */
  public boolean isComparable() {
    return clinical.isKnown() && instruction.isKnown();
  }

  /** Task id to metric to value, for tables. */
  public Map<String, Map<String, Double>> metrics() {
    Map<String, Map<String, Double>> out = new LinkedHashMap<>();
    tasks.forEach((id, r) -> out.put(id, r.metrics()));
    return out;
  }
}
