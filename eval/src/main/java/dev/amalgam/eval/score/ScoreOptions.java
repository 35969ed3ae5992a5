package dev.amalgam.eval.score;

import dev.amalgam.eval.bertscore.EmbedderOptions;
import dev.amalgam.eval.metrics.MeteorTokenization;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What {@link MetricSuite} computes and how: {@link #defaults()}, or {@link #builder()} to set some
 * and {@link #toBuilder()} for a changed copy.
 *
 * @param metrics the metric families to compute
 * @param stem stem ROUGE tokens (rouge-score's {@code use_stemmer})
 * @param meteorTokenization how METEOR's inputs are tokenized
 * @param bertScoreModel a user ONNX encoder, or null for the bundled all-MiniLM-L6-v2
 * @param bertScoreTokenizer the tokenizer.json of the user encoder (required with {@code
 *     bertScoreModel})
 * @param bertScoreIdf idf weighting computed on the references
 * @param bertScoreBaseline a bert_score baseline file (LAYER,P,R,F) for rescaling, or null
 * @param bertScoreMaxLength encoder tokens kept per text (longer texts are truncated with a
 *     warning)
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
      throw new IllegalArgumentException(
          "unknown metric '" + id + "' (known: rouge, bleu, meteor, bertscore)");
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
      throw new IllegalArgumentException(
          "a BERTScore encoder needs both its ONNX model and its tokenizer.json");
    }
    if (bertScoreMaxLength < 3) {
      throw new IllegalArgumentException(
          "BERTScore max length must be at least 3 tokens, got " + bertScoreMaxLength);
    }
  }

  /**
   * All four metric families, no stemming, Treebank tokens for METEOR (what HF evaluate's meteor
   * does, without its sentence split), the bundled MiniLM encoder without idf or rescaling, 512
   * tokens, the default composite.
   */
  public static ScoreOptions defaults() {
    return builder().build();
  }

  /** A builder with the {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options, for a changed copy. */
  public Builder toBuilder() {
    return new Builder()
        .metrics(metrics)
        .stem(stem)
        .meteorTokenization(meteorTokenization)
        .bertScoreEncoder(bertScoreModel, bertScoreTokenizer)
        .bertScoreIdf(bertScoreIdf)
        .bertScoreBaseline(bertScoreBaseline)
        .bertScoreMaxLength(bertScoreMaxLength)
        .composite(composite);
  }

  /** Collects {@link ScoreOptions}; {@link #build()} validates them. */
  public static final class Builder {
    private Set<Metric> metrics = EnumSet.allOf(Metric.class);
    private boolean stem;
    private MeteorTokenization meteorTokenization = MeteorTokenization.TREEBANK;
    private Path bertScoreModel;
    private Path bertScoreTokenizer;
    private boolean bertScoreIdf;
    private Path bertScoreBaseline;
    private int bertScoreMaxLength = EmbedderOptions.DEFAULT_MAX_LENGTH;
    private Composite composite = Composite.defaults();

    private Builder() {}

    /** The metric families to compute. */
    public Builder metrics(Set<Metric> value) {
      metrics = value;
      return this;
    }

    /** Stem ROUGE tokens, or not. */
    public Builder stem(boolean value) {
      stem = value;
      return this;
    }

    /** How METEOR's inputs are tokenized. */
    public Builder meteorTokenization(MeteorTokenization value) {
      meteorTokenization = value;
      return this;
    }

    /** A user BERTScore encoder and its tokenizer.json (both null for the bundled one). */
    public Builder bertScoreEncoder(Path model, Path tokenizer) {
      bertScoreModel = model;
      bertScoreTokenizer = tokenizer;
      return this;
    }

    /** idf weighting on or off. */
    public Builder bertScoreIdf(boolean value) {
      bertScoreIdf = value;
      return this;
    }

    /** A baseline file for rescaling (null for none). */
    public Builder bertScoreBaseline(Path value) {
      bertScoreBaseline = value;
      return this;
    }

    /** Encoder tokens kept per text. */
    public Builder bertScoreMaxLength(int value) {
      bertScoreMaxLength = value;
      return this;
    }

    /** The composite's components and weights. */
    public Builder composite(Composite value) {
      composite = value;
      return this;
    }

    /**
     * The options.
     *
     * @throws IllegalArgumentException if no metric is selected, the encoder lacks its model or
     *     tokenizer, or the length is below 3
     */
    public ScoreOptions build() {
      return new ScoreOptions(
          metrics,
          stem,
          meteorTokenization,
          bertScoreModel,
          bertScoreTokenizer,
          bertScoreIdf,
          bertScoreBaseline,
          bertScoreMaxLength,
          composite);
    }
  }
}
