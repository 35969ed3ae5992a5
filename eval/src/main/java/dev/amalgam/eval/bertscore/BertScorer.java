package dev.amalgam.eval.bertscore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * BERTScore as bert_score 0.3.12 ({@code bert_score.score}) computes it, over any {@link
 * TokenEmbedder}.
 *
 * <p>Per (candidate, reference) pair: token vectors are L2-normalised; each candidate token's
 * precision is its best cosine similarity to any reference token and each reference token's recall
 * its best similarity to any candidate token, special tokens ([CLS], [SEP]) included in these
 * maxima; P and R are the weighted means of those values with weight 0 for special tokens and 1 (or
 * the token's idf) for the others; F = 2PR/(P+R). Facts matched from bert_score's source
 * (utils.greedy_cos_idf, score.score):
 *
 * <ul>
 *   <li>An empty candidate or reference (only special tokens) gives P = R = F = 0.
 *   <li>Weights that sum to zero on one side (only possible with idf, e.g. idf over a single
 *       reference, where every reference token has idf ln(2/2) = 0) make that side NaN, as in
 *       bert_score; F is then 0.
 *   <li>idf is computed on the reference list as given (N = number of references, repeats counted;
 *       df(t) = number of references containing token t after truncation): {@code idf(t) =
 *       ln((N+1)/(df(t)+1))}, {@code ln(N+1)} for tokens no reference contains, 0 for special
 *       tokens.
 *   <li>With several references per candidate, P, R and F are <em>each</em> the maximum over the
 *       references (torch.max over the group, element-wise), so they may come from different
 *       references; NaN propagates.
 *   <li>Rescaling {@code (s - b)/(1 - b)} is applied after that maximum, to P, R and F
 *       independently.
 * </ul>
 *
 * <p>One known, deliberate difference: bert_score multiplies the similarity matrix by the padding
 * mask, so a token whose best real similarity is negative scores 0 instead when the paired sentence
 * is shorter than the longest one in its batch of 64 (a batch-dependent artefact). Here the maximum
 * runs over real tokens only. With contextual embeddings (and [CLS]/[SEP] in the maximum) best
 * similarities are positive, so the two agree in practice.
 *
 * <p>Each distinct text is embedded once per call (a reference shared by many candidates, idf), and
 * embeddings are held for the call: about 1.5 KB per token for a 384-dimensional encoder.
 */
public final class BertScorer {
  /** The bert_score version whose semantics this class follows (it appears in {@link #hash()}). */
  public static final String BERT_SCORE_VERSION = "0.3.12";

  private final TokenEmbedder embedder;
  private final BertScoreOptions options;

  /** A scorer over {@code embedder} with the given options. */
  public BertScorer(TokenEmbedder embedder, BertScoreOptions options) {
    this.embedder = Objects.requireNonNull(embedder, "embedder");
    this.options = Objects.requireNonNull(options, "options");
  }

  /** The options this scorer was built with. */
  public BertScoreOptions options() {
    return options;
  }

  /**
   * bert_score's hash adapted to onnxruntime, recorded with every score so numbers from different
   * encoders or settings are never compared by mistake: {@code
   * {model}_L{layer}_{idf|no-idf}_version=0.3.12(onnx)} plus {@code -custom-rescaled} when a
   * baseline is set (bert_score's suffix for a baseline it does not ship; it ships none for ONNX
   * encoders). The default reads {@code all-MiniLM-L6-v2_L6_no-idf_version=0.3.12(onnx)}.
   */
  public String hash() {
    return embedder.modelName()
        + "_L"
        + embedder.layer()
        + (options.idf() ? "_idf" : "_no-idf")
        + "_version="
        + BERT_SCORE_VERSION
        + "(onnx)"
        + (options.baseline() != null ? "-custom-rescaled" : "");
  }

  /**
   * Scores each candidate against the reference at the same index.
   *
   * @throws IllegalArgumentException if the lists differ in length or hold a null
   */
  public List<BertScore> score(List<String> candidates, List<String> references) {
    Objects.requireNonNull(candidates, "candidates");
    Objects.requireNonNull(references, "references");
    if (candidates.size() != references.size()) {
      throw new IllegalArgumentException(
          "bertscore: "
              + candidates.size()
              + " candidates but "
              + references.size()
              + " references; each candidate needs the reference at the same index");
    }
    List<List<String>> groups = new ArrayList<>(references.size());
    for (int i = 0; i < references.size(); i++) {
      groups.add(java.util.Collections.singletonList(references.get(i)));
    }
    return scoreMulti(candidates, groups);
  }

  /**
   * Scores each candidate against its group of references; P, R and F are each the best over the
   * group, as bert_score does for a list of reference lists.
   *
   * @throws IllegalArgumentException if the lists differ in length, a group is empty or a text is
   *     null
   */
  public List<BertScore> scoreMulti(List<String> candidates, List<List<String>> references) {
    Objects.requireNonNull(candidates, "candidates");
    Objects.requireNonNull(references, "references");
    if (candidates.size() != references.size()) {
      throw new IllegalArgumentException(
          "bertscore: "
              + candidates.size()
              + " candidates but "
              + references.size()
              + " reference groups; each candidate needs the references at the same index");
    }
    Map<String, Integer> distinct = new LinkedHashMap<>();
    List<String> flatReferences = new ArrayList<>();
    for (int i = 0; i < candidates.size(); i++) {
      String candidate = candidates.get(i);
      if (candidate == null) {
        throw new IllegalArgumentException("bertscore: candidate " + i + " is null");
      }
      distinct.putIfAbsent(candidate, distinct.size());
      List<String> group = references.get(i);
      if (group == null || group.isEmpty()) {
        throw new IllegalArgumentException(
            "bertscore: candidate " + i + " has no reference; at least one is needed");
      }
      for (int j = 0; j < group.size(); j++) {
        String reference = group.get(j);
        if (reference == null) {
          throw new IllegalArgumentException(
              "bertscore: reference " + j + " of candidate " + i + " is null");
        }
        distinct.putIfAbsent(reference, distinct.size());
        flatReferences.add(reference);
      }
    }
    if (candidates.isEmpty()) {
      return List.of();
    }
    List<String> texts = new ArrayList<>(distinct.keySet());
    List<TokenEmbedding> embeddings = embedder.embed(texts);
    if (embeddings.size() != texts.size()) {
      throw new IllegalStateException(
          "embedder returned " + embeddings.size() + " embeddings for " + texts.size() + " texts");
    }
    reportTruncation(candidates, flatReferences, distinct, embeddings);

    Map<Integer, Double> idf = options.idf() ? idf(flatReferences, distinct, embeddings) : null;
    double unseenIdf = Math.log(flatReferences.size() + 1.0);
    Matchable[] prepared = new Matchable[texts.size()];
    for (int t = 0; t < prepared.length; t++) {
      prepared[t] = new Matchable(embeddings.get(t), idf, unseenIdf);
    }

    List<BertScore> scores = new ArrayList<>(candidates.size());
    for (int i = 0; i < candidates.size(); i++) {
      Matchable candidate = prepared[distinct.get(candidates.get(i))];
      double p = Double.NEGATIVE_INFINITY;
      double r = Double.NEGATIVE_INFINITY;
      double f = Double.NEGATIVE_INFINITY;
      for (String reference : references.get(i)) {
        BertScore one = match(candidate, prepared[distinct.get(reference)]);
        p = maxPropagatingNan(p, one.precision());
        r = maxPropagatingNan(r, one.recall());
        f = maxPropagatingNan(f, one.f());
      }
      BertScore best = new BertScore(p, r, f);
      scores.add(options.baseline() == null ? best : options.baseline().rescale(best));
    }
    return scores;
  }

  /** torch.max semantics: NaN wins. */
  private static double maxPropagatingNan(double a, double b) {
    return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
  }

  private void reportTruncation(
      List<String> candidates,
      List<String> flatReferences,
      Map<String, Integer> distinct,
      List<TokenEmbedding> embeddings) {
    int truncated = 0;
    for (String c : candidates) {
      truncated += embeddings.get(distinct.get(c)).truncated() ? 1 : 0;
    }
    for (String r : flatReferences) {
      truncated += embeddings.get(distinct.get(r)).truncated() ? 1 : 0;
    }
    if (truncated > 0) {
      options
          .truncationListener()
          .truncated(truncated, candidates.size() + flatReferences.size(), embedder.maxLength());
    }
  }

  /**
   * bert_score's get_idf_dict over the reference list: df counts each reference occurrence once per
   * token id.
   */
  private static Map<Integer, Double> idf(
      List<String> flatReferences, Map<String, Integer> distinct, List<TokenEmbedding> embeddings) {
    Map<Integer, Integer> df = new HashMap<>();
    for (String reference : flatReferences) {
      Set<Integer> seen = new HashSet<>();
      for (int id : embeddings.get(distinct.get(reference)).ids()) {
        if (seen.add(id)) {
          df.merge(id, 1, Integer::sum);
        }
      }
    }
    double n = flatReferences.size();
    Map<Integer, Double> idf = new HashMap<>();
    df.forEach((id, count) -> idf.put(id, Math.log((n + 1.0) / (count + 1.0))));
    return idf;
  }

  /** Greedy matching of one pair, before multi-reference maximum and rescaling. */
  static BertScore match(Matchable candidate, Matchable reference) {
    int m = candidate.tokens;
    int n = reference.tokens;
    int dim = candidate.dim;
    if (n > 0 && reference.dim != dim) {
      throw new IllegalStateException(
          "candidate vectors have " + dim + " dimensions, reference vectors " + reference.dim);
    }
    double[] bestForCandidate = new double[m];
    double[] bestForReference = new double[n];
    java.util.Arrays.fill(bestForCandidate, Double.NEGATIVE_INFINITY);
    java.util.Arrays.fill(bestForReference, Double.NEGATIVE_INFINITY);
    float[] a = candidate.unitVectors;
    float[] b = reference.unitVectors;
    for (int h = 0; h < m; h++) {
      int ha = h * dim;
      for (int k = 0; k < n; k++) {
        double sim = dot(a, ha, b, k * dim, dim);
        if (sim > bestForCandidate[h]) {
          bestForCandidate[h] = sim;
        }
        if (sim > bestForReference[k]) {
          bestForReference[k] = sim;
        }
      }
    }
    double p = weightedMean(bestForCandidate, candidate.weights);
    double r = weightedMean(bestForReference, reference.weights);
    double f = 2.0 * p * r / (p + r);
    if (Double.isNaN(f)) {
      f = 0.0;
    }
    if (candidate.empty || reference.empty) {
      // bert_score: "Empty candidate/reference sentence detected; setting raw BERTScores to 0."
      p = 0.0;
      r = 0.0;
    }
    return new BertScore(p, r, f);
  }

  /**
   * Weighted mean; NaN when the weights sum to zero, as bert_score's division by the weight sum
   * gives.
   */
  private static double weightedMean(double[] values, double[] weights) {
    double sum = 0.0;
    double weightSum = 0.0;
    for (int i = 0; i < values.length; i++) {
      weightSum += weights[i];
    }
    for (int i = 0; i < values.length; i++) {
      sum += values[i] * (weights[i] / weightSum);
    }
    return weightSum == 0.0 ? Double.NaN : sum;
  }

  /**
   * Dot product with four partial sums (the JIT does not vectorise a single-accumulator float
   * reduction).
   */
  private static double dot(float[] a, int offsetA, float[] b, int offsetB, int length) {
    float s0 = 0f;
    float s1 = 0f;
    float s2 = 0f;
    float s3 = 0f;
    int i = 0;
    for (; i + 3 < length; i += 4) {
      s0 += a[offsetA + i] * b[offsetB + i];
      s1 += a[offsetA + i + 1] * b[offsetB + i + 1];
      s2 += a[offsetA + i + 2] * b[offsetB + i + 2];
      s3 += a[offsetA + i + 3] * b[offsetB + i + 3];
    }
    for (; i < length; i++) {
      s0 += a[offsetA + i] * b[offsetB + i];
    }
    return (double) s0 + s1 + s2 + s3;
  }

  /** One text ready for matching: unit vectors laid out flat and per-token weights. */
  static final class Matchable {
    final int tokens;
    final int dim;
    final float[] unitVectors;
    final double[] weights;
    final boolean empty;

    Matchable(TokenEmbedding embedding, Map<Integer, Double> idf, double unseenIdf) {
      tokens = embedding.length();
      dim = tokens == 0 ? 0 : embedding.vectors()[0].length;
      unitVectors = new float[tokens * dim];
      weights = new double[tokens];
      empty = embedding.isEmpty();
      for (int t = 0; t < tokens; t++) {
        float[] v = embedding.vectors()[t];
        double norm = 0.0;
        for (float x : v) {
          norm += (double) x * x;
        }
        norm = Math.sqrt(norm);
        for (int d = 0; d < dim; d++) {
          unitVectors[t * dim + d] = (float) (v[d] / norm);
        }
        if (embedding.special()[t]) {
          weights[t] = 0.0;
        } else if (idf == null) {
          weights[t] = 1.0;
        } else {
          weights[t] = idf.getOrDefault(embedding.ids()[t], unseenIdf);
        }
      }
    }
  }
}
