package dev.amalgam.eval.stats;

import dev.amalgam.eval.score.ScoredCorpus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.random.RandomGenerator;
import org.apache.commons.math3.random.Well19937c;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.apache.commons.math3.stat.descriptive.rank.Percentile.EstimationType;

/**
 * Bootstrap statistics over the examples of a scored corpus: percentile confidence intervals for
 * every corpus metric, and paired bootstrap deltas between two systems scored on the same examples
 * (Koehn 2004).
 *
 * <p>Each resample draws {@code size} example indices with replacement and recomputes the corpus
 * metrics from the per-example statistics ({@link ScoredCorpus#aggregate}), so corpus BLEU is
 * resampled as corpus BLEU, not as a mean of sentence scores. The generator is seeded: the same
 * seed gives the same intervals. Percentiles use the linear interpolation numpy's {@code
 * percentile} uses (Hyndman-Fan type 7).
 */
public final class Bootstrap {
  /**
   * Resamples drawn by default, as in rouge-score's BootstrapAggregator and sacreBLEU's paired
   * test.
   */
  public static final int DEFAULT_SAMPLES = 1000;

  /** Default seed. */
  public static final long DEFAULT_SEED = 12345;

  /** Default confidence level. */
  public static final double DEFAULT_LEVEL = 0.95;

  private final int samples;
  private final long seed;
  private final double level;

  /**
   * @param samples number of resamples (at least 1)
   * @param seed generator seed
   * @param level confidence level, in (0, 1)
   */
  public Bootstrap(int samples, long seed, double level) {
    if (samples < 1)
      throw new IllegalArgumentException("bootstrap samples must be at least 1, got " + samples);
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("confidence level must lie in (0, 1), got " + level);
    }
    this.samples = samples;
    this.seed = seed;
    this.level = level;
  }

  /** 1,000 resamples, seed {@value #DEFAULT_SEED}, 95%. */
  public static Bootstrap defaults() {
    return new Bootstrap(DEFAULT_SAMPLES, DEFAULT_SEED, DEFAULT_LEVEL);
  }

  /** The number of resamples. */
  public int samples() {
    return samples;
  }

  /** The confidence level. */
  public double level() {
    return level;
  }

  /** The generator seed. */
  public long seed() {
    return seed;
  }

  /**
   * A corpus metric with its bootstrap interval.
   *
   * @param estimate the metric on the full corpus
   * @param lower the lower percentile of the resampled values
   * @param upper the upper percentile
   */
  public record Interval(double estimate, double lower, double upper) {}

  /**
   * The difference {@code b - a} of one corpus metric between two systems on the same examples.
   *
   * @param a the metric of system A on the full corpus
   * @param b the metric of system B
   * @param delta {@code b - a}
   * @param lower the lower percentile of the resampled deltas
   * @param upper the upper percentile
   * @param pValue two-sided p-value of "no difference": twice the smaller share of resamples whose
   *     delta lies on either side of zero (zero counted on both), with the add-one correction so it
   *     is never 0; capped at 1
   */
  public record PairedDelta(
      double a, double b, double delta, double lower, double upper, double pValue) {}

  /**
   * A {@link Interval} for every corpus metric, in {@link ScoredCorpus#corpusMetricNames()} order.
   */
  public Map<String, Interval> confidenceIntervals(ScoredCorpus corpus) {
    int n = corpus.size();
    List<String> names = corpus.corpusMetricNames();
    Map<String, Double> full = corpus.aggregate(identity(n));
    Map<String, Interval> out = new LinkedHashMap<>();
    if (n == 0) {
      for (String name : names) out.put(name, new Interval(full.get(name), Double.NaN, Double.NaN));
      return out;
    }
    double[][] values = new double[names.size()][samples];
    RandomGenerator random = new Well19937c(seed);
    int[] indices = new int[n];
    for (int s = 0; s < samples; s++) {
      for (int i = 0; i < n; i++) indices[i] = random.nextInt(n);
      Map<String, Double> resampled = corpus.aggregate(indices);
      for (int m = 0; m < names.size(); m++) values[m][s] = resampled.get(names.get(m));
    }
    for (int m = 0; m < names.size(); m++) {
      double[] lowHigh = percentiles(values[m]);
      out.put(names.get(m), new Interval(full.get(names.get(m)), lowHigh[0], lowHigh[1]));
    }
    return out;
  }

  /**
   * Paired deltas {@code b - a} for every corpus metric the two corpora share. Both must hold the
   * same examples in the same order; each resample uses the same indices for both.
   *
   * @throws IllegalArgumentException if the corpora differ in size or share no metric
   */
  public Map<String, PairedDelta> paired(ScoredCorpus a, ScoredCorpus b) {
    if (a.size() != b.size()) {
      throw new IllegalArgumentException(
          "paired bootstrap needs the same examples: " + a.size() + " vs " + b.size());
    }
    List<String> names =
        a.corpusMetricNames().stream().filter(b.corpusMetricNames()::contains).toList();
    if (names.isEmpty()) throw new IllegalArgumentException("the two runs share no corpus metric");
    int n = a.size();
    Map<String, Double> fullA = a.aggregate(identity(n));
    Map<String, Double> fullB = b.aggregate(identity(n));
    double[][] deltas = new double[names.size()][samples];
    RandomGenerator random = new Well19937c(seed);
    int[] indices = new int[n];
    for (int s = 0; s < samples && n > 0; s++) {
      for (int i = 0; i < n; i++) indices[i] = random.nextInt(n);
      Map<String, Double> ra = a.aggregate(indices);
      Map<String, Double> rb = b.aggregate(indices);
      for (int m = 0; m < names.size(); m++)
        deltas[m][s] = rb.get(names.get(m)) - ra.get(names.get(m));
    }
    Map<String, PairedDelta> out = new LinkedHashMap<>();
    for (int m = 0; m < names.size(); m++) {
      String name = names.get(m);
      double va = fullA.get(name);
      double vb = fullB.get(name);
      if (n == 0) {
        out.put(name, new PairedDelta(va, vb, vb - va, Double.NaN, Double.NaN, Double.NaN));
        continue;
      }
      double[] lowHigh = percentiles(deltas[m]);
      long atMostZero = 0;
      long atLeastZero = 0;
      for (double d : deltas[m]) {
        if (d <= 0) atMostZero++;
        if (d >= 0) atLeastZero++;
      }
      double p = Math.min(1.0, 2.0 * (Math.min(atMostZero, atLeastZero) + 1) / (samples + 1));
      out.put(name, new PairedDelta(va, vb, vb - va, lowHigh[0], lowHigh[1], p));
    }
    return out;
  }

  private double[] percentiles(double[] values) {
    Percentile percentile = new Percentile().withEstimationType(EstimationType.R_7);
    percentile.setData(values);
    double tail = (1 - level) / 2 * 100;
    return new double[] {percentile.evaluate(tail), percentile.evaluate(100 - tail)};
  }

  private static int[] identity(int n) {
    int[] all = new int[n];
    for (int i = 0; i < n; i++) all[i] = i;
    return all;
  }
}
