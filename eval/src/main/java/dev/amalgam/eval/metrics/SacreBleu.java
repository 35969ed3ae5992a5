package dev.amalgam.eval.metrics;

import dev.amalgam.eval.text.Tokenizer13a;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * BLEU exactly as sacreBLEU 2.6.0 computes it ({@code BLEU(...)}, {@code sentence_bleu}, {@code
 * corpus_bleu}) with the {@code 13a} tokenizer and 4-gram precision, on a 0-100 scale. Options:
 * lowercase, smoothing ({@code exp} (default), {@code floor}, {@code add-k}, {@code none}, with
 * sacreBLEU's default values 0.1 and 1), and effective order (on for sentence BLEU, off for corpus
 * BLEU, as sacreBLEU's defaults). Several references per segment: n-gram counts are clipped by the
 * largest count in any reference and the reference length is the closest to the hypothesis length
 * (ties to the shorter).
 *
 * <p>Corpus BLEU sums the per-segment {@link BleuStats} and computes once; {@link #score(BleuStats,
 * int)} lets a harness recompute it for a bootstrap resample. Instances are immutable and
 * thread-safe.
 */
public final class SacreBleu {
  /** The sacreBLEU version whose behaviour (and signature) this reproduces. */
  public static final String VERSION = "2.6.0";

  /** sacreBLEU's {@code log(0)} stand-in ({@code utils.my_log}). */
  private static final double LOG_ZERO = -9999999999.0;

  /** Smoothing methods of Chen and Cherry (2014), named as in sacreBLEU. */
  public enum Smoothing {
    /**
     * Method 3, NIST geometric: the k-th order with no match gets 1/(2^k · total) (sacreBLEU's
     * default).
     */
    EXP("exp", Double.NaN),
    /** Method 1: an order with no match gets value/total (default value 0.1). */
    FLOOR("floor", 0.1),
    /** Method 2: value added to matches and totals of orders 2..4 (default value 1). */
    ADD_K("add-k", 1.0),
    /** No smoothing: an order with no match makes BLEU 0 (unless effective order drops it). */
    NONE("none", Double.NaN);

    private final String id;
    private final double defaultValue;

    Smoothing(String id, double defaultValue) {
      this.id = id;
      this.defaultValue = defaultValue;
    }

    /** The name sacreBLEU uses ({@code exp}, {@code floor}, {@code add-k}, {@code none}). */
    public String id() {
      return id;
    }

    /** Whether the method takes a value (floor and add-k). */
    public boolean takesValue() {
      return !Double.isNaN(defaultValue);
    }

    /**
     * The method with a sacreBLEU name.
     *
     * @throws IllegalArgumentException naming the known methods for any other name
     */
    public static Smoothing fromId(String id) {
      for (Smoothing s : values()) {
        if (s.id.equals(id)) {
          return s;
        }
      }
      throw new IllegalArgumentException(
          "unknown BLEU smoothing '" + id + "' (known: exp, floor, add-k, none)");
    }
  }

  private final boolean lowercase;
  private final Smoothing smoothing;
  private final double smoothValue;
  private final boolean effectiveOrder;

  /**
   * Creates a BLEU scorer.
   *
   * @param lowercase lowercase hypotheses and references first ({@code case:lc} in the signature)
   * @param smoothing the smoothing method
   * @param smoothValue the value of floor or add-k; null for sacreBLEU's default (0.1, 1); ignored
   *     by exp and none
   * @param effectiveOrder stop at the highest order with any hypothesis n-gram (sentence-level
   *     BLEU)
   */
  public SacreBleu(
      boolean lowercase, Smoothing smoothing, Double smoothValue, boolean effectiveOrder) {
    this.lowercase = lowercase;
    this.smoothing = Objects.requireNonNull(smoothing, "smoothing");
    this.smoothValue = smoothValue != null ? smoothValue : smoothing.defaultValue;
    if (smoothing.takesValue() && !(this.smoothValue > 0)) {
      throw new IllegalArgumentException(
          "BLEU smoothing " + smoothing.id + " needs a value > 0, got " + smoothValue);
    }
    this.effectiveOrder = effectiveOrder;
  }

