package dev.amalgam.eval.harness;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.eval.llama.ContinuationScore;
import dev.amalgam.eval.llama.GenerationRequest;
import dev.amalgam.eval.llama.GenerationResult;
import dev.amalgam.eval.llama.LlamaBridgeException;
import dev.amalgam.eval.llama.LlamaGeneration;
import dev.amalgam.eval.llama.LlamaScorer;
import dev.amalgam.eval.llama.ScorerOptions;
import dev.amalgam.eval.score.CorpusScorer;
import dev.amalgam.eval.score.MeanCorpus;
import dev.amalgam.eval.score.ScoredCorpus;
import dev.amalgam.io.Checksums;
import dev.amalgam.io.gguf.GgufFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Runs one task on one model and writes its output folder: prompts (template + few-shot),
 * generation through a {@link Generator} (or log-likelihood scoring for multiple choice), metrics
 * through the {@link CorpusScorer}, {@link IfevalChecker} or accuracy, and then predictions.jsonl,
 * metrics.json and report.md via {@link EvalOutputs}.
 */
public final class Evaluator {
  /**
   * The metric names of multiple choice: accuracy, and accuracy with log-likelihoods divided by
   * byte length.
   */
  static final String ACC = "acc";

  static final String ACC_NORM = "acc_norm";

  private final CorpusScorer scorer;
  private final IfevalChecker ifeval;
  private final ConfidenceIntervals intervals;
  private final Generator generator;
  private final Progress progress;

  /**
   * Creates an evaluator with its hooks.
   *
   * @param scorer the metric suite for generation tasks (may be null when none is run)
   * @param ifeval the IFEval checks (may be null when the ifeval task is not run)
   * @param intervals the bootstrap (null: every ci95 is null)
   * @param generator how prompts become completions ({@link Generator#IN_PROCESS} outside tests)
   * @param progress where progress goes
   */
  public Evaluator(
      CorpusScorer scorer,
      IfevalChecker ifeval,
      ConfidenceIntervals intervals,
      Generator generator,
      Progress progress) {
    this.scorer = scorer;
    this.ifeval = ifeval;
    this.intervals = intervals;
    this.generator = Objects.requireNonNull(generator, "generator");
    this.progress = Objects.requireNonNull(progress, "progress");
  }

  /**
   * The examples of one run and their few-shot source, loaded once for all models.
   *
   * @param task the task
   * @param examples the evaluated examples (the split, cut to the limit)
   * @param shots the few-shot selection
   */
  public record Selection(Task task, List<Example> examples, FewShot shots) {}

  /**
   * Loads the split, applies {@code --limit} and prepares the few-shot pool.
   *
   * @param dataDir the task's data folder (the file for jsonl)
   * @throws DataException for bad data, an empty selection, or too few examples for the shots
   */
  public static Selection select(Task task, Path dataDir, EvalSettings settings) {
    List<Example> split = task.load(dataDir, settings.split());
    if (split.isEmpty()) {
      throw new DataException(
          dataDir + ": task " + task.name() + ", split " + settings.split() + " has no examples");
    }
    List<Example> examples =
        settings.limit() == null
            ? split
            : split.subList(0, Math.min(split.size(), settings.limit()));
    boolean sameSplit = task.shotSplit() == null || task.shotSplit().equals(settings.split());
    if (task.kind() == TaskKind.INSTRUCTION_FOLLOWING && settings.shots() > 0) {
      throw new DataException(
          "task " + task.name() + " has no answers to show as examples: --shots must be 0");
    }
    List<Example> pool =
        settings.shots() == 0
            ? List.of()
            : sameSplit ? split : task.load(dataDir, task.shotSplit());
    String poolName =
        "split " + (sameSplit ? settings.split() : task.shotSplit()) + " of " + task.name();
    settings.template().requireKnown(examples.get(0).fields().keySet(), task.name());
    return new Selection(
        task,
        List.copyOf(examples),
        FewShot.prepare(pool, settings.shots(), settings.seed(), sameSplit, poolName));
  }

