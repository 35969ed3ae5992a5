package dev.amalgam.eval.score;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scored corpus whose corpus metrics are plain means of per-example values: accuracy of
 * multiple-choice answers, IFEval's instruction-level and prompt-level accuracy, mean sentence
 * scores.
 */
public final class MeanCorpus implements ScoredCorpus {
  private final List<String> names;
  private final List<Map<String, Double>> examples;
  private final Map<String, String> signatures;

  /**
   * @param names the metrics, in report order; every example must hold each of them
   * @param examples per-example values
   * @param signatures what was computed, copied into reports
   * @throws IllegalArgumentException if an example lacks a metric
   */
  public MeanCorpus(
      List<String> names, List<Map<String, Double>> examples, Map<String, String> signatures) {
    this.names = List.copyOf(names);
    List<Map<String, Double>> copy = new ArrayList<>(examples.size());
    for (int i = 0; i < examples.size(); i++) {
      Map<String, Double> example = examples.get(i);
      for (String name : names) {
        Double v = example.get(name);
        if (v == null)
          throw new IllegalArgumentException("example " + i + " has no value for " + name);
      }
      copy.add(java.util.Collections.unmodifiableMap(new LinkedHashMap<>(example)));
    }
    this.examples = List.copyOf(copy);
    this.signatures = Map.copyOf(signatures);
  }

  @Override
  public int size() {
    return examples.size();
  }

  @Override
  public List<String> corpusMetricNames() {
    return names;
  }

  @Override
  public Map<String, Double> perExample(int index) {
    return examples.get(index);
  }

  /** The mean of each metric over {@code indices}; NaN for an empty selection. */
  @Override
  public Map<String, Double> aggregate(int[] indices) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String name : names) {
      double sum = 0;
      for (int i : indices) sum += examples.get(i).get(name);
      out.put(name, indices.length == 0 ? Double.NaN : sum / indices.length);
    }
    return out;
  }

  @Override
  public Map<String, String> signatures() {
    return signatures;
  }
}
