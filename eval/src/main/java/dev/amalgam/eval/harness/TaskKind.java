package dev.amalgam.eval.harness;

/** How a task is run and scored. */
public enum TaskKind {
  /**
   * Free generation scored by the {@link dev.amalgam.eval.score.CorpusScorer} against a reference
   * text.
   */
  GENERATION,
  /**
   * Pick one option label: continuation log-likelihood ({@code loglik}) or grammar-constrained
   * generation.
   */
  MULTIPLE_CHOICE,
  /** Free generation checked by an {@link IfevalChecker} (no reference text). */
  INSTRUCTION_FOLLOWING
}