  /**
   * Evaluates one model and writes {@code outDir} atomically (a temporary folder beside it, renamed
   * at the end).
   *
   * @throws DataException for an output folder that exists or a prompt that breaks the template
   * @throws LlamaBridgeException for a model or generation failure; the message names the model and
   *     the example index (position in the selection) and id
   */
  public Outcome evaluate(Path model, Selection selection, EvalSettings settings, Path outDir)
      throws IOException {
    Task task = selection.task();
    List<Example> examples = selection.examples();
    if (Files.exists(outDir)) {
      throw new DataException(outDir + ": output folder already exists (remove it or pick --out)");
    }
    List<String> prompts = new ArrayList<>(examples.size());
    for (Example e : examples) prompts.add(selection.shots().prompt(settings.template(), e));
    boolean loglik = task.kind() == TaskKind.MULTIPLE_CHOICE && settings.mcMode() == McMode.LOGLIK;
    boolean chat = !loglik && (settings.chat() != null ? settings.chat() : hasChatTemplate(model));

    Run run = new Run(examples.size());
    progress.start(model.getFileName() + " " + task.name(), examples.size());
    try {
      if (loglik) {
        scoreChoices(model, examples, prompts, settings, run);
      } else {
        generate(model, task, examples, prompts, settings, chat, run);
      }
    } finally {
      progress.finish();
    }

    long scoreStart = System.nanoTime();
    ScoredCorpus corpus = null;
    if (task.kind() == TaskKind.GENERATION) {
      if (scorer == null)
        throw new IllegalStateException("no metric suite was given for task " + task.name());
      List<String> references = examples.stream().map(Example::reference).toList();
      corpus = scorer.score(run.predictions, references);
      if (corpus.size() != examples.size()) {
        throw new IllegalStateException(
            "the metric suite scored " + corpus.size() + " of " + examples.size());
      }
    } else if (task.kind() == TaskKind.MULTIPLE_CHOICE) {
      corpus = choiceCorpus(examples, run, loglik);
    } else {
      if (ifeval == null) throw new IllegalStateException("no IFEval checker was given");
      corpus = ifeval.check(examples, run.predictions);
      if (corpus.size() != examples.size()) {
        throw new IllegalStateException(
            "the IFEval checker returned "
                + corpus.size()
                + " results for "
                + examples.size()
                + " responses");
      }
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    Map<String, double[]> ci = new LinkedHashMap<>();
    metrics.putAll(corpus.aggregate(IntStream.range(0, corpus.size()).toArray()));
    if (intervals != null) ci.putAll(intervals.ci95(corpus));
    double scoringSeconds = (System.nanoTime() - scoreStart) / 1e9;

    List<ObjectNode> lines = new ArrayList<>();
    for (int i = 0; i < examples.size(); i++) {
      Example e = examples.get(i);
      ObjectNode n = EvalOutputs.JSON.createObjectNode();
      n.put("index", i);
      n.put("id", e.id());
      n.put("input", e.input());
      n.put("prompt", run.sentPrompts[i] != null ? run.sentPrompts[i] : prompts.get(i));
      if (task.kind() == TaskKind.MULTIPLE_CHOICE) {
        ArrayNode options = n.putArray("options");
        e.choices().forEach(options::add);
        n.put("gold", e.reference());
        n.put("predicted", run.predicted[i]);
        if (run.logLikelihoods[i] != null) {
          ObjectNode ll = n.putObject("loglikelihoods");
          for (int c = 0; c < e.choices().size(); c++)
            ll.put(e.choices().get(c), run.logLikelihoods[i][c]);
        }
      }
      n.put("prediction", run.predictions.get(i));
      n.put("reference", e.reference());
      if (run.generatedTokens[i] >= 0) n.put("generated_tokens", run.generatedTokens[i]);
      ObjectNode m = n.putObject("metrics");
      corpus.perExample(i).forEach(m::put);
      lines.add(n);
    }

    ObjectNode json = EvalOutputs.JSON.createObjectNode();
    json.put("task", task.name());
    json.put("split", settings.split());
    json.put("count", examples.size());
    ObjectNode modelNode = json.putObject("model");
    modelNode.put("path", model.toAbsolutePath().toString());
    modelNode.put("bytes", Files.size(model));
    modelNode.put("sha256", Checksums.sha256(model));
    ObjectNode metricsNode = json.putObject("metrics");
    metrics.forEach(metricsNode::put);
    ObjectNode ciNode = json.putObject("ci95");
    for (String name : metrics.keySet()) {
      double[] interval = ci.get(name);
      if (interval == null) {
        ciNode.putNull(name);
      } else {
        ciNode.putArray(name).add(interval[0]).add(interval[1]);
      }
    }
    ObjectNode signatures = json.putObject("signatures");
    corpus.signatures().forEach(signatures::put);
    ObjectNode decoding = json.putObject("decoding");
    decoding.put("greedy", true);
    decoding.put(
        "max_tokens",
        loglik
            ? 0
            : task.kind() == TaskKind.MULTIPLE_CHOICE
                ? Math.min(settings.maxTokens(), GRAMMAR_MAX_TOKENS)
                : settings.maxTokens());
    decoding.put("chat", chat);
    decoding.put("template", settings.template().text());
    decoding.put("template_source", settings.template().source());
    decoding.put("template_sha256", settings.template().sha256());
    decoding.put("shots", settings.shots());
    decoding.put("seed", settings.seed());
    decoding.put(
        "mc_mode",
        task.kind() == TaskKind.MULTIPLE_CHOICE ? settings.mcMode().name().toLowerCase() : null);
    decoding.put("context_size", settings.contextSize());
    // Batched kernels may round differently from one sequence's: the report names the batching.
    if (run.parallel > 0) decoding.put("parallel", run.parallel);
    ObjectNode timings = json.putObject("timings");
    timings.put("load_s", run.loadMillis / 1000.0);
    timings.put("generation_s", run.workMillis / 1000.0);
    timings.put("scoring_s", scoringSeconds);
    timings.put("tokens_per_s", run.tokensPerSecond());
    json.put("amalgam_version", version());

    EvalOutputs.write(outDir, lines, json, EvalOutputs.report(json, metrics, ci));
    return new Outcome(outDir, examples.size(), metrics, run.tokensPerSecond());
  }

  /**
   * What one model's run produced.
   *
   * @param outDir the output folder
   * @param count examples evaluated
   * @param metrics the corpus metrics (or IFEval accuracies)
   * @param tokensPerSecond generated tokens per second of generation time (0 for log-likelihood
   *     scoring)
   */
  public record Outcome(
      Path outDir, int count, Map<String, Double> metrics, double tokensPerSecond) {}

  /** Grammar-constrained answers are a label and perhaps a space: a few tokens suffice. */
  static final int GRAMMAR_MAX_TOKENS = 8;

  private void generate(
      Path model,
      Task task,
      List<Example> examples,
      List<String> prompts,
      EvalSettings s,
      boolean chat,
      Run run) {
    boolean grammarMode = task.kind() == TaskKind.MULTIPLE_CHOICE;
    GenerationRequest.Builder request =
        GenerationRequest.builder()
            .chat(chat)
            .maxTokens(grammarMode ? Math.min(s.maxTokens(), GRAMMAR_MAX_TOKENS) : s.maxTokens())
            .temperature(0f)
            .seed((int) s.seed())
            .gpuLayers(s.gpuLayers())
            .contextSize(s.contextSize())
            .threads(s.threads());
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < examples.size(); i++) {
      String grammar = grammarMode ? labelGrammar(examples.get(i).choices()) : null;
      requests.add(request.prompt(prompts.get(i)).grammar(grammar).build());
    }
    LlamaGeneration.Listener listener =
        new LlamaGeneration.Listener() {
          @Override
          public void loaded(long millis) {
            run.loadMillis = millis;
            run.generationStart = System.nanoTime();
          }

          @Override
          public void parallel(int sequences, String reason) {
            run.parallel = sequences;
            progress.note(
                "generation: "
                    + (sequences == 1
                        ? "1 sequence at a time"
                        : sequences + " sequences in parallel")
                    + " ("
                    + reason
                    + ")");
          }

          @Override
          public void result(int index, GenerationResult r) {
            run.record(index, r);
            progress.step(index + 1, run.tokens, run.tokensPerSecond());
          }
        };
    List<GenerationResult> results;
    try {
      results = generator.generate(model, requests, listener);
    } catch (LlamaBridgeException e) {
      throw atExample(e, run.done, examples, task, s);
    }
    for (int i = 0; i < examples.size(); i++) {
      String text = results.get(i).text().strip();
      run.predictions.set(i, text);
      if (grammarMode) run.predicted[i] = examples.get(i).choices().contains(text) ? text : null;
    }
  }

