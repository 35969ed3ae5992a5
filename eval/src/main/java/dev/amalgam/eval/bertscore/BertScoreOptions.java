package dev.amalgam.eval.bertscore;

/**
 * Options of a {@link BertScorer}.
 *
 * @param idf weight tokens by inverse document frequency over the references (bert_score {@code idf=True})
 * @param baseline rescale with this baseline, or null for raw scores (bert_score's default)
 * @param truncationListener told how many input texts lost their tail to the encoder's maximum length; never null
 */
public record BertScoreOptions(boolean idf, Baseline baseline, TruncationListener truncationListener) {

  /** Receives the number of truncated texts after each {@link BertScorer#score} call that truncated any. */
  @FunctionalInterface
  public interface TruncationListener {
    /**
     * Called once per scoring call when {@code truncated > 0}.
     *
     * @param truncated input texts (candidates and references, each occurrence) that were truncated
     * @param total all input texts of the call
     * @param maxLength the encoder's maximum length in tokens
     */
    void truncated(int truncated, int total, int maxLength);
  }

  /** A listener that ignores truncation. */
  public static final TruncationListener IGNORE_TRUNCATION = (truncated, total, maxLength) -> { };

  /** Replaces a null listener with {@link #IGNORE_TRUNCATION}. */
  public BertScoreOptions {
    if (truncationListener == null) {
      truncationListener = IGNORE_TRUNCATION;
    }
  }

  /** bert_score's defaults: no idf, no rescaling; truncation ignored. */
  public static BertScoreOptions defaults() {
    return new BertScoreOptions(false, null, IGNORE_TRUNCATION);
  }

  /** A copy with idf weighting on or off. */
  public BertScoreOptions withIdf(boolean value) {
    return new BertScoreOptions(value, baseline, truncationListener);
  }

  /** A copy that rescales with the given baseline (null: no rescaling). */
  public BertScoreOptions withBaseline(Baseline value) {
    return new BertScoreOptions(idf, value, truncationListener);
  }

  /** A copy with another truncation listener. */
  public BertScoreOptions withTruncationListener(TruncationListener value) {
    return new BertScoreOptions(idf, baseline, value);
  }

  /** The CLI's warning line, e.g. {@code bertscore: 3 of 800 texts truncated to 512 tokens}. */
  public static String truncationWarning(int truncated, int total, int maxLength) {
    return "bertscore: " + truncated + " of " + total + " texts truncated to " + maxLength + " tokens";
  }
}
