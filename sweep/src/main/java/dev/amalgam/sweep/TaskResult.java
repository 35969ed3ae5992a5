package dev.amalgam.sweep;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One evaluation of one point: its content key, example count, and every corpus metric with its 95
 * % bootstrap interval.
 *
 * @param evalKey the evaluation's content key (its folder in the cache)
 * @param count examples evaluated
 * @param metrics metric name to value
 * @param ci95 metric name to interval (absent where the evaluation had none)
 */
public record TaskResult(
    String evalKey, int count, Map<String, Double> metrics, Map<String, Measure> ci95) {
  /** Copies the maps, keeping their order. */
  public TaskResult {
    metrics = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    ci95 = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(ci95));
  }

  /** A metric with its interval ({@link Measure#NONE} when the metric is absent). */
  public Measure measure(String metric) {
    Double v = metrics.get(metric);
    if (v == null) return Measure.NONE;
    Measure ci = ci95.get(metric);
    return ci != null
        ? new Measure(v, ci.lower(), ci.upper())
        : new Measure(v, Double.NaN, Double.NaN);
  }
}
