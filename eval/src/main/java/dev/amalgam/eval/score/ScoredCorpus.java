package dev.amalgam.eval.score;

import java.util.List;
import java.util.Map;

/**
 * Scores of a corpus of (prediction, reference) pairs, kept as per-example values and per-example
 * sufficient statistics so that corpus metrics can be recomputed on any resample of the examples.
 * The bootstrap needs this: corpus BLEU, for one, is not a mean of sentence scores.
 */
public interface ScoredCorpus {

  /** Number of examples. */
  int size();

  /** Names of the corpus metrics that {@link #aggregate} returns, in report order. */
  List<String> corpusMetricNames();

  /**
   * The per-example metric values of example {@code index} (for predictions.jsonl), in a stable
   * order.
   */
  Map<String, Double> perExample(int index);

  /**
   * The corpus metrics over the given examples. Indices may repeat (a bootstrap resample); {@code
   * aggregate} of 0..size-1 gives the reported corpus values.
   */
  Map<String, Double> aggregate(int[] indices);

  /**
   * What was computed, e.g. {@code bleu ->
   * nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0}.
   */
  Map<String, String> signatures();
}
