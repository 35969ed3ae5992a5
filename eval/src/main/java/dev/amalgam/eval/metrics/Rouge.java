package dev.amalgam.eval.metrics;

import dev.amalgam.eval.text.PorterStemmer;
import dev.amalgam.eval.text.RougeTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * ROUGE exactly as rouge-score 0.1.2 ({@code RougeScorer(rouge_types, use_stemmer)},
 * google-research rouge/ at 61ce9f0) computes it, so that scores equal the Python package to the
 * last bit:
 *
 * <ul>
 *   <li>{@code rougeN} (N &ge; 1): clipped n-gram overlap; P = overlap / max(#prediction n-grams,
 *       1), R = overlap / max(#reference n-grams, 1).
 *   <li>{@code rougeL}: longest common subsequence of the whole token sequences; any empty side
 *       gives 0/0/0.
 *   <li>{@code rougeLsum}: summary-level "union LCS" over sentences split on {@code \n} (Lin 2004,
 *       §3.2): per reference sentence the union of the reference positions of its LCS with every
 *       prediction sentence (LCS read back with rouge-score's tie rule), counted while both texts'
 *       token counters still hold the token.
 * </ul>
 *
 * F = 2PR / (P + R), or 0 when P + R = 0, evaluated in Python's order of operations. Tokens come
 * from {@link RougeTokenizer}. Unlike rouge-score, which accepts only {@code rouge1}..{@code
 * rouge9}, any positive N is allowed.
 *
 * <p>Instances are immutable and thread-safe. Each call maps tokens to small ints through a
 * per-call hash map (each distinct token is stemmed once) and runs the LCS on int arrays in one
 * reused table.
 */
public final class Rouge {
  /** The types HF {@code evaluate.load('rouge')} reports by default. */
  public static final List<String> DEFAULT_TYPES =
      List.of("rouge1", "rouge2", "rougeL", "rougeLsum");

  private static final int LCS = 0;
  private static final int LCS_SUMMARY = -1;

  private final List<String> types;
  private final int[] kinds; // n for rougeN, LCS or LCS_SUMMARY
  private final boolean useStemmer;
  private final boolean needsSentences;

  /**
   * Creates a scorer.
   *
   * @param types rouge types in report order: {@code rougeN} (N a positive integer), {@code
   *     rougeL}, {@code rougeLsum}
   * @param useStemmer whether tokens longer than 3 characters are Porter-stemmed (rouge-score's
   *     {@code use_stemmer})
   * @throws IllegalArgumentException for an empty list, an unknown or repeated type
   */
  public Rouge(List<String> types, boolean useStemmer) {
    if (types.isEmpty()) {
      throw new IllegalArgumentException(
          "no rouge types given (known: rougeN for N >= 1, rougeL, rougeLsum)");
    }
    this.types = List.copyOf(types);
    this.kinds = new int[types.size()];
    boolean sentences = false;
    for (int t = 0; t < types.size(); t++) {
      String type = types.get(t);
      if (types.indexOf(type) != t) {
        throw new IllegalArgumentException("rouge type '" + type + "' is listed twice");
      }
      kinds[t] = kindOf(type);
      sentences |= kinds[t] == LCS_SUMMARY;
    }
    this.useStemmer = useStemmer;
    this.needsSentences = sentences;
  }

  /** rouge1, rouge2, rougeL and rougeLsum, the HF evaluate default set. */
  public static Rouge defaults(boolean useStemmer) {
    return new Rouge(DEFAULT_TYPES, useStemmer);
  }

  private static int kindOf(String type) {
    if (type.equals("rougeL")) {
      return LCS;
    }
    if (type.equals("rougeLsum")) {
      return LCS_SUMMARY;
    }
    if (type.startsWith("rouge") && type.length() > 5 && type.length() <= 9) {
      String digits = type.substring(5);
      if (digits.chars().allMatch(c -> c >= '0' && c <= '9') && digits.charAt(0) != '0') {
        return Integer.parseInt(digits);
      }
    }
    throw new IllegalArgumentException(
        "unknown rouge type '" + type + "' (known: rougeN for N >= 1, rougeL, rougeLsum)");
  }

  /** The rouge types, in the order of {@link #score}'s map. */
  public List<String> types() {
    return types;
  }

  /** Whether tokens are stemmed. */
  public boolean useStemmer() {
    return useStemmer;
  }

  /**
   * What this scorer computes, for reports: for example {@code
   * rouge-score:0.1.2|types:rouge1,rouge2,rougeL,rougeLsum|stem:no|tok:default|lsum_split:newline}.
   */
  public String signature() {
    return "rouge-score:0.1.2|types:"
        + String.join(",", types)
        + "|stem:"
        + (useStemmer ? "yes" : "no")
        + "|tok:default|lsum_split:newline";
  }

  /**
   * Scores a prediction against one reference, like rouge-score's {@code score(target, prediction)}
   * (reference first, as there).
   *
   * @return type -> scores, in {@link #types()} order
   */
  public Map<String, Prf> score(String reference, String prediction) {
    Objects.requireNonNull(reference, "reference");
    Objects.requireNonNull(prediction, "prediction");
    Pair pair = new Pair(reference, prediction);
    Map<String, Prf> result = new LinkedHashMap<>();
    for (int t = 0; t < kinds.length; t++) {
      int kind = kinds[t];
      Prf prf;
      if (kind == LCS) {
        prf = pair.lcs();
      } else if (kind == LCS_SUMMARY) {
        prf = pair.summaryLcs();
      } else {
        prf = pair.ngrams(kind);
      }
      result.put(types.get(t), prf);
    }
    return Collections.unmodifiableMap(result);
  }

  /**
   * Scores a prediction against several references like rouge-score's {@code score_multi}: per
   * type, the scores of the reference with the highest F (the first one on ties).
   *
   * @throws IllegalArgumentException if {@code references} is empty
   */
  public Map<String, Prf> scoreMulti(List<String> references, String prediction) {
    if (references.isEmpty()) {
      throw new IllegalArgumentException("scoreMulti needs at least one reference");
    }
    List<Map<String, Prf>> all = new ArrayList<>(references.size());
    for (String reference : references) {
      all.add(score(reference, prediction));
    }
    Map<String, Prf> best = new LinkedHashMap<>();
    for (String type : types) {
      Prf max = all.get(0).get(type);
      for (int r = 1; r < all.size(); r++) {
        Prf candidate = all.get(r).get(type);
        if (candidate.f() > max.f()) { // strict: numpy.argmax keeps the first maximum
          max = candidate;
        }
      }
      best.put(type, max);
    }
    return Collections.unmodifiableMap(best);
  }

  /**
   * F = 2PR / (P + R) as rouge-score's {@code scoring.fmeasure}, evaluated left to right like
   * Python.
   */
  static Prf prf(double precision, double recall) {
    double f = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
    return new Prf(precision, recall, f);
  }

  /** The token ids of one (reference, prediction) pair, with the work buffers of one call. */
  private final class Pair {
    private final HashMap<String, Integer> rawIds = new HashMap<>();
    private final HashMap<String, Integer> stemIds;
    private final int[] reference;
    private final int[] prediction;
    private final int[][] referenceSentences;
    private final int[][] predictionSentences;
    private int[] table = new int[0];

    Pair(String referenceText, String predictionText) {
      stemIds = useStemmer ? new HashMap<>() : null;
      if (needsSentences) {
        referenceSentences = sentenceIds(referenceText);
        predictionSentences = sentenceIds(predictionText);
        reference = concat(referenceSentences);
        prediction = concat(predictionSentences);
      } else {
        referenceSentences = null;
        predictionSentences = null;
        reference = ids(RougeTokenizer.tokenize(referenceText, false));
        prediction = ids(RougeTokenizer.tokenize(predictionText, false));
      }
    }

    private int[][] sentenceIds(String text) {
      List<List<String>> lines = RougeTokenizer.tokenizeLines(text, false);
      int[][] sentences = new int[lines.size()][];
      for (int s = 0; s < sentences.length; s++) {
        sentences[s] = ids(lines.get(s));
      }
      return sentences;
    }

    /**
     * Unstemmed tokens -> ids; with stemming each distinct raw token is stemmed once and ids name
     * stems.
     */
    private int[] ids(List<String> tokens) {
      int[] ids = new int[tokens.size()];
      for (int i = 0; i < ids.length; i++) {
        String raw = tokens.get(i);
        Integer id = rawIds.get(raw);
        if (id == null) {
          if (stemIds == null) {
            id = rawIds.size();
          } else {
            String stem = raw.length() > 3 ? PorterStemmer.stem(raw) : raw;
            id = stemIds.get(stem);
            if (id == null) {
              id = stemIds.size();
              stemIds.put(stem, id);
            }
          }
          rawIds.put(raw, id);
        }
        ids[i] = id;
      }
      return ids;
    }

    private int vocabularySize() {
      return stemIds == null ? rawIds.size() : stemIds.size();
    }

    Prf ngrams(int n) {
      int referenceCount = Math.max(reference.length - n + 1, 0);
      int predictionCount = Math.max(prediction.length - n + 1, 0);
      int overlap = 0;
      if (referenceCount > 0 && predictionCount > 0) {
        int[][] grams = NgramIds.of(n, vocabularySize(), reference, prediction).ids[n - 1];
        overlap = sortedOverlap(grams[0].clone(), grams[1].clone());
      }
      double precision = (double) overlap / Math.max(predictionCount, 1);
      double recall = (double) overlap / Math.max(referenceCount, 1);
      return prf(precision, recall);
    }

    Prf lcs() {
      if (reference.length == 0 || prediction.length == 0) {
        return Prf.ZERO;
      }
      int length = lcsLength(reference, prediction);
      return prf((double) length / prediction.length, (double) length / reference.length);
    }

    Prf summaryLcs() {
      int m = reference.length;
      int n = prediction.length;
      if (m == 0 || n == 0) { // also covers no sentences on either side
        return Prf.ZERO;
      }
      int[] referenceLeft = new int[vocabularySize()];
      int[] predictionLeft = new int[referenceLeft.length];
      for (int id : reference) {
        referenceLeft[id]++;
      }
      for (int id : prediction) {
        predictionLeft[id]++;
      }
      int hits = 0;
      for (int[] sentence : referenceSentences) {
        boolean[] inUnion = new boolean[sentence.length];
        for (int[] candidate : predictionSentences) {
          markLcsPositions(sentence, candidate, inUnion);
        }
        for (int i = 0; i < sentence.length; i++) { // ascending, like sorted(set().union(...))
          int token = sentence[i];
          if (inUnion[i] && predictionLeft[token] > 0 && referenceLeft[token] > 0) {
            hits++;
            predictionLeft[token]--;
            referenceLeft[token]--;
          }
        }
      }
      return prf((double) hits / n, (double) hits / m);
    }

    /** LCS length with two rolling rows of the same recurrence as rouge-score's table. */
    private int lcsLength(int[] a, int[] b) {
      int cols = b.length + 1;
      ensureTable(2 * cols);
      int[] t = table;
      Arrays.fill(t, 0, 2 * cols, 0);
      int previous = 0;
      int current = cols;
      for (int i = 1; i <= a.length; i++) {
        int ai = a[i - 1];
        t[current] = 0;
        for (int j = 1; j < cols; j++) {
          t[current + j] =
              ai == b[j - 1]
                  ? t[previous + j - 1] + 1
                  : Math.max(t[previous + j], t[current + j - 1]);
        }
        int swap = previous;
        previous = current;
        current = swap;
      }
      return t[previous + cols - 1];
    }

    /**
     * Marks the reference positions of one LCS of {@code ref} and {@code can}, read back from the
     * full table with rouge-score's tie rule ({@code _backtrack_norec}: move left only if the left
     * cell is strictly larger).
     */
    private void markLcsPositions(int[] ref, int[] can, boolean[] marks) {
      if (ref.length == 0 || can.length == 0) {
        return;
      }
      int cols = can.length + 1;
      ensureTable((ref.length + 1) * cols);
      int[] t = table;
      Arrays.fill(t, 0, cols, 0);
      for (int i = 1; i <= ref.length; i++) {
        int row = i * cols;
        int up = row - cols;
        int ri = ref[i - 1];
        t[row] = 0;
        for (int j = 1; j < cols; j++) {
          t[row + j] = ri == can[j - 1] ? t[up + j - 1] + 1 : Math.max(t[up + j], t[row + j - 1]);
        }
      }
      int i = ref.length;
      int j = can.length;
      while (i > 0 && j > 0) {
        if (ref[i - 1] == can[j - 1]) {
          marks[i - 1] = true;
          i--;
          j--;
        } else if (t[i * cols + j - 1] > t[(i - 1) * cols + j]) {
          j--;
        } else {
          i--;
        }
      }
    }

    private void ensureTable(int size) {
      if (table.length < size) {
        table = new int[Math.max(size, table.length * 2)];
      }
    }
  }

  private static int[] concat(int[][] sentences) {
    int total = 0;
    for (int[] s : sentences) {
      total += s.length;
    }
    int[] all = new int[total];
    int at = 0;
    for (int[] s : sentences) {
      System.arraycopy(s, 0, all, at, s.length);
      at += s.length;
    }
    return all;
  }

  /**
   * Σ min(count in a, count in b) over values: the clipped overlap of two multisets, by sorting and
   * merging.
   */
  static int sortedOverlap(int[] a, int[] b) {
    Arrays.sort(a);
    Arrays.sort(b);
    int overlap = 0;
    int i = 0;
    int j = 0;
    while (i < a.length && j < b.length) {
      if (a[i] == b[j]) {
        overlap++;
        i++;
        j++;
      } else if (a[i] < b[j]) {
        i++;
      } else {
        j++;
      }
    }
    return overlap;
  }
}
