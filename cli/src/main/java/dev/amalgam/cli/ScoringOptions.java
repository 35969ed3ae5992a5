package dev.amalgam.cli;

import dev.amalgam.eval.metrics.MeteorTokenization;
import dev.amalgam.eval.score.Composite;
import dev.amalgam.eval.score.ScoreOptions;
import dev.amalgam.eval.score.ScoreOptions.Metric;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import picocli.CommandLine.Option;

/** The metric options shared by {@code score}, {@code eval} and {@code compare}. */
final class ScoringOptions {
  @Option(
      names = "--metrics",
      split = ",",
      paramLabel = "NAME",
      description = "Any of rouge, bleu, meteor, bertscore (default: all four).")
  List<String> metrics;

  @Option(
      names = "--stem",
      description = "Stem ROUGE tokens longer than 3 characters (rouge-score use_stemmer).")
  boolean stem;

  @Option(
      names = "--meteor-tokenizer",
      defaultValue = "treebank",
      paramLabel = "whitespace|treebank",
      description =
          "METEOR's tokens: Python str.split(), or NLTK word_tokenize(preserve_line=True) "
              + "(default: ${DEFAULT-VALUE}).")
  String meteorTokenizer;

  @Option(
      names = "--composite",
      defaultValue = Composite.DEFAULT_SPEC,
      paramLabel = "NAME:W,...",
      description =
          "The composite's components and weights, each metric on 0-100 (default: ${DEFAULT-VALUE}).")
  String composite;

  @Option(
      names = "--bertscore-model",
      paramLabel = "FILE.onnx",
      description =
          "An ONNX encoder with a "
              + "last_hidden_state output (default: the bundled all-MiniLM-L6-v2).")
  Path bertModel;

  @Option(
      names = "--bertscore-tokenizer",
      paramLabel = "tokenizer.json",
      description = "The encoder's HF " + "tokenizer.json (required with --bertscore-model).")
  Path bertTokenizer;

  @Option(
      names = "--bertscore-idf",
      description = "Weight BERTScore tokens by idf over the references.")
  boolean bertIdf;

  @Option(
      names = "--bertscore-baseline",
      paramLabel = "FILE",
      description = "Rescale BERTScore with a bert_score " + "baseline file (LAYER,P,R,F).")
  Path bertBaseline;

  @Option(
      names = "--bertscore-max-length",
      defaultValue = "512",
      paramLabel = "N",
      description =
          "Encoder tokens kept per text; longer texts are truncated with a warning (default: "
              + "${DEFAULT-VALUE}).")
  int bertMaxLength;

  /**
   * The options as the metric suite takes them.
   *
   * @throws Main.InvalidInputException for an unknown metric, tokenizer or composite component, or
   *     a missing file
   */
  ScoreOptions toScoreOptions() {
    Set<Metric> selected = EnumSet.noneOf(Metric.class);
    try {
      if (metrics == null || metrics.isEmpty()) {
        selected = EnumSet.allOf(Metric.class);
      } else {
        for (String m : metrics) selected.add(Metric.fromId(m));
      }
      MeteorTokenization tokenization =
          switch (meteorTokenizer.toLowerCase(Locale.ROOT)) {
            case "whitespace" -> MeteorTokenization.WHITESPACE;
            case "treebank" -> MeteorTokenization.TREEBANK;
            default ->
                throw new IllegalArgumentException(
                    "--meteor-tokenizer must be whitespace or treebank, not '"
                        + meteorTokenizer
                        + "'");
          };
      requireFile(bertModel, "ONNX encoder");
      requireFile(bertTokenizer, "tokenizer.json");
      requireFile(bertBaseline, "baseline file");
      return ScoreOptions.builder()
          .metrics(selected)
          .stem(stem)
          .meteorTokenization(tokenization)
          .bertScoreEncoder(bertModel, bertTokenizer)
          .bertScoreIdf(bertIdf)
          .bertScoreBaseline(bertBaseline)
          .bertScoreMaxLength(bertMaxLength)
          .composite(Composite.parse(composite))
          .build();
    } catch (IllegalArgumentException e) {
      throw new Main.InvalidInputException(e.getMessage());
    }
  }

  private static void requireFile(Path file, String what) {
    if (file != null && !Files.isRegularFile(file))
      throw new IllegalArgumentException("no such " + what + ": " + file);
  }
}
