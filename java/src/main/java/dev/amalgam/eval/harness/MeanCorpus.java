package dev.amalgam.eval.harness;

import dev.amalgam.eval.score.ScoredCorpus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-example values whose corpus metric is their mean (accuracy), as a {@link ScoredCorpus}, so multiple choice
 * goes through the same output and bootstrap path as the text metrics.
 */
final class MeanCorpus implements ScoredCorpus {
  private final List<String> names;
  private final List<double[]> values;
  private final Map<String, String> signatures;

  /** {@code values.get(m)[i]} is metric {@code names.get(m)} of example i. */
  MeanCorpus(List<String> names, List<double[]> values, Map<String, String> signatures) {
    this.names = List.copyOf(names);
    this.values = new ArrayList<>(values);
    this.signatures = Map.copyOf(signatures);
  }

  @Override
  public int size() {
    return values.isEmpty() ? 0 : values.get(0).length;
  }

  @Override
  public List<String> corpusMetricNames() {
    return names;
  }

  @Override
  public Map<String, Double> perExample(int index) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (int m = 0; m < names.size(); m++) out.put(names.get(m), values.get(m)[index]);
    return out;
  }

  @Override
  public Map<String, Double> aggregate(int[] indices) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (int m = 0; m < names.size(); m++) {
      double sum = 0;
      for (int i : indices) sum += values.get(m)[i];
      out.put(names.get(m), indices.length == 0 ? Double.NaN : sum / indices.length);
    }
    return out;
  }

  @Override
  public Map<String, String> signatures() {
    return signatures;
  }
}
