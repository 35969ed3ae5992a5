package dev.amalgam.eval.score;

import dev.amalgam.eval.bertscore.EmbedderOptions;
import dev.amalgam.eval.metrics.MeteorTokenization;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What {@link MetricSuite} computes and how.
 *
 * @param metrics the metric families to compute
 * @param stem stem ROUGE tokens (rouge-score's {@code use_stemmer})
 * @param meteorTokenization how METEOR's inputs are tokenized
 * @param bertScoreModel a user ONNX encoder, or null for the bundled all-MiniLM-L6-v2
 * @param bertScoreTokenizer the tokenizer.json of the user encoder (required with {@code bertScoreModel})
 * @param bertScoreIdf idf weighting computed on the references
 * @param bertScoreBaseline a bert_score baseline file (LAYER,P,R,F) for rescaling, or null
 * @param bertScoreMaxLength encoder tokens kept per text (longer texts are truncated with a warning)
 * @param composite the composite's components and weights
 */
public record ScoreOptions(
    Set<Metric> metrics,
    boolean stem,
    MeteorTokenization meteorTokenization,
    Path bertScoreModel,
    Path bertScoreTokenizer,
    boolean bertScoreIdf,
    Path bertScoreBaseline,
    int bertScoreMaxLength,
    Composite composite) {

  /** A metric family. */
  public enum Metric {
    /** ROUGE-1, ROUGE-2, ROUGE-L, ROUGE-Lsum (rouge-score 0.1.2). */
    ROUGE,
    /** sacreBLEU 2.6.0 corpus and sentence BLEU, and HF evaluate's BLEU. */
    BLEU,
    /** NLTK 3.8 METEOR. */
    METEOR,
    /** BERTScore through an ONNX encoder. */
    BERTSCORE;

    /** The CLI name, e.g. {@code bertscore}. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a CLI name.
     *
     * @throws IllegalArgumentException listing the known names
     */
    public static Metric fromId(String id) {
      for (Metric m : values()) if (m.id().equals(id.strip().toLowerCase(Locale.ROOT))) return m;
      throw new IllegalArgumentException("unknown metric '" + id + "' (known: rouge, bleu, meteor, bertscore)");
    }
  }

  /** Validates and copies. */
  public ScoreOptions {
    Objects.requireNonNull(metrics, "metrics");
    if (metrics.isEmpty()) throw new IllegalArgumentException("no metric selected");
    metrics = Set.copyOf(metrics);
    Objects.requireNonNull(meteorTokenization, "meteorTokenization");
    Objects.requireNonNull(composite, "composite");
    if ((bertScoreModel == null) != (bertScoreTokenizer == null)) {
      throw new IllegalArgumentException("a BERTScore encoder needs both its ONNX model and its tokenizer.json");
    }
    if (bertScoreMaxLength < 3) {
      throw new IllegalArgumentException("BERTScore max length must be at least 3 tokens, got " + bertScoreMaxLength);
    }
  }

  /**
   * All four metric families, no stemming, Treebank tokens for METEOR (what HF evaluate's meteor does, without its
   * sentence split), the bundled MiniLM encoder without idf or rescaling, 512 tokens, the default composite.
   */
  public static ScoreOptions defaults() {
    return new ScoreOptions(EnumSet.allOf(Metric.class), false, MeteorTokenization.TREEBANK, null, null, false, null,
        EmbedderOptions.DEFAULT_MAX_LENGTH, Composite.defaults());
  }

  /** A copy computing {@code value}. */
  public ScoreOptions withMetrics(Set<Metric> value) {
    return new ScoreOptions(value, stem, meteorTokenization, bertScoreModel, bertScoreTokenizer, bertScoreIdf,
        bertScoreBaseline, bertScoreMaxLength, composite);
  }

  /** A copy with stemming on or off. */
  public ScoreOptions withStem(boolean value) {
    return new ScoreOptions(metrics, value, meteorTokenization, bertScoreModel, bertScoreTokenizer, bertScoreIdf,
        bertScoreBaseline, bertScoreMaxLength, composite);
  }

  /** A copy with another METEOR tokenization. */
  public ScoreOptions withMeteorTokenization(MeteorTokenization value) {
    return new ScoreOptions(metrics, stem, value, bertScoreModel, bertScoreTokenizer, bertScoreIdf,
        bertScoreBaseline, bertScoreMaxLength, composite);
  }

  /** A copy with a user BERTScore encoder (both null for the bundled one). */
  public ScoreOptions withBertScoreEncoder(Path model, Path tokenizer) {
    return new ScoreOptions(metrics, stem, meteorTokenization, model, tokenizer, bertScoreIdf, bertScoreBaseline,
        bertScoreMaxLength, composite);
  }

  /** A copy with idf on or off. */
  public ScoreOptions withBertScoreIdf(boolean value) {
    return new ScoreOptions(metrics, stem, meteorTokenization, bertScoreModel, bertScoreTokenizer, value,
        bertScoreBaseline, bertScoreMaxLength, composite);
  }

  /** A copy with a baseline file for rescaling (null for none). */
  public ScoreOptions withBertScoreBaseline(Path value) {
    return new ScoreOptions(metrics, stem, meteorTokenization, bertScoreModel, bertScoreTokenizer, bertScoreIdf,
        value, bertScoreMaxLength, composite);
  }

  /** A copy with another encoder length limit. */
  public ScoreOptions withBertScoreMaxLength(int value) {
    return new ScoreOptions(metrics, stem, meteorTokenization, bertScoreModel, bertScoreTokenizer, bertScoreIdf,
        bertScoreBaseline, value, composite);
  }

  /** A copy with another composite. */
  public ScoreOptions withComposite(Composite value) {
    return new ScoreOptions(metrics, stem, meteorTokenization, bertScoreModel, bertScoreTokenizer, bertScoreIdf,
        bertScoreBaseline, bertScoreMaxLength, value);
  }
}