  private void scoreChoices(
      Path model, List<Example> examples, List<String> prompts, EvalSettings s, Run run) {
    ScorerOptions options =
        ScorerOptions.builder()
            .contextSize(s.contextSize())
            .threads(s.threads())
            .gpuLayers(s.gpuLayers())
            .f32KvCache(true)
            .verbose(false)
            .build();
    long start = System.nanoTime();
    try (LlamaScorer llama = LlamaScorer.open(model, options)) {
      run.loadMillis = (System.nanoTime() - start) / 1_000_000;
      for (int i = 0; i < examples.size(); i++) {
        Example e = examples.get(i);
        long t = System.nanoTime();
        List<String> continuations = new ArrayList<>(e.choices().size());
        for (String choice : e.choices()) continuations.add(FewShot.TARGET_DELIMITER + choice);
        // The prompt is shared by all options: decoded once, equal bit for bit to one call per
        // option.
        List<ContinuationScore> scores =
            llama.continuationLogLikelihoods(prompts.get(i), continuations);
        double[] ll = new double[scores.size()];
        for (int c = 0; c < ll.length; c++) ll[c] = scores.get(c).logLikelihood();
        run.logLikelihoods[i] = ll;
        run.predicted[i] = e.choices().get(argmax(ll, e.choices(), false));
        run.predictedNorm[i] = e.choices().get(argmax(ll, e.choices(), true));
        run.predictions.set(i, run.predicted[i]);
        run.workMillis += (System.nanoTime() - t) / 1_000_000;
        run.done = i + 1;
        progress.step(i + 1, 0, 0);
      }
    } catch (LlamaBridgeException e) {
      throw atExample(e, run.done, examples, null, s);
    }
  }

