package dev.amalgam.eval.metrics;

/**
 * Precision, recall and F-measure of one comparison (ROUGE's {@code Score} tuple; METEOR and
 * BERTScore reuse it).
 *
 * @param precision the share of the prediction that matches
 * @param recall the share of the reference that is matched
 * @param f the F-measure (harmonic mean for ROUGE)
 */
public record Prf(double precision, double recall, double f) {
  /** All three zero: what ROUGE returns for an empty side. */
  public static final Prf ZERO = new Prf(0.0, 0.0, 0.0);
}
