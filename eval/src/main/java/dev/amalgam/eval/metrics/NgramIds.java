package dev.amalgam.eval.metrics;

import java.util.HashMap;

/**
 * Dense int ids for the n-grams of several token-id sequences at once, so that ROUGE and BLEU count
 * n-grams with int arrays instead of hashing tuples (the Python references use Counters of tuples;
 * only the counts matter). Level k names each k-gram by the pair (id of its first k-1 tokens, id of
 * its last token), numbered in order of first appearance; equal k-grams in any of the sequences get
 * equal ids.
 */
final class NgramIds {
  /** {@code ids[k - 1][s]}: the ids of the k-grams of sequence s, in position order. */
  final int[][][] ids;

  /** {@code distinct[k - 1]}: how many distinct k-grams there are (ids are 0 .. distinct - 1). */
  final int[] distinct;

  private NgramIds(int[][][] ids, int[] distinct) {
    this.ids = ids;
    this.distinct = distinct;
  }

  /**
   * Computes levels 1..maxOrder.
   *
   * @param vocabulary the number of distinct token ids (tokens are 0 .. vocabulary - 1)
   */
  static NgramIds of(int maxOrder, int vocabulary, int[]... sequences) {
    int[][][] ids = new int[maxOrder][][];
    int[] distinct = new int[maxOrder];
    ids[0] = sequences;
    distinct[0] = vocabulary;
    for (int k = 2; k <= maxOrder; k++) {
      int[][] previous = ids[k - 2];
      int[][] level = new int[sequences.length][];
      HashMap<Long, Integer> numbering = new HashMap<>();
      for (int s = 0; s < sequences.length; s++) {
        int[] tokens = sequences[s];
        int count = Math.max(tokens.length - k + 1, 0);
        int[] grams = new int[count];
        for (int i = 0; i < count; i++) {
          long key = ((long) previous[s][i] << 32) | tokens[i + k - 1];
          Integer id = numbering.get(key);
          if (id == null) {
            id = numbering.size();
            numbering.put(key, id);
          }
          grams[i] = id;
        }
        level[s] = grams;
      }
      ids[k - 1] = level;
      distinct[k - 1] = numbering.size();
    }
    return new NgramIds(ids, distinct);
  }
}
