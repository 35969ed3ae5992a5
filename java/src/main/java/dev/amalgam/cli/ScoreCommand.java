package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.eval.bertscore.BertScoreException;
import dev.amalgam.eval.metrics.MeteorTokenization;
import dev.amalgam.eval.score.Composite;
import dev.amalgam.eval.score.MetricSuite;
import dev.amalgam.eval.score.PairFile;
import dev.amalgam.eval.score.ScoreOptions;
import dev.amalgam.eval.score.ScoreOptions.Metric;
import dev.amalgam.eval.score.TextScores;
import dev.amalgam.eval.stats.Bootstrap;
import dev.amalgam.io.AtomicFiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code amalgam score}: scores existing predictions against references, without a model. */
@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Scores predictions against references with ROUGE (rouge-score 0.1.2), BLEU (sacreBLEU 2.6.0 and "
        + "HF evaluate), METEOR (NLTK 3.8, WordNet 3.0) and BERTScore (ONNX encoder), and their composite.")
final class ScoreCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--data", required = true, paramLabel = "FILE", description = "A .csv (with a header) or .jsonl "
      + "file, one example per row.")
  Path data;

  @Option(names = "--pred", required = true, paramLabel = "FIELD", description = "The column or key of the "
      + "predictions.")
  String predField;

  @Option(names = "--ref", required = true, paramLabel = "FIELD", description = "The column or key of the "
      + "references.")
  String refField;

  @Option(names = "--metrics", split = ",", paramLabel = "NAME",
      description = "Any of rouge, bleu, meteor, bertscore (default: all four).")
  List<String> metrics;

  @Option(names = "--stem", description = "Stem ROUGE tokens longer than 3 characters (rouge-score use_stemmer).")
  boolean stem;

  @Option(names = "--meteor-tokenizer", defaultValue = "treebank", paramLabel = "whitespace|treebank",
      description = "METEOR's tokens: Python str.split(), or NLTK word_tokenize(preserve_line=True) "
          + "(default: ${DEFAULT-VALUE}).")
  String meteorTokenizer;

  @Option(names = "--composite", defaultValue = Composite.DEFAULT_SPEC, paramLabel = "NAME:W,...",
      description = "The composite's components and weights, each metric on 0-100 (default: ${DEFAULT-VALUE}).")
  String composite;

  @Option(names = "--bertscore-model", paramLabel = "FILE.onnx", description = "An ONNX encoder with a "
      + "last_hidden_state output (default: the bundled all-MiniLM-L6-v2).")
  Path bertModel;

  @Option(names = "--bertscore-tokenizer", paramLabel = "tokenizer.json", description = "The encoder's HF "
      + "tokenizer.json (required with --bertscore-model).")
  Path bertTokenizer;

  @Option(names = "--bertscore-idf", description = "Weight BERTScore tokens by idf over the references.")
  boolean bertIdf;

  @Option(names = "--bertscore-baseline", paramLabel = "FILE", description = "Rescale BERTScore with a bert_score "
      + "baseline file (LAYER,P,R,F).")
  Path bertBaseline;

  @Option(names = "--bertscore-max-length", defaultValue = "512", paramLabel = "N",
      description = "Encoder tokens kept per text; longer texts are truncated with a warning (default: "
          + "${DEFAULT-VALUE}).")
  int bertMaxLength;

  @Option(names = "--ci", description = "Add bootstrap 95% confidence intervals (1,000 resamples, fixed seed).")
  boolean ci;

  @Option(names = "--per-example", paramLabel = "OUT.jsonl", description = "Write each example's scores here.")
  Path perExample;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Override
  public Integer call() throws IOException {
    if (!Files.isRegularFile(data)) throw new Main.InvalidInputException("no such data file: " + data);
    ScoreOptions options = options();
    PairFile pairs;
    try {
      pairs = PairFile.read(data, predField, refField);
    } catch (PairFile.BadPairFileException e) {
      throw new Main.InvalidInputException(e.getMessage());
    }
    if (pairs.predictions().isEmpty()) throw new Main.InvalidInputException(data + ": no examples");
    PrintWriter err = spec.commandLine().getErr();
    long start = System.nanoTime();
    TextScores scores;
    try (MetricSuite suite = MetricSuite.create(options, line -> {
      err.println("amalgam: warning: " + line);
      err.flush();
    })) {
      scores = suite.score(pairs.predictions(), pairs.references());
    } catch (BertScoreException e) {
      if (e.reason().isBadInput()) throw new Main.InvalidInputException(e.getMessage());
      throw e;
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    int[] all = java.util.stream.IntStream.range(0, scores.size()).toArray();
    Map<String, Double> corpus = scores.aggregate(all);
    Map<String, Bootstrap.Interval> intervals = ci ? Bootstrap.defaults().confidenceIntervals(scores) : Map.of();
    if (perExample != null) writePerExample(scores, perExample);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(corpusJson(scores, corpus, intervals));
    } else {
      printTable(out, scores, corpus, intervals, seconds);
    }
    return 0;
  }

  private ScoreOptions options() {
    Set<Metric> selected = EnumSet.noneOf(Metric.class);
    try {
      if (metrics == null || metrics.isEmpty()) {
        selected = EnumSet.allOf(Metric.class);
      } else {
        for (String m : metrics) selected.add(Metric.fromId(m));
      }
      MeteorTokenization tokenization = switch (meteorTokenizer.toLowerCase(Locale.ROOT)) {
        case "whitespace" -> MeteorTokenization.WHITESPACE;
        case "treebank" -> MeteorTokenization.TREEBANK;
        default -> throw new IllegalArgumentException("--meteor-tokenizer must be whitespace or treebank, not '"
            + meteorTokenizer + "'");
      };
      if (bertModel != null && !Files.isRegularFile(bertModel)) {
        throw new IllegalArgumentException("no such ONNX encoder: " + bertModel);
      }
      if (bertTokenizer != null && !Files.isRegularFile(bertTokenizer)) {
        throw new IllegalArgumentException("no such tokenizer.json: " + bertTokenizer);
      }
      if (bertBaseline != null && !Files.isRegularFile(bertBaseline)) {
        throw new IllegalArgumentException("no such baseline file: " + bertBaseline);
      }
      return ScoreOptions.defaults().withMetrics(selected).withStem(stem).withMeteorTokenization(tokenization)
          .withBertScoreEncoder(bertModel, bertTokenizer).withBertScoreIdf(bertIdf)
          .withBertScoreBaseline(bertBaseline).withBertScoreMaxLength(bertMaxLength)
          .withComposite(Composite.parse(composite));
    } catch (IllegalArgumentException e) {
      throw new Main.InvalidInputException(e.getMessage());
    }
  }

  /** The corpus JSON: the keys first, then signatures, the composite's definition and any intervals. */
  static ObjectNode corpusJson(TextScores scores, Map<String, Double> corpus,
      Map<String, Bootstrap.Interval> intervals) {
    ObjectNode n = new ObjectMapper().createObjectNode();
    for (Map.Entry<String, Double> e : corpus.entrySet()) {
      n.put(e.getKey(), e.getValue());
      if (e.getKey().equals("bleu")) n.put("bleu_signature", scores.signatures().get("bleu"));
    }
    n.put("count", scores.size());
    ObjectNode signatures = n.putObject("signatures");
    scores.signatures().forEach(signatures::put);
    if (corpus.containsKey("composite")) n.put("composite_definition", scores.signatures().get("composite"));
    if (!intervals.isEmpty()) {
      ObjectNode ciNode = n.putObject("ci95");
      intervals.forEach((name, interval) -> {
        ArrayNode pair = ciNode.putArray(name);
        pair.add(interval.lower());
        pair.add(interval.upper());
      });
    }
    return n;
  }

  private static void writePerExample(TextScores scores, Path target) throws IOException {
    ObjectMapper mapper = new ObjectMapper();
    Path parent = target.toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent);
    Path temp = Files.createTempFile(parent, "." + target.getFileName() + ".", ".tmp");
    try {
      try (BufferedWriter w = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
        for (int i = 0; i < scores.size(); i++) {
          ObjectNode line = mapper.createObjectNode();
          line.put("index", i);
          scores.perExample(i).forEach(line::put);
          w.write(mapper.writeValueAsString(line));
          w.write('\n');
        }
      }
      AtomicFiles.moveReplacing(temp, target);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static void printTable(PrintWriter out, TextScores scores, Map<String, Double> corpus,
      Map<String, Bootstrap.Interval> intervals, double seconds) {
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
      String ciText = i == null ? "" : String.format(Locale.ROOT, "  [%.4f, %.4f]", i.lower(), i.upper());
      out.printf(Locale.ROOT, "%-14s %10.4f%s  %s%n", e.getKey(), e.getValue(), ciText, notes.get(e.getKey()));
    }
    if (corpus.containsKey("bleu")) out.println(scores.corpusBleu(allIndices(scores.size())).verbose());
    out.println("signatures:");
    scores.signatures().forEach((k, v) -> out.printf("  %-13s %s%n", k, v));
  }

  private static int[] allIndices(int n) {
    return java.util.stream.IntStream.range(0, n).toArray();
  }
}
