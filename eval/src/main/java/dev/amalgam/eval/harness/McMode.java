package dev.amalgam.eval.harness;

/** How a multiple-choice answer is picked. */
public enum McMode {
  /**
   * The option whose continuation {@code " " + label} (e.g. {@code " A"}, {@code " yes"}) after the
   * prompt (which ends in {@code Answer:}) has the highest log-likelihood, scored in-process by
   * LlamaScorer, as lm-evaluation-harness's multiple_choice output type; acc_norm divides by the
   * label's UTF-8 byte length.
   */
  LOGLIK,
  /**
   * Greedy generation under a GBNF grammar that allows only an optional space and one of the
   * labels.
   */
  GRAMMAR
}