  /**
   * {@code corpus_bleu} / {@code BLEU()} defaults: mixed case, exp smoothing, no effective order.
   */
  public static SacreBleu corpusDefaults() {
    return new SacreBleu(false, Smoothing.EXP, null, false);
  }

  /** {@code sentence_bleu} defaults: mixed case, exp smoothing, effective order. */
  public static SacreBleu sentenceDefaults() {
    return new SacreBleu(false, Smoothing.EXP, null, true);
  }

  /** The same scorer with effective order switched on or off. */
  public SacreBleu withEffectiveOrder(boolean effective) {
    return new SacreBleu(
        lowercase, smoothing, smoothing.takesValue() ? smoothValue : null, effective);
  }

  /**
   * sacreBLEU's signature for these options, e.g. {@code
   * nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0} ({@code smooth:floor[0.10]} for
   * methods with a value).
   *
   * @param nrefs references per segment, or -1 when segments have different numbers ({@code
   *     nrefs:var})
   */
  public String signature(int nrefs) {
    String smooth =
        smoothing.id + (smoothing.takesValue() ? "[" + fixed(smoothValue, 2) + "]" : "");
    return "nrefs:"
        + (nrefs < 0 ? "var" : Integer.toString(nrefs))
        + "|case:"
        + (lowercase ? "lc" : "mixed")
        + "|eff:"
        + (effectiveOrder ? "yes" : "no")
        + "|tok:13a|smooth:"
        + smooth
        + "|version:"
        + VERSION;
  }

  /**
   * sacreBLEU's preprocessing of a segment: optional lowercase, strip trailing whitespace, 13a
   * tokenization.
   */
  String[] tokens(String segment) {
    String s = lowercase ? segment.toLowerCase(Locale.ROOT) : segment;
    int end = s.length();
    while (end > 0 && Tokenizer13a.isPythonWhitespace(s.charAt(end - 1))) {
      end--;
    }
    return Tokenizer13a.tokens(s.substring(0, end));
  }

  /**
   * The statistics of one segment.
   *
   * @throws IllegalArgumentException if there is no reference
   */
  public BleuStats stats(String hypothesis, List<String> references) {
    List<String[]> tokenized = new ArrayList<>(references.size());
    for (String reference : references) {
      tokenized.add(tokens(reference));
    }
    return BleuStats.of(tokens(hypothesis), tokenized, true);
  }

  /**
   * Sentence BLEU of one hypothesis against its references ({@code sentence_bleu} with these
   * options).
   */
  public Score sentenceScore(String hypothesis, List<String> references) {
    return score(stats(hypothesis, references), references.size());
  }

  /**
   * Corpus BLEU: statistics summed over segments, then one score.
   *
   * @param referencesPerSegment for each hypothesis, its references (sacreBLEU takes reference
   *     streams instead; this is the transposed form)
   * @throws IllegalArgumentException if the lists differ in length or a segment has no reference
   */
  public Score corpusScore(List<String> hypotheses, List<List<String>> referencesPerSegment) {
    if (hypotheses.size() != referencesPerSegment.size()) {
      throw new IllegalArgumentException(
          hypotheses.size()
              + " hypotheses but "
              + referencesPerSegment.size()
              + " reference lists");
    }
    List<BleuStats> segments = new ArrayList<>(hypotheses.size());
    int nrefs = referencesPerSegment.isEmpty() ? 0 : referencesPerSegment.get(0).size();
    for (int i = 0; i < hypotheses.size(); i++) {
      List<String> references = referencesPerSegment.get(i);
      if (references.size() != nrefs) {
        nrefs = -1;
      }
      segments.add(stats(hypotheses.get(i), references));
    }
    return score(BleuStats.sum(segments), nrefs);
  }

