package dev.amalgam.eval.metrics;

import dev.amalgam.eval.text.PorterStemmer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * METEOR exactly as NLTK 3.8 {@code nltk.translate.meteor_score} computes it ({@code
 * single_meteor_score} and {@code meteor_score}), so that scores equal the Python reference to the
 * last bits.
 *
 * <p>Words are lowercased, then matched in three greedy stages, each on the words still unmatched:
 * exact, Porter stem (NLTK_EXTENSIONS), WordNet synonym. In each stage the hypothesis is walked
 * from its last word to its first and, for each, the reference from its last word to its first; the
 * first equal pair is taken and both words leave the lists. NLTK's stem stage hands its
 * <em>stemmed</em> leftovers to the synonym stage, so synonyms are looked up for stems and compared
 * with stems; this class does the same. There is no search for the alignment with the fewest
 * crossings (the NLTK docstring mentions one; the code has none).
 *
 * <p>Score: P = m/|hyp|, R = m/|ref|, fmean = P·R/(α·P + (1−α)·R), frag = chunks/m, penalty =
 * γ·frag^β, score = (1 − penalty)·fmean, in Python's operation order; any division by zero gives
 * 0.0. Thread-safe; stems are cached.
 */
public final class Meteor {

  /** NLTK's default α (weight of precision against recall). */
  public static final double DEFAULT_ALPHA = 0.9;

  /** NLTK's default β (shape of the fragmentation penalty). */
  public static final double DEFAULT_BETA = 3.0;

  /** NLTK's default γ (weight of the fragmentation penalty). */
  public static final double DEFAULT_GAMMA = 0.5;

  private final UnaryOperator<String> stemmer;
  private final WordNetSynonyms wordNet;
  private final double alpha;
  private final double beta;
  private final double gamma;
  private final Map<String, String> stems = new ConcurrentHashMap<>();

  /**
   * METEOR with an explicit stemmer, WordNet and parameters.
   *
   * @param stemmer applied to lowercased words (NLTK: {@code PorterStemmer().stem})
   * @param wordNet synonym source (NLTK: {@code nltk.corpus.wordnet}, WordNet 3.0)
   * @param alpha weight of precision against recall, in [0, 1]
   * @param beta exponent of the fragmentation penalty
   * @param gamma weight of the fragmentation penalty
   */
  public Meteor(
      UnaryOperator<String> stemmer,
      WordNetSynonyms wordNet,
      double alpha,
      double beta,
      double gamma) {
    this.stemmer = Objects.requireNonNull(stemmer, "stemmer");
    this.wordNet = Objects.requireNonNull(wordNet, "wordNet");
    if (!(alpha >= 0 && alpha <= 1) || !Double.isFinite(beta) || !Double.isFinite(gamma)) {
      throw new IllegalArgumentException(
          "METEOR parameters: alpha must be in [0, 1] and beta, gamma finite; got alpha "
              + alpha
              + ", beta "
              + beta
              + ", gamma "
              + gamma);
    }
    this.alpha = alpha;
    this.beta = beta;
    this.gamma = gamma;
  }

  /**
   * NLTK's defaults: Porter stemmer (NLTK_EXTENSIONS), WordNet 3.0, α 0.9, β 3, γ 0.5. Loads
   * WordNet on first use.
   */
  public static Meteor nltkDefaults() {
    return new Meteor(
        PorterStemmer::stem, WordNetSynonyms.shared(), DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_GAMMA);
  }

  /**
   * What this instance computes, e.g. {@code
   * nltk3.8|wn3.0|alpha:0.9|beta:3.0|gamma:0.5|tok:whitespace}.
   */
  public String signature(MeteorTokenization tokenization) {
    return "nltk3.8|wn"
        + wordNet.version()
        + "|alpha:"
        + alpha
        + "|beta:"
        + beta
        + "|gamma:"
        + gamma
        + "|tok:"
        + tokenization.signatureName();
  }

  /** {@code single_meteor_score(reference, hypothesis)} on token lists. */
  public double score(List<String> reference, List<String> hypothesis) {
    int[] hypIndex = indices(hypothesis.size());
    int[] refIndex = indices(reference.size());
    String[] hypWords = lower(hypothesis);
    String[] refWords = lower(reference);
    Alignment alignment = new Alignment(hypIndex, hypWords, refIndex, refWords);
    alignment.matchExact();
    alignment.stem(this::stem);
    alignment.matchExact();
    alignment.matchSynonyms(wordNet);
    return score(hypothesis.size(), reference.size(), alignment.sortedMatches());
  }

  /**
   * {@code meteor_score(references, hypothesis)}: the best single score over the references.
   *
   * @throws IllegalArgumentException if there is no reference (Python's {@code max()} of nothing
   *     fails too)
   */
  public double scoreMulti(List<? extends List<String>> references, List<String> hypothesis) {
    if (references.isEmpty()) {
      throw new IllegalArgumentException("METEOR needs at least one reference, got none");
    }
    double best = Double.NEGATIVE_INFINITY;
    for (List<String> reference : references) {
      best = Math.max(best, score(reference, hypothesis));
    }
    return best;
  }

