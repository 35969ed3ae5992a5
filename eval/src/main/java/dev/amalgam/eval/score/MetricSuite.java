package dev.amalgam.eval.score;

import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.eval.bertscore.Baseline;
import dev.amalgam.eval.bertscore.BertScore;
import dev.amalgam.eval.bertscore.BertScoreOptions;
import dev.amalgam.eval.bertscore.BertScorer;
import dev.amalgam.eval.bertscore.EmbedderOptions;
import dev.amalgam.eval.bertscore.OnnxTokenEmbedder;
import dev.amalgam.eval.metrics.BleuStats;
import dev.amalgam.eval.metrics.HfBleu;
import dev.amalgam.eval.metrics.Meteor;
import dev.amalgam.eval.metrics.Prf;
import dev.amalgam.eval.metrics.Rouge;
import dev.amalgam.eval.metrics.SacreBleu;
import dev.amalgam.eval.score.ScoreOptions.Metric;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * The clinical generation metric suite: ROUGE (rouge-score 0.1.2), sacreBLEU 2.6.0 corpus and
 * sentence BLEU, HF evaluate's BLEU, NLTK 3.8 METEOR and BERTScore, plus their {@link Composite}.
 * Every metric equals its reference implementation; see the classes in {@code
 * dev.amalgam.eval.metrics} and {@code dev.amalgam.eval.bertscore}.
 *
 * <p>Per-example metrics run in parallel over the examples (each example's result does not depend
 * on the others, so the output is the same at any thread count). The BERTScore encoder is opened on
 * first use and released by {@link #close()}; WordNet loads once per JVM on the first METEOR score.
 */
public final class MetricSuite implements CorpusScorer, AutoCloseable {
  private final ScoreOptions options;
  private final WarningListener warnings;
  private final Rouge rouge;
  private final SacreBleu corpusBleu = SacreBleu.corpusDefaults();
  private final SacreBleu sentenceBleu = SacreBleu.sentenceDefaults();
  private final HfBleu hfBleu = new HfBleu(false);
  private Meteor meteor;
  private OnnxTokenEmbedder embedder;
  private BertScorer bertScorer;

  private MetricSuite(ScoreOptions options, WarningListener warnings) {
    this.options = options;
    this.warnings = warnings;
    this.rouge = Rouge.defaults(options.stem());
  }

  /**
   * A suite computing what {@code options} selects.
   *
   * @param warnings told each warning as it happens (for example BERTScore truncation)
   */
  public static MetricSuite create(ScoreOptions options, WarningListener warnings) {
    return new MetricSuite(
        Objects.requireNonNull(options, "options"), Objects.requireNonNull(warnings, "warnings"));
  }

  /** The options this suite computes with. */
  public ScoreOptions options() {
    return options;
  }

  @Override
  public TextScores score(List<String> predictions, List<String> references) {
    Objects.requireNonNull(predictions, "predictions");
    Objects.requireNonNull(references, "references");
    if (predictions.size() != references.size()) {
      throw new IllegalArgumentException(
          predictions.size()
              + " predictions but "
              + references.size()
              + " references; each prediction needs the reference at the same index");
    }
    int n = predictions.size();
    for (int i = 0; i < n; i++) {
      if (predictions.get(i) == null)
        throw new IllegalArgumentException("prediction " + i + " is missing");
      if (references.get(i) == null)
        throw new IllegalArgumentException("reference " + i + " is missing");
    }
    TextScores.Builder out = new TextScores.Builder(n, options);
    boolean doRouge = options.metrics().contains(Metric.ROUGE);
    boolean doBleu = options.metrics().contains(Metric.BLEU);
    boolean doMeteor = options.metrics().contains(Metric.METEOR);
    Meteor meteorScorer = doMeteor ? meteor() : null;
    IntStream.range(0, n)
        .parallel()
        .forEach(
            i -> {
              String prediction = predictions.get(i);
              String reference = references.get(i);
              if (doRouge) {
                Map<String, Prf> r = rouge.score(reference, prediction);
                out.rouge(i, r);
              }
              if (doBleu) {
                List<String> refs = List.of(reference);
                BleuStats sacre = corpusBleu.stats(prediction, refs);
                out.bleu(
                    i, sacre, sentenceBleu.score(sacre, 1).score(), hfBleu.stats(prediction, refs));
              }
              if (doMeteor)
                out.meteor(
                    i, meteorScorer.score(reference, prediction, options.meteorTokenization()));
            });
    if (doRouge) out.signature("rouge", rouge.signature());
    if (doBleu) {
      out.signature("bleu", corpusBleu.signature(1));
      out.signature("sentence_bleu", sentenceBleu.signature(1));
      out.signature("bleu_hf", hfBleu.signature());
    }
    if (doMeteor) out.signature("meteor", meteorScorer.signature(options.meteorTokenization()));
    if (options.metrics().contains(Metric.BERTSCORE)) {
      BertScorer scorer = bertScorer();
      List<BertScore> scores = scorer.score(predictions, references);
      for (int i = 0; i < n; i++) out.bertScore(i, scores.get(i));
      out.signature("bertscore", scorer.hash());
    }
    return out.build(corpusBleu, hfBleu);
  }

  private synchronized Meteor meteor() {
    if (meteor == null) meteor = Meteor.nltkDefaults();
    return meteor;
  }

  private synchronized BertScorer bertScorer() {
    if (bertScorer == null) {
      EmbedderOptions embedderOptions =
          EmbedderOptions.builder().maxLength(options.bertScoreMaxLength()).build();
      embedder =
          options.bertScoreModel() == null
              ? OnnxTokenEmbedder.openDefault(embedderOptions)
              : OnnxTokenEmbedder.open(
                  options.bertScoreModel(), options.bertScoreTokenizer(), embedderOptions);
      BertScoreOptions.Builder bertOptions =
          BertScoreOptions.builder()
              .idf(options.bertScoreIdf())
              .truncationListener(
                  (truncated, total, max) ->
                      warnings.warn(BertScoreOptions.truncationWarning(truncated, total, max)));
      if (options.bertScoreBaseline() != null) {
        bertOptions.baseline(Baseline.forEncoder(embedder, options.bertScoreBaseline()));
      }
      bertScorer = new BertScorer(embedder, bertOptions.build());
    }
    return bertScorer;
  }

  /** Releases the BERTScore encoder, if one was opened. */
  @Override
  public synchronized void close() {
    if (embedder != null) {
      embedder.close();
      embedder = null;
      bertScorer = null;
    }
  }
}