  /**
   * First index of the largest value (lm-evaluation-harness's argmax); normalised: divided by UTF-8
   * bytes.
   */
  static int argmax(double[] ll, List<String> labels, boolean byBytes) {
    int best = 0;
    double bestValue = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < ll.length; c++) {
      double v = byBytes ? ll[c] / labels.get(c).getBytes(StandardCharsets.UTF_8).length : ll[c];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    return best;
  }

  /** A GBNF grammar allowing an optional leading space and exactly one of the labels. */
  static String labelGrammar(List<String> labels) {
    StringBuilder alternatives = new StringBuilder();
    for (String label : labels) {
      if (alternatives.length() > 0) alternatives.append(" | ");
      alternatives
          .append('"')
          .append(label.replace("\\", "\\\\").replace("\"", "\\\""))
          .append('"');
    }
    return "root ::= \" \"? (" + alternatives + ")\n";
  }

  private static ScoredCorpus choiceCorpus(List<Example> examples, Run run, boolean loglik) {
    List<Map<String, Double>> rows = new ArrayList<>();
    for (int i = 0; i < examples.size(); i++) {
      Map<String, Double> row = new LinkedHashMap<>();
      row.put(ACC, examples.get(i).reference().equals(run.predicted[i]) ? 1.0 : 0.0);
      if (loglik)
        row.put(ACC_NORM, examples.get(i).reference().equals(run.predictedNorm[i]) ? 1.0 : 0.0);
      rows.add(row);
    }
    if (loglik) {
      return new MeanCorpus(
          List.of(ACC, ACC_NORM),
          rows,
          Map.of(
              ACC,
              "loglik of ' '+label after the prompt; first argmax",
              ACC_NORM,
              "loglik / UTF-8 bytes of the label"));
    }
    return new MeanCorpus(
        List.of(ACC), rows, Map.of(ACC, "greedy answer under a label-only GBNF grammar"));
  }

  private static LlamaBridgeException atExample(
      LlamaBridgeException e, int done, List<Example> examples, Task task, EvalSettings s) {
    // Requests run side by side: the failure names its request where it belongs to one.
    int index = e.request() >= 0 ? e.request() : done;
    if (index >= examples.size()) return e;
    return new LlamaBridgeException(
        e.reason(),
        "example "
            + index
            + " (id "
            + examples.get(index).id()
            + ", split "
            + s.split()
            + "): "
            + e.getMessage(),
        e);
  }

  /**
   * Whether the GGUF metadata holds {@code tokenizer.chat_template} (then chat mode is the
   * default).
   */
  public static boolean hasChatTemplate(Path model) {
    try (GgufFile gguf = GgufFile.open(model)) {
      return gguf.metadata().contains("tokenizer.chat_template");
    } catch (IOException e) {
      throw new DataException(model + ": cannot read the GGUF header: " + e.getMessage(), e);
    }
  }

  static String version() {
    String v = Evaluator.class.getPackage().getImplementationVersion();
    return v != null ? v : "development build";
  }

  /** The mutable state of one model's run, filled as results stream in. */
  private static final class Run {
    final List<String> predictions;
    final String[] predicted;
    final String[] predictedNorm;
    final double[][] logLikelihoods;
    final String[] sentPrompts;
    final int[] generatedTokens;
    long loadMillis;
    long generationStart = System.nanoTime();
    int parallel;
    long workMillis;
    long tokens;
    int done;

    Run(int n) {
      predictions = new ArrayList<>(java.util.Collections.nCopies(n, ""));
      predicted = new String[n];
      predictedNorm = new String[n];
      logLikelihoods = new double[n][];
      sentPrompts = new String[n];
      generatedTokens = new int[n];
      java.util.Arrays.fill(generatedTokens, -1);
    }

    void record(int index, GenerationResult r) {
      sentPrompts[index] = r.prompt();
      generatedTokens[index] = r.generatedTokens();
      tokens += Math.max(0, r.generatedTokens());
      // Wall time since the load: with several sequences in parallel their own times overlap.
      workMillis = Math.max(1, (System.nanoTime() - generationStart) / 1_000_000);
      done = index + 1;
    }

    double tokensPerSecond() {
      return workMillis == 0 ? 0 : tokens * 1000.0 / workMillis;
    }
  }
}
