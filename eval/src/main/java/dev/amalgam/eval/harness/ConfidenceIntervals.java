package dev.amalgam.eval.harness;

import dev.amalgam.eval.score.ScoredCorpus;
import java.util.Map;

/**
 * Where the lead's bootstrap helper plugs in: 95 % confidence intervals of every corpus metric,
 * computed by re-aggregating resamples through {@link ScoredCorpus#aggregate}. The harness writes
 * the result as {@code ci95} in metrics.json and report.md; without an implementation every {@code
 * ci95} is null.
 */
@FunctionalInterface
public interface ConfidenceIntervals {
  /** Metric name to {@code [low, high]}; metrics left out get a null interval. */
  Map<String, double[]> ci95(ScoredCorpus corpus);
}
