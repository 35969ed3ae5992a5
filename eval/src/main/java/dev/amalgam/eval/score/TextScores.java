package dev.amalgam.eval.score;

import dev.amalgam.eval.bertscore.BertScore;
import dev.amalgam.eval.metrics.BleuStats;
import dev.amalgam.eval.metrics.HfBleu;
import dev.amalgam.eval.metrics.Prf;
import dev.amalgam.eval.metrics.SacreBleu;
import dev.amalgam.eval.score.ScoreOptions.Metric;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The scores {@link MetricSuite} computed for a corpus: per-example values and BLEU statistics,
 * from which the corpus metrics of any resample are recomputed.
 *
 * <p>Corpus metrics: {@code rouge1, rouge2, rougeL, rougeLsum} (means of the F scores, as HF
 * evaluate and ACI-BENCH report them), {@code bleu} (sacreBLEU corpus BLEU, 0–100, from summed
 * statistics), {@code sentence_bleu} (mean), {@code bleu_hf} (HF evaluate's BLEU, 0–1, summed
 * statistics), {@code meteor} (mean), {@code bertscore_p/r/f} (means) and {@code composite}, each
 * present when its family was computed (the composite when all its components were).
 */
public final class TextScores implements ScoredCorpus {
  private static final String[] ROUGE_TYPES = {"rouge1", "rouge2", "rougeL", "rougeLsum"};

  private final int size;
  private final ScoreOptions options;
  private final double[][] rouge; // [type * 3 + {p, r, f}][example]
  private final List<BleuStats> sacre;
  private final List<BleuStats> hf;
  private final double[] sentenceBleu;
  private final double[] meteor;
  private final double[][] bert; // [{p, r, f}][example]
  private final Map<String, String> signatures;
  private final SacreBleu corpusBleu;
  private final HfBleu hfBleu;
  private final List<String> names;

  private TextScores(Builder b, SacreBleu corpusBleu, HfBleu hfBleu) {
    this.size = b.size;
    this.options = b.options;
    this.rouge = b.rouge;
    this.sacre = b.sacre == null ? null : List.of(b.sacre);
    this.hf = b.hf == null ? null : List.of(b.hf);
    this.sentenceBleu = b.sentenceBleu;
    this.meteor = b.meteor;
    this.bert = b.bert;
    this.corpusBleu = corpusBleu;
    this.hfBleu = hfBleu;
    List<String> n = new ArrayList<>();
    if (rouge != null) n.addAll(List.of(ROUGE_TYPES));
    if (sacre != null) n.addAll(List.of("bleu", "sentence_bleu", "bleu_hf"));
    if (meteor != null) n.add("meteor");
    if (bert != null) n.addAll(List.of("bertscore_p", "bertscore_r", "bertscore_f"));
    boolean composite = options.composite().missing(java.util.Set.copyOf(n)).isEmpty();
    if (composite) n.add("composite");
    this.names = List.copyOf(n);
    Map<String, String> s = new LinkedHashMap<>(b.signatures);
    if (composite) s.put("composite", options.composite().definition());
    this.signatures = java.util.Collections.unmodifiableMap(s);
  }

