package dev.amalgam.eval.score;

import java.util.List;

/**
 * Scores generated text against references (ROUGE, BLEU, METEOR, BERTScore and their composite).
 */
public interface CorpusScorer {

  /**
   * Scores each prediction against the reference at the same index.
   *
   * @throws IllegalArgumentException if the lists differ in length
   */
  ScoredCorpus score(List<String> predictions, List<String> references);
}