  /**
   * BLEU from (summed) statistics, sacreBLEU's {@code compute_bleu}.
   *
   * @param nrefs references per segment for the signature, -1 for a varying number
   */
  public Score score(BleuStats stats, int nrefs) {
    long sysLen = stats.sysLen();
    long refLen = stats.refLen();
    double bp = 1.0;
    if (sysLen < refLen) {
      bp = sysLen > 0 ? Math.exp(1 - (double) refLen / sysLen) : 0.0;
    }
    double[] precisions = new double[BleuStats.MAX_ORDER];
    boolean anyMatch = false;
    for (int n = 1; n <= BleuStats.MAX_ORDER; n++) {
      anyMatch |= stats.correct(n) != 0;
    }
    String signature = signature(nrefs);
    if (!anyMatch) { // "Early stop if there are no matches (#141)"
      return new Score(0.0, precisions, bp, sysLen, refLen, signature);
    }
    double smoothMteval = 1.0;
    int effOrder = BleuStats.MAX_ORDER;
    for (int n = 1; n <= BleuStats.MAX_ORDER; n++) {
      double correct = stats.correct(n);
      double total = stats.total(n);
      if (smoothing == Smoothing.ADD_K && n > 1) {
        correct += smoothValue;
        total += smoothValue;
      }
      if (total == 0) {
        break;
      }
      if (effectiveOrder) {
        effOrder = n;
      }
      if (correct == 0) {
        if (smoothing == Smoothing.EXP) {
          smoothMteval *= 2;
          precisions[n - 1] = 100.0 / (smoothMteval * total);
        } else if (smoothing == Smoothing.FLOOR) {
          precisions[n - 1] = 100.0 * smoothValue / total;
        }
      } else {
        precisions[n - 1] = 100.0 * correct / total;
      }
    }
    double logSum = 0;
    for (int n = 0; n < effOrder; n++) {
      logSum += precisions[n] == 0.0 ? LOG_ZERO : Math.log(precisions[n]);
    }
    double score = bp * Math.exp(logSum / effOrder);
    return new Score(score, precisions, bp, sysLen, refLen, signature);
  }

  /**
   * A BLEU score (0-100) with the numbers sacreBLEU prints.
   *
   * @param score BLEU
   * @param precisions the n-gram precisions (0-100) after smoothing
   * @param bp the brevity penalty
   * @param sysLen hypothesis tokens
   * @param refLen reference tokens
   * @param signature the sacreBLEU signature of the options (and the number of references)
   */
  public record Score(
      double score, double[] precisions, double bp, long sysLen, long refLen, String signature) {
    /** Copies the precisions, so the score is immutable. */
    public Score {
      precisions = precisions.clone();
    }

    /** A copy of the n-gram precisions. */
    @Override
    public double[] precisions() {
      return precisions.clone();
    }

    /** hyp_len / ref_len, 0 when ref_len is 0. */
    public double ratio() {
      return refLen != 0 ? (double) sysLen / refLen : 0;
    }

    /**
     * The line sacreBLEU prints, e.g. {@code BLEU = 50.18 82.4/57.1/45.5/37.5 (BP = 0.943 ratio =
     * 0.944 hyp_len = 17 ref_len = 18)}, with Python's rounding (the exact binary value, ties to
     * even).
     */
    public String verbose() {
      StringBuilder s = new StringBuilder("BLEU = ").append(fixed(score, 2)).append(' ');
      for (int i = 0; i < precisions.length; i++) {
        s.append(i > 0 ? "/" : "").append(fixed(precisions[i], 1));
      }
      return s.append(" (BP = ")
          .append(fixed(bp, 3))
          .append(" ratio = ")
          .append(fixed(ratio(), 3))
          .append(" hyp_len = ")
          .append(sysLen)
          .append(" ref_len = ")
          .append(refLen)
          .append(')')
          .toString();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Score s
          && Double.compare(score, s.score) == 0
          && Arrays.equals(precisions, s.precisions)
          && Double.compare(bp, s.bp) == 0
          && sysLen == s.sysLen
          && refLen == s.refLen
          && signature.equals(s.signature);
    }

    @Override
    public int hashCode() {
      return Double.hashCode(score) * 31 + Arrays.hashCode(precisions);
    }

    @Override
    public String toString() {
      return verbose() + " [" + signature + "]";
    }
  }

  /**
   * Python's {@code f"{x:.{digits}f}"}: the exact binary value rounded half-to-even. Java's {@code
   * String.format} rounds the shortest decimal representation half-up instead (0.125 -> "0.13"
   * where Python prints "0.12").
   */
  static String fixed(double x, int digits) {
    return new BigDecimal(x).setScale(digits, RoundingMode.HALF_EVEN).toPlainString();
  }
}