  /** The options the scores were computed with. */
  public ScoreOptions options() {
    return options;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public List<String> corpusMetricNames() {
    return names;
  }

  /**
   * Keys {@code rouge{1,2,L,Lsum}_{p,r,f}}, {@code sentence_bleu}, {@code meteor}, {@code
   * bertscore_{p,r,f}} (those computed).
   */
  @Override
  public Map<String, Double> perExample(int index) {
    Map<String, Double> out = new LinkedHashMap<>();
    if (rouge != null) {
      for (int t = 0; t < ROUGE_TYPES.length; t++) {
        out.put(ROUGE_TYPES[t] + "_p", rouge[t * 3][index]);
        out.put(ROUGE_TYPES[t] + "_r", rouge[t * 3 + 1][index]);
        out.put(ROUGE_TYPES[t] + "_f", rouge[t * 3 + 2][index]);
      }
    }
    if (sentenceBleu != null) out.put("sentence_bleu", sentenceBleu[index]);
    if (meteor != null) out.put("meteor", meteor[index]);
    if (bert != null) {
      out.put("bertscore_p", bert[0][index]);
      out.put("bertscore_r", bert[1][index]);
      out.put("bertscore_f", bert[2][index]);
    }
    return out;
  }

  /**
   * The sacreBLEU corpus score with its bar-chart line, for reports; null when BLEU was not
   * computed.
   */
  public SacreBleu.Score corpusBleu(int[] indices) {
    return sacre == null ? null : corpusBleu.score(BleuStats.sum(sacre, indices), 1);
  }

  @Override
  public Map<String, Double> aggregate(int[] indices) {
    Map<String, Double> out = new LinkedHashMap<>();
    if (rouge != null) {
      for (int t = 0; t < ROUGE_TYPES.length; t++)
        out.put(ROUGE_TYPES[t], mean(rouge[t * 3 + 2], indices));
    }
    if (sacre != null) {
      out.put("bleu", corpusBleu(indices).score());
      out.put("sentence_bleu", mean(sentenceBleu, indices));
      out.put("bleu_hf", hfBleu.score(BleuStats.sum(hf, indices)).bleu());
    }
    if (meteor != null) out.put("meteor", mean(meteor, indices));
    if (bert != null) {
      out.put("bertscore_p", mean(bert[0], indices));
      out.put("bertscore_r", mean(bert[1], indices));
      out.put("bertscore_f", mean(bert[2], indices));
    }
    if (names.contains("composite")) out.put("composite", options.composite().compute(out));
    return out;
  }

  @Override
  public Map<String, String> signatures() {
    return signatures;
  }

  /**
   * The plain mean over {@code indices}, summed in index order as Python's {@code sum} would; NaN
   * if empty.
   */
  private static double mean(double[] values, int[] indices) {
    double sum = 0;
    for (int i : indices) sum += values[i];
    return indices.length == 0 ? Double.NaN : sum / indices.length;
  }

  /** Collects per-example results (from several threads: each example's slots are written once). */
  static final class Builder {
    private final int size;
    private final ScoreOptions options;
    private double[][] rouge;
    private BleuStats[] sacre;
    private BleuStats[] hf;
    private double[] sentenceBleu;
    private double[] meteor;
    private double[][] bert;
    private final Map<String, String> signatures = new LinkedHashMap<>();

    Builder(int size, ScoreOptions options) {
      this.size = size;
      this.options = options;
      if (options.metrics().contains(Metric.ROUGE))
        rouge = new double[ROUGE_TYPES.length * 3][size];
      if (options.metrics().contains(Metric.BLEU)) {
        sacre = new BleuStats[size];
        hf = new BleuStats[size];
        sentenceBleu = new double[size];
      }
      if (options.metrics().contains(Metric.METEOR)) meteor = new double[size];
      if (options.metrics().contains(Metric.BERTSCORE)) bert = new double[3][size];
    }

    void rouge(int i, Map<String, Prf> scores) {
      for (int t = 0; t < ROUGE_TYPES.length; t++) {
        Prf prf = scores.get(ROUGE_TYPES[t]);
        rouge[t * 3][i] = prf.precision();
        rouge[t * 3 + 1][i] = prf.recall();
        rouge[t * 3 + 2][i] = prf.f();
      }
    }

    void bleu(int i, BleuStats sacreStats, double sentence, BleuStats hfStats) {
      sacre[i] = sacreStats;
      sentenceBleu[i] = sentence;
      hf[i] = hfStats;
    }

    void meteor(int i, double value) {
      meteor[i] = value;
    }

    void bertScore(int i, BertScore score) {
      bert[0][i] = score.precision();
      bert[1][i] = score.recall();
      bert[2][i] = score.f();
    }

    void signature(String name, String value) {
      signatures.put(name, value);
    }

    TextScores build(SacreBleu corpusBleu, HfBleu hfBleu) {
      if (sacre != null && Arrays.asList(sacre).contains(null))
        throw new IllegalStateException("missing BLEU stats");
      return new TextScores(this, corpusBleu, hfBleu);
    }
  }
}
