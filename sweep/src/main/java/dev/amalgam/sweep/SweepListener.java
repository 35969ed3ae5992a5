package dev.amalgam.sweep;

import dev.amalgam.eval.harness.Progress;

/** Where a sweep's progress goes: one line per event, and the evaluations' own progress. */
public interface SweepListener {
  /** Reports nothing. */
  SweepListener NONE = line -> {};

  /** One progress line (no trailing newline). */
  void line(String text);

  /** The progress of one evaluation's examples (default: none). */
  default Progress evaluationProgress() {
    return Progress.NONE;
  }
}
