package dev.amalgam.eval.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.eval.score.MeanCorpus;
import dev.amalgam.eval.score.ScoredCorpus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BootstrapTest {

  private static MeanCorpus bernoulli(int n, double p, long seed) {
    Random random = new Random(seed);
    List<Map<String, Double>> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) rows.add(Map.of("acc", random.nextDouble() < p ? 1.0 : 0.0));
    return new MeanCorpus(List.of("acc"), rows, Map.of());
  }

  @Test
  void intervalOfAMeanMatchesTheNormalApproximation() {
    MeanCorpus corpus = bernoulli(2000, 0.7, 1);
    Bootstrap.Interval ci = new Bootstrap(2000, 7, 0.95).confidenceIntervals(corpus).get("acc");
    double p = ci.estimate();
    double half = 1.96 * Math.sqrt(p * (1 - p) / 2000);
    assertTrue(ci.lower() < p && p < ci.upper(), ci.toString());
    // the percentile interval of a mean of 2,000 Bernoulli draws is within 15% of the normal one
    assertEquals(half, (ci.upper() - ci.lower()) / 2, 0.15 * half, ci.toString());
  }

  @Test
  void sameSeedSameInterval() {
    MeanCorpus corpus = bernoulli(100, 0.5, 2);
    assertEquals(
        new Bootstrap(200, 3, 0.9).confidenceIntervals(corpus),
        new Bootstrap(200, 3, 0.9).confidenceIntervals(corpus));
  }

  @Test
  void corpusMetricsAreRecomputedOnEachResampleNotAveraged() {
    // a ratio-of-sums metric (like corpus BLEU's statistics): resampling must go through
    // aggregate()
    double[] num = {1, 0, 0, 9};
    double[] den = {1, 1, 1, 9};
    ScoredCorpus ratio =
        new ScoredCorpus() {
          public int size() {
            return 4;
          }

          public List<String> corpusMetricNames() {
            return List.of("ratio");
          }

          public Map<String, Double> perExample(int index) {
            return Map.of("ratio", num[index] / den[index]);
          }

          public Map<String, Double> aggregate(int[] indices) {
            double a = 0;
            double b = 0;
            for (int i : indices) {
              a += num[i];
              b += den[i];
            }
            return Map.of("ratio", a / b);
          }

          public Map<String, String> signatures() {
            return Map.of();
          }
        };
    Bootstrap.Interval ci = Bootstrap.defaults().confidenceIntervals(ratio).get("ratio");
    assertEquals(10.0 / 12.0, ci.estimate(), 1e-15);
    assertTrue(ci.upper() <= 1.0 && ci.lower() >= 0.0, ci.toString());
  }

  @Test
  void pairedDeltaDetectsARealDifferenceAndNotANullOne() {
    MeanCorpus a = bernoulli(1000, 0.5, 11);
    List<Map<String, Double>> better = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      // B fixes 20% of A's errors and breaks nothing
      double v = a.perExample(i).get("acc");
      better.add(Map.of("acc", v == 0 && i % 5 == 0 ? 1.0 : v));
    }
    MeanCorpus b = new MeanCorpus(List.of("acc"), better, Map.of());
    Bootstrap.PairedDelta d = Bootstrap.defaults().paired(a, b).get("acc");
    assertEquals(
        b.aggregate(all(1000)).get("acc") - a.aggregate(all(1000)).get("acc"), d.delta(), 1e-12);
    assertTrue(d.delta() > 0 && d.lower() > 0 && d.pValue() < 0.01, d.toString());
    Bootstrap.PairedDelta same = Bootstrap.defaults().paired(a, a).get("acc");
    assertEquals(0, same.delta());
    assertEquals(1.0, same.pValue());
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> new Bootstrap(0, 1, 0.95));
    assertThrows(IllegalArgumentException.class, () -> new Bootstrap(10, 1, 1.0));
    assertThrows(
        IllegalArgumentException.class,
        () -> Bootstrap.defaults().paired(bernoulli(3, 0.5, 1), bernoulli(4, 0.5, 1)));
    assertThrows(
        IllegalArgumentException.class,
        () -> new MeanCorpus(List.of("acc"), List.of(Map.of("f", 1.0)), Map.of()));
  }

  private static int[] all(int n) {
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    return idx;
  }
}