  /** Tokenizes both strings with {@code tokenization}, then {@link #score(List, List)}. */
  public double score(String reference, String hypothesis, MeteorTokenization tokenization) {
    return score(tokenization.tokenize(reference), tokenization.tokenize(hypothesis));
  }

  /**
   * The chunk count of matches sorted by hypothesis index: 1, plus 1 at every pair not (h+1,
   * r+1)-adjacent.
   */
  static int countChunks(List<int[]> matches) {
    int chunks = 1;
    for (int i = 0; i + 1 < matches.size(); i++) {
      int[] current = matches.get(i);
      int[] next = matches.get(i + 1);
      if (!(next[0] == current[0] + 1 && next[1] == current[1] + 1)) {
        chunks++;
      }
    }
    return chunks;
  }

  private double score(int hypothesisLength, int referenceLength, List<int[]> matches) {
    int matchCount = matches.size();
    // Python raises ZeroDivisionError (and NLTK returns 0.0) for each of these divisions by zero.
    if (hypothesisLength == 0 || referenceLength == 0) {
      return 0.0;
    }
    double precision = (double) matchCount / hypothesisLength;
    double recall = (double) matchCount / referenceLength;
    double denominator = alpha * precision + (1 - alpha) * recall;
    if (denominator == 0.0 || matchCount == 0) {
      return 0.0;
    }
    double fmean = (precision * recall) / denominator;
    double fragmentation = (double) countChunks(matches) / matchCount;
    double penalty = gamma * Math.pow(fragmentation, beta);
    return (1 - penalty) * fmean;
  }

  private String stem(String word) {
    String cached = stems.get(word);
    if (cached == null) {
      cached = stemmer.apply(word);
      stems.putIfAbsent(word, cached);
    }
    return cached;
  }

  private static int[] indices(int n) {
    int[] indices = new int[n];
    Arrays.setAll(indices, i -> i);
    return indices;
  }

  /** NLTK's {@code preprocess=str.lower}. */
  private static String[] lower(List<String> tokens) {
    String[] words = new String[tokens.size()];
    for (int i = 0; i < words.length; i++) {
      words[i] = tokens.get(i).toLowerCase(Locale.ROOT);
    }
    return words;
  }

  /**
   * The unmatched (index, word) lists of both sides and the matches so far; mirrors NLTK's
   * enumerated lists and their {@code pop} order. Package-private for the stage tests.
   */
  static final class Alignment {
    private final List<Integer> hypIndex;
    private final List<String> hypWords;
    private final List<Integer> refIndex;
    private final List<String> refWords;
    private final List<int[]> matches = new ArrayList<>();

    Alignment(int[] hypIndex, String[] hypWords, int[] refIndex, String[] refWords) {
      this.hypIndex = boxed(hypIndex);
      this.hypWords = new ArrayList<>(Arrays.asList(hypWords));
      this.refIndex = boxed(refIndex);
      this.refWords = new ArrayList<>(Arrays.asList(refWords));
    }

    /**
     * NLTK's {@code _match_enums}: equal words, hypothesis last to first, reference last to first.
     */
    void matchExact() {
      for (int i = hypWords.size() - 1; i >= 0; i--) {
        String word = hypWords.get(i);
        for (int j = refWords.size() - 1; j >= 0; j--) {
          if (word.equals(refWords.get(j))) {
            take(i, j);
            break;
          }
        }
      }
    }

    /**
     * NLTK's {@code _enum_stem_match} first half: the leftovers of both sides are replaced by their
     * stems.
     */
    void stem(UnaryOperator<String> stemmer) {
      hypWords.replaceAll(stemmer);
      refWords.replaceAll(stemmer);
    }

    /**
     * NLTK's {@code _enum_wordnetsyn_match}: a reference word matches when it is the hypothesis
     * word or one of its WordNet lemma names.
     */
    void matchSynonyms(WordNetSynonyms wordNet) {
      for (int i = hypWords.size() - 1; i >= 0; i--) {
        String word = hypWords.get(i);
        Set<String> synonyms = wordNet.synonyms(word);
        for (int j = refWords.size() - 1; j >= 0; j--) {
          String candidate = refWords.get(j);
          if (candidate.equals(word) || synonyms.contains(candidate)) {
            take(i, j);
            break;
          }
        }
      }
    }

    /** The (hypothesis index, reference index) matches sorted by hypothesis index. */
    List<int[]> sortedMatches() {
      List<int[]> sorted = new ArrayList<>(matches);
      sorted.sort((a, b) -> Integer.compare(a[0], b[0]));
      return sorted;
    }

    List<String> unmatchedHypothesis() {
      return List.copyOf(hypWords);
    }

    List<String> unmatchedReference() {
      return List.copyOf(refWords);
    }

    private void take(int i, int j) {
      matches.add(new int[] {hypIndex.get(i), refIndex.get(j)});
      hypIndex.remove(i);
      hypWords.remove(i);
      refIndex.remove(j);
      refWords.remove(j);
    }

    private static List<Integer> boxed(int[] values) {
      List<Integer> list = new ArrayList<>(values.length);
      for (int value : values) {
        list.add(value);
      }
      return list;
    }
  }
}
