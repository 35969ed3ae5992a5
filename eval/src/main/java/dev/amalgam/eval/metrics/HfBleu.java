package dev.amalgam.eval.metrics;

import dev.amalgam.eval.text.Tokenizer13a;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * BLEU as Hugging Face {@code evaluate.load('bleu')} computes it (tensorflow/nmt {@code
 * compute_bleu}, also copied in ACI-BENCH's evaluator): 13a tokens (no lowercasing, no
 * trailing-whitespace strip), 4-gram precisions on a 0-1 scale, brevity penalty from the
 * <em>shortest</em> reference ({@code bp = 1} if hyp/ref &gt; 1, else {@code exp(1 - ref/hyp)}, 0
 * for an empty side), geometric mean 0 if any precision is 0, optional Lin-Och smoothing {@code (m
 * + 1)/(t + 1)} on every order including unigrams. Always corpus-level: the statistics are summed
 * over the examples, so one example gives that example's BLEU.
 *
 * <p>Statistics are {@link BleuStats} (reference length = shortest), summable for bootstrap
 * resampling. Instances are immutable and thread-safe.
 */
public final class HfBleu {
  private final boolean smooth;

  /**
   * Creates a scorer.
   *
   * @param smooth HF's {@code smooth} argument (default false)
   */
  public HfBleu(boolean smooth) {
    this.smooth = smooth;
  }

  /** Whether Lin-Och smoothing is on. */
  public boolean smooth() {
    return smooth;
  }

  /**
   * A description of the options for reports, e.g. {@code
   * hf-evaluate-bleu|tok:13a|smooth:no|max_order:4}.
   */
  public String signature() {
    return "hf-evaluate-bleu|tok:13a|smooth:"
        + (smooth ? "yes" : "no")
        + "|max_order:"
        + BleuStats.MAX_ORDER;
  }

  /**
   * The statistics of one prediction against its references.
   *
   * @throws IllegalArgumentException if there is no reference
   */
  public BleuStats stats(String prediction, List<String> references) {
    List<String[]> tokenized = new ArrayList<>(references.size());
    for (String reference : references) {
      tokenized.add(Tokenizer13a.tokens(reference));
    }
    return BleuStats.of(Tokenizer13a.tokens(prediction), tokenized, false);
  }

  /**
   * BLEU over a corpus, HF's {@code compute(predictions=..., references=...)}.
   *
   * @throws IllegalArgumentException if the lists differ in length or an example has no reference
   */
  public Result corpusScore(List<String> predictions, List<List<String>> referencesPerExample) {
    if (predictions.size() != referencesPerExample.size()) {
      throw new IllegalArgumentException(
          predictions.size()
              + " predictions but "
              + referencesPerExample.size()
              + " reference lists");
    }
    List<BleuStats> stats = new ArrayList<>(predictions.size());
    for (int i = 0; i < predictions.size(); i++) {
      stats.add(stats(predictions.get(i), referencesPerExample.get(i)));
    }
    return score(BleuStats.sum(stats));
  }

  /** BLEU from (summed) statistics, the arithmetic of nmt's {@code compute_bleu}. */
  public Result score(BleuStats stats) {
    int maxOrder = BleuStats.MAX_ORDER;
    double[] precisions = new double[maxOrder];
    for (int i = 0; i < maxOrder; i++) {
      long matches = stats.correct(i + 1);
      long possible = stats.total(i + 1);
      if (smooth) {
        precisions[i] = (matches + 1.0) / (possible + 1.0);
      } else {
        precisions[i] = possible > 0 ? (double) matches / possible : 0.0;
      }
    }
    double geoMean = 0;
    if (Arrays.stream(precisions).min().getAsDouble() > 0) {
      double logSum = 0;
      for (double p : precisions) {
        logSum += (1.0 / maxOrder) * Math.log(p);
      }
      geoMean = Math.exp(logSum);
    }
    double ratio;
    double bp;
    if (stats.refLen() == 0 || stats.sysLen() == 0) {
      ratio = 0.0;
      bp = 0.0;
    } else {
      ratio = (double) stats.sysLen() / stats.refLen();
      bp = ratio > 1.0 ? 1.0 : Math.exp(1 - 1.0 / ratio);
    }
    return new Result(geoMean * bp, precisions, bp, ratio, stats.sysLen(), stats.refLen());
  }

  /**
   * HF's result dictionary.
   *
   * @param bleu BLEU, 0-1
   * @param precisions the n-gram precisions, 0-1
   * @param brevityPenalty the brevity penalty
   * @param lengthRatio translation length / reference length
   * @param translationLength prediction tokens
   * @param referenceLength reference tokens (shortest reference per example)
   */
  public record Result(
      double bleu,
      double[] precisions,
      double brevityPenalty,
      double lengthRatio,
      long translationLength,
      long referenceLength) {
    /** Copies the precisions, so the result is immutable. */
    public Result {
      precisions = precisions.clone();
    }

    /** A copy of the n-gram precisions. */
    @Override
    public double[] precisions() {
      return precisions.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Result r
          && Double.compare(bleu, r.bleu) == 0
          && Arrays.equals(precisions, r.precisions)
          && Double.compare(brevityPenalty, r.brevityPenalty) == 0
          && Double.compare(lengthRatio, r.lengthRatio) == 0
          && translationLength == r.translationLength
          && referenceLength == r.referenceLength;
    }

    @Override
    public int hashCode() {
      return Double.hashCode(bleu) * 31 + Arrays.hashCode(precisions);
    }

    @Override
    public String toString() {
      return "HfBleu.Result[bleu="
          + bleu
          + ", precisions="
          + Arrays.toString(precisions)
          + ", brevityPenalty="
          + brevityPenalty
          + ", lengthRatio="
          + lengthRatio
          + ", translationLength="
          + translationLength
          + ", referenceLength="
          + referenceLength
          + "]";
    }
  }
}
