package dev.amalgam.eval.ifeval;

import dev.amalgam.eval.score.ScoredCorpus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * IFEval results as a {@link ScoredCorpus}, so the harness reports them, bootstraps them and
 * compares two runs like any other metric. Prompt-level accuracies are means over prompts;
 * instruction-level ones are ratios of sums (followed instructions over all instructions of the
 * resampled prompts), so each resample recomputes them.
 *
 * <p>Per-example values: {@code prompt_level_strict} and {@code prompt_level_loose} (1 or 0),
 * {@code inst_followed_strict}, {@code inst_followed_loose} and {@code inst_total}.
 */
public final class IfevalCorpus implements ScoredCorpus {
  /** Corpus metrics, named as lm-evaluation-harness names them. */
  public static final List<String> METRICS =
      List.of(
          "prompt_level_strict_acc",
          "inst_level_strict_acc",
          "prompt_level_loose_acc",
          "inst_level_loose_acc");

  private static final String[] PER_EXAMPLE = {
    "prompt_level_strict",
    "prompt_level_loose",
    "inst_followed_strict",
    "inst_followed_loose",
    "inst_total"
  };

  private final double[][] values; // [example][PER_EXAMPLE index]

  private IfevalCorpus(double[][] values) {
    this.values = values;
  }

  /** The corpus of evaluated prompts. */
  public static IfevalCorpus of(List<IfevalResult> results) {
    double[][] v = new double[results.size()][];
    for (int i = 0; i < v.length; i++) {
      IfevalResult r = results.get(i);
      v[i] =
          new double[] {
            r.followAllStrict() ? 1 : 0,
            r.followAllLoose() ? 1 : 0,
            count(r.strict()),
            count(r.loose()),
            r.strict().size()
          };
    }
    return new IfevalCorpus(v);
  }

  /**
   * Rebuilds the corpus from {@link #perExample} maps (as stored in predictions.jsonl).
   *
   * @throws IllegalArgumentException if an example lacks a value
   */
  public static IfevalCorpus fromPerExample(List<Map<String, Double>> examples) {
    double[][] v = new double[examples.size()][PER_EXAMPLE.length];
    for (int i = 0; i < v.length; i++) {
      for (int k = 0; k < PER_EXAMPLE.length; k++) {
        Double d = examples.get(i).get(PER_EXAMPLE[k]);
        if (d == null)
          throw new IllegalArgumentException("example " + i + " has no " + PER_EXAMPLE[k]);
        v[i][k] = d;
      }
    }
    return new IfevalCorpus(v);
  }

  private static int count(List<Boolean> flags) {
    int n = 0;
    for (boolean b : flags) if (b) n++;
    return n;
  }

  @Override
  public int size() {
    return values.length;
  }

  @Override
  public List<String> corpusMetricNames() {
    return METRICS;
  }

  @Override
  public Map<String, Double> perExample(int index) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (int k = 0; k < PER_EXAMPLE.length; k++) out.put(PER_EXAMPLE[k], values[index][k]);
    return out;
  }

  @Override
  public Map<String, Double> aggregate(int[] indices) {
    double[] sums = new double[PER_EXAMPLE.length];
    for (int i : indices) for (int k = 0; k < sums.length; k++) sums[k] += values[i][k];
    Map<String, Double> out = new LinkedHashMap<>();
    double n = indices.length;
    out.put(METRICS.get(0), n == 0 ? Double.NaN : sums[0] / n);
    out.put(METRICS.get(1), sums[4] == 0 ? Double.NaN : sums[2] / sums[4]);
    out.put(METRICS.get(2), n == 0 ? Double.NaN : sums[1] / n);
    out.put(METRICS.get(3), sums[4] == 0 ? Double.NaN : sums[3] / sums[4]);
    return out;
  }

  @Override
  public Map<String, String> signatures() {
    return Map.of(
        "ifeval",
        "google-research instruction_following_eval (25 ids, strict + 8 loose variants)"
            + "|langdetect seeded|punkt english (NLTK 3.8 parameters)");
  }
}
