package dev.amalgam.eval.bertscore;

/**
 * Options of a {@link BertScorer}: {@link #defaults()}, or {@link #builder()} to set some and
 * {@link #toBuilder()} for a changed copy.
 *
 * @param idf weight tokens by inverse document frequency over the references (bert_score {@code
 *     idf=True})
 * @param baseline rescale with this baseline, or null for raw scores (bert_score's default)
 * @param truncationListener told how many input texts lost their tail to the encoder's maximum
 *     length; never null
 */
public record BertScoreOptions(
    boolean idf, Baseline baseline, TruncationListener truncationListener) {

  /**
   * Receives the number of truncated texts after each {@link BertScorer#score} call that truncated
   * any.
   */
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
  public static final TruncationListener IGNORE_TRUNCATION = (truncated, total, maxLength) -> {};

  /** Replaces a null listener with {@link #IGNORE_TRUNCATION}. */
  public BertScoreOptions {
    if (truncationListener == null) {
      truncationListener = IGNORE_TRUNCATION;
    }
  }

  /** bert_score's defaults: no idf, no rescaling; truncation ignored. */
  public static BertScoreOptions defaults() {
    return builder().build();
  }

  /** A builder with the {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options, for a changed copy. */
  public Builder toBuilder() {
    return new Builder().idf(idf).baseline(baseline).truncationListener(truncationListener);
  }

  /** The CLI's warning line, e.g. {@code bertscore: 3 of 800 texts truncated to 512 tokens}. */
  public static String truncationWarning(int truncated, int total, int maxLength) {
    return "bertscore: "
        + truncated
        + " of "
        + total
        + " texts truncated to "
        + maxLength
        + " tokens";
  }

  /** Collects {@link BertScoreOptions}. */
  public static final class Builder {
    private boolean idf;
    private Baseline baseline;
    private TruncationListener truncationListener = IGNORE_TRUNCATION;

    private Builder() {}

    /** Weight tokens by idf over the references, or not. */
    public Builder idf(boolean value) {
      idf = value;
      return this;
    }

    /** Rescale with this baseline (null: raw scores). */
    public Builder baseline(Baseline value) {
      baseline = value;
      return this;
    }

    /** Told about truncated texts (null: ignored). */
    public Builder truncationListener(TruncationListener value) {
      truncationListener = value;
      return this;
    }

    /** The options. */
    public BertScoreOptions build() {
      return new BertScoreOptions(idf, baseline, truncationListener);
    }
  }
}
