package dev.amalgam.sweep;

import java.nio.file.Path;
import java.util.List;

/**
 * What a finished sweep produced.
 *
 * @param results every point's results, in plan order
 * @param front the Pareto front, by rising instruction-following objective
 * @param recommendation the recommended merge
 * @param comparisons the paired comparisons of the recommended merge with each input model
 * @param files the files written to the output folder
 */
public record SweepOutcome(
    List<PointResult> results,
    List<PointResult> front,
    Recommendation recommendation,
    List<Comparisons.Row> comparisons,
    List<Path> files) {
  /** Copies the lists. */
  public SweepOutcome {
    results = List.copyOf(results);
    front = List.copyOf(front);
    comparisons = List.copyOf(comparisons);
    files = List.copyOf(files);
  }
}
