package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.eval.score.MetricSuite;
import dev.amalgam.eval.score.PairFile;
import dev.amalgam.eval.score.ScoreOptions;
import dev.amalgam.eval.score.TextScores;
import dev.amalgam.eval.stats.Bootstrap;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code amalgam score}: scores existing predictions against references, without a model. */
@Command(
    name = "score",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Scores predictions against references with ROUGE (rouge-score 0.1.2), BLEU (sacreBLEU 2.6.0 and "
            + "HF evaluate), METEOR (NLTK 3.8, WordNet 3.0) and BERTScore (ONNX encoder), and their composite.")
final class ScoreCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--data",
      required = true,
      paramLabel = "FILE",
      description = "A .csv (with a header) or .jsonl " + "file, one example per row.")
  Path data;

  @Option(
      names = "--pred",
      required = true,
      paramLabel = "FIELD",
      description = "The column or key of the " + "predictions.")
  String predField;

  @Option(
      names = "--ref",
      required = true,
      paramLabel = "FIELD",
      description = "The column or key of the " + "references.")
  String refField;

  @Mixin ScoringOptions scoring;

  @Option(
      names = "--ci",
      description = "Add bootstrap 95%% confidence intervals (1,000 resamples, fixed seed).")
  boolean ci;

  @Option(
      names = "--per-example",
      paramLabel = "OUT.jsonl",
      description = "Write each example's scores here.")
  Path perExample;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    if (!Files.isRegularFile(data))
      throw new Main.InvalidInputException("no such data file: " + data);
    ScoreOptions options = scoring.toScoreOptions();
    PairFile pairs = PairFile.read(data, predField, refField);
    if (pairs.predictions().isEmpty()) throw new Main.InvalidInputException(data + ": no examples");
    PrintWriter err = spec.commandLine().getErr();
    long start = System.nanoTime();
    TextScores scores;
    try (MetricSuite suite =
        MetricSuite.create(
            options,
            line -> {
              err.println("amalgam: warning: " + line);
              err.flush();
            })) {
      scores = suite.score(pairs.predictions(), pairs.references());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    int[] all = java.util.stream.IntStream.range(0, scores.size()).toArray();
    Map<String, Double> corpus = scores.aggregate(all);
    Map<String, Bootstrap.Interval> intervals =
        ci ? Bootstrap.defaults().confidenceIntervals(scores) : Map.of();
    if (perExample != null) writePerExample(scores, perExample);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(corpusJson(scores, corpus, intervals));
    } else {
      printTable(out, scores, corpus, intervals, seconds);
    }
    return 0;
  }

  /**
   * The corpus JSON: the keys first, then signatures, the composite's definition and any
   * intervals.
   */
  static ObjectNode corpusJson(
      TextScores scores, Map<String, Double> corpus, Map<String, Bootstrap.Interval> intervals) {
    ObjectNode n = new ObjectMapper().createObjectNode();
    for (Map.Entry<String, Double> e : corpus.entrySet()) {
      n.put(e.getKey(), e.getValue());
      if (e.getKey().equals("bleu")) n.put("bleu_signature", scores.signatures().get("bleu"));
    }
    n.put("count", scores.size());
    ObjectNode signatures = n.putObject("signatures");
    scores.signatures().forEach(signatures::put);
    if (corpus.containsKey("composite"))
      n.put("composite_definition", scores.signatures().get("composite"));
    if (!intervals.isEmpty()) {
      ObjectNode ciNode = n.putObject("ci95");
      intervals.forEach(
          (name, interval) -> {
            ArrayNode pair = ciNode.putArray(name);
            pair.add(interval.lower());
            pair.add(interval.upper());
          });
    }
    return n;
  }

  private static void writePerExample(TextScores scores, Path target) throws IOException {
    JsonLinesFile.write(
        target,
        scores.size(),
        i -> {
          ObjectNode line = JsonLinesFile.object();
          line.put("index", i);
          scores.perExample(i).forEach(line::put);
          return line;
        });
  }

  private static void printTable(
      PrintWriter out,
      TextScores scores,
      Map<String, Double> corpus,
      Map<String, Bootstrap.Interval> intervals,
      double seconds) {
    out.printf(Locale.ROOT, "%d examples scored in %.2f s%n", scores.size(), seconds);
    Map<String, String> notes = new LinkedHashMap<>();
    notes.put("rouge1", "F, mean");
    notes.put("rouge2", "F, mean");
    notes.put("rougeL", "F, mean");
    notes.put("rougeLsum", "F, mean (sentences split on newlines)");
    notes.put("bleu", "sacreBLEU corpus, 0-100");
    notes.put("sentence_bleu", "sacreBLEU sentence, mean");
    notes.put("bleu_hf", "HF evaluate bleu, 0-1");
    notes.put("meteor", "NLTK, mean");
    notes.put("bertscore_p", "mean");
    notes.put("bertscore_r", "mean");
    notes.put("bertscore_f", "mean");
    notes.put("composite", scores.signatures().getOrDefault("composite", ""));
    for (Map.Entry<String, Double> e : corpus.entrySet()) {
      Bootstrap.Interval i = intervals.get(e.getKey());
      String ciText =
          i == null ? "" : String.format(Locale.ROOT, "  [%.4f, %.4f]", i.lower(), i.upper());
      out.printf(
          Locale.ROOT,
          "%-14s %10.4f%s  %s%n",
          e.getKey(),
          e.getValue(),
          ciText,
          notes.get(e.getKey()));
    }
    if (corpus.containsKey("bleu"))
      out.println(scores.corpusBleu(allIndices(scores.size())).verbose());
    out.println("signatures:");
    scores.signatures().forEach((k, v) -> out.printf("  %-13s %s%n", k, v));
  }

  private static int[] allIndices(int n) {
    return java.util.stream.IntStream.range(0, n).toArray();
  }
}
