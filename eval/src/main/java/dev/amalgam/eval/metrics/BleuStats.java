package dev.amalgam.eval.metrics;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;

/**
 * BLEU's sufficient statistics of one segment, or of a corpus after {@link #sum}: hypothesis
 * length, reference length, and per n-gram order (1..4) the clipped matches and the hypothesis
 * n-gram count. Corpus BLEU is computed once from summed statistics (not as a mean of sentence
 * scores), so a harness keeps these per segment and recomputes corpus BLEU on any bootstrap
 * resample without tokenizing again ({@link SacreBleu#score}, {@link HfBleu#score}).
 *
 * @param sysLen hypothesis tokens
 * @param refLen reference tokens (the closest reference for sacreBLEU, the shortest for HF BLEU)
 * @param correct {@code correct[n - 1]}: hypothesis n-grams matched, clipped by the largest count
 *     in any reference
 * @param total {@code total[n - 1]}: hypothesis n-grams
 */
public record BleuStats(long sysLen, long refLen, long[] correct, long[] total) {
  /** The n-gram orders BLEU uses (sacreBLEU's MAX_NGRAM_ORDER and HF's max_order default). */
  public static final int MAX_ORDER = 4;

  /** Checks the lengths and copies the arrays, so the statistics are immutable. */
  public BleuStats {
    if (correct.length != MAX_ORDER || total.length != MAX_ORDER) {
      throw new IllegalArgumentException(
          "BLEU statistics need "
              + MAX_ORDER
              + " orders, got "
              + correct.length
              + " and "
              + total.length);
    }
    correct = correct.clone();
    total = total.clone();
  }

  /** A copy of the clipped matches per order. */
  @Override
  public long[] correct() {
    return correct.clone();
  }

  /** A copy of the hypothesis n-gram counts per order. */
  @Override
  public long[] total() {
    return total.clone();
  }

  /** The clipped matches of order {@code n} (1-based), without copying. */
  public long correct(int n) {
    return correct[n - 1];
  }

  /** The hypothesis n-gram count of order {@code n} (1-based), without copying. */
  public long total(int n) {
    return total[n - 1];
  }

  /** These statistics plus another segment's. */
  public BleuStats plus(BleuStats other) {
    long[] c = new long[MAX_ORDER];
    long[] t = new long[MAX_ORDER];
    for (int i = 0; i < MAX_ORDER; i++) {
      c[i] = correct[i] + other.correct[i];
      t[i] = total[i] + other.total[i];
    }
    return new BleuStats(sysLen + other.sysLen, refLen + other.refLen, c, t);
  }

  /** The sum over all segments (the corpus statistics). */
  public static BleuStats sum(List<BleuStats> segments) {
    int[] all = new int[segments.size()];
    Arrays.setAll(all, i -> i);
    return sum(segments, all);
  }

  /** The sum over the segments at {@code indices}; indices may repeat (a bootstrap resample). */
  public static BleuStats sum(List<BleuStats> segments, int[] indices) {
    long sys = 0;
    long ref = 0;
    long[] c = new long[MAX_ORDER];
    long[] t = new long[MAX_ORDER];
    for (int index : indices) {
      BleuStats s = segments.get(index);
      sys += s.sysLen;
      ref += s.refLen;
      for (int i = 0; i < MAX_ORDER; i++) {
        c[i] += s.correct[i];
        t[i] += s.total[i];
      }
    }
    return new BleuStats(sys, ref, c, t);
  }

  /**
   * The statistics of a tokenized hypothesis against tokenized references (sacreBLEU's {@code
   * _compute_segment_statistics}, HF's loop body of {@code compute_bleu}).
   *
   * @param closestReference true: the reference length closest to the hypothesis length, ties to
   *     the shorter (sacreBLEU); false: the shortest reference length (HF / tensorflow nmt)
   */
  static BleuStats of(String[] hypothesis, List<String[]> references, boolean closestReference) {
    if (references.isEmpty()) {
      throw new IllegalArgumentException("BLEU needs at least one reference per segment");
    }
    HashMap<String, Integer> vocabulary = new HashMap<>();
    int[][] sequences = new int[references.size() + 1][];
    sequences[0] = ids(hypothesis, vocabulary);
    for (int r = 0; r < references.size(); r++) {
      sequences[r + 1] = ids(references.get(r), vocabulary);
    }
    NgramIds grams = NgramIds.of(MAX_ORDER, vocabulary.size(), sequences);
    long[] correct = new long[MAX_ORDER];
    long[] total = new long[MAX_ORDER];
    for (int k = 0; k < MAX_ORDER; k++) {
      int[][] level = grams.ids[k];
      int[] hypothesisCounts = new int[grams.distinct[k]];
      for (int id : level[0]) {
        hypothesisCounts[id]++;
      }
      int[] maxReferenceCounts = new int[grams.distinct[k]];
      int[] counts = new int[grams.distinct[k]];
      for (int r = 1; r < level.length; r++) {
        Arrays.fill(counts, 0);
        for (int id : level[r]) {
          counts[id]++;
        }
        for (int id : level[r]) {
          maxReferenceCounts[id] = Math.max(maxReferenceCounts[id], counts[id]);
        }
      }
      long matched = 0;
      for (int id = 0; id < hypothesisCounts.length; id++) {
        matched += Math.min(hypothesisCounts[id], maxReferenceCounts[id]);
      }
      correct[k] = matched;
      total[k] = level[0].length;
    }
    int hypothesisLength = hypothesis.length;
    long referenceLength;
    if (closestReference) {
      int closestDiff = -1;
      int closestLength = -1;
      for (String[] reference : references) {
        int length = reference.length;
        int diff = Math.abs(hypothesisLength - length);
        if (closestDiff == -1 || diff < closestDiff) {
          closestDiff = diff;
          closestLength = length;
        } else if (diff == closestDiff && length < closestLength) {
          closestLength = length;
        }
      }
      referenceLength = closestLength;
    } else {
      referenceLength = references.stream().mapToInt(r -> r.length).min().getAsInt();
    }
    return new BleuStats(hypothesisLength, referenceLength, correct, total);
  }

  private static int[] ids(String[] tokens, HashMap<String, Integer> vocabulary) {
    int[] ids = new int[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      Integer id = vocabulary.get(tokens[i]);
      if (id == null) {
        id = vocabulary.size();
        vocabulary.put(tokens[i], id);
      }
      ids[i] = id;
    }
    return ids;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BleuStats s
        && sysLen == s.sysLen
        && refLen == s.refLen
        && Arrays.equals(correct, s.correct)
        && Arrays.equals(total, s.total);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(sysLen) * 31
        + Long.hashCode(refLen) * 17
        + Arrays.hashCode(correct) * 7
        + Arrays.hashCode(total);
  }

  @Override
  public String toString() {
    return "BleuStats[sysLen="
        + sysLen
        + ", refLen="
        + refLen
        + ", correct="
        + Arrays.toString(correct)
        + ", total="
        + Arrays.toString(total)
        + "]";
  }
}
