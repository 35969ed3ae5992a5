package dev.amalgam.cli;

import dev.amalgam.eval.harness.ConfidenceIntervals;
import dev.amalgam.eval.harness.DataException;
import dev.amalgam.eval.harness.EvalSettings;
import dev.amalgam.eval.harness.Evaluator;
import dev.amalgam.eval.harness.Generator;
import dev.amalgam.eval.harness.IfevalChecker;
import dev.amalgam.eval.harness.IfevalChecks;
import dev.amalgam.eval.harness.McMode;
import dev.amalgam.eval.harness.Progress;
import dev.amalgam.eval.harness.PromptTemplate;
import dev.amalgam.eval.harness.Task;
import dev.amalgam.eval.harness.TaskKind;
import dev.amalgam.eval.harness.Tasks;
import dev.amalgam.eval.llama.ScorerOptions;
import dev.amalgam.eval.score.CorpusScorer;
import dev.amalgam.eval.score.MetricSuite;
import dev.amalgam.eval.stats.Bootstrap;
import dev.amalgam.io.gguf.GgufFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Supplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code amalgam eval MODEL.gguf [MODEL2.gguf ...] --task T}: runs an evaluation task on each model
 * (one generation child per model) and writes predictions.jsonl, metrics.json and report.md per
 * model.
 */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Evaluates GGUF models on a task: clinical generation (mts-dialog, aci-bench, iu-xray, jsonl),"
          + " instruction following (ifeval) or multiple choice (medqa, pubmedqa).",
      "Writes predictions.jsonl, metrics.json and report.md to --out (one subfolder per model when several are"
          + " given)."
    })
public final class EvalCommand implements Callable<Integer> {
  /**
   * Test seam: where the metric suite comes from (the lead's wiring replaces {@link
   * #defaultScorer}).
   */
  static Function<EvalCommand, CorpusScorer> scorers = EvalCommand::defaultScorer;

  /** Test seam: where the IFEval checks come from. */
  static Function<EvalCommand, IfevalChecker> ifevalCheckers = EvalCommand::defaultIfevalChecker;

  /** Test seam: the bootstrap of the 95 % intervals (null: ci95 fields are null). */
  static Function<EvalCommand, ConfidenceIntervals> intervals = EvalCommand::defaultIntervals;

  /** Test seam: the AMALGAM_DATA environment variable. */
  static Supplier<String> dataEnvironment = () -> System.getenv("AMALGAM_DATA");

  /** Test seam: how prompts become completions. */
  static Function<EvalCommand, Generator> generators = c -> Generator.inProcess(c.parallel);

  @Spec CommandSpec spec;

  @Parameters(
      paramLabel = "MODEL.gguf",
      arity = "1..*",
      description = "One or more GGUF model files.")
  List<Path> models;

  @Option(
      names = "--task",
      required = true,
      description = "mts-dialog, aci-bench, iu-xray, jsonl, ifeval, medqa" + " or pubmedqa.")
  String task;

  @Option(
      names = "--data",
      paramLabel = "PATH",
      description =
          "Data folder (a root holding the task's folder, such"
              + " as mts-dialog/, or that folder itself); for --task jsonl the .jsonl file. Default: $AMALGAM_DATA.")
  Path data;

  @Option(
      names = "--split",
      description = "Split to evaluate (default: the task's; see the README).")
  String split;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "Evaluate only the first N examples of the split.")
  Integer limit;

  @Option(
      names = "--shots",
      paramLabel = "K",
      defaultValue = "0",
      description =
          "Few-shot examples per prompt, from" + " the train split (default: ${DEFAULT-VALUE}).")
  int shots;

  @Option(
      names = "--seed",
      defaultValue = "1234",
      description = "Seed of the few-shot choice (default:" + " ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--max-tokens",
      paramLabel = "N",
      description =
          "Most tokens generated per example (default: the"
              + " task's: 256 sections, 1024 notes and IFEval, 128 impressions; capped by the free context).")
  Integer maxTokens;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description =
          "Output folder (default: eval-<task>-<model stem>, or"
              + " eval-<task>/<model stem> for several models). Must not exist.")
  Path out;

  @Option(
      names = "--template",
      paramLabel = "FILE",
      description =
          "Prompt template with {field} placeholders" + " (default: the task's built-in template).")
  Path template;

  @Option(
      names = "--chat",
      negatable = true,
      description =
          "Wrap prompts in the model's chat template (default: on"
              + " when the GGUF has tokenizer.chat_template).")
  Boolean chat;

  @Option(
      names = "--mc-mode",
      paramLabel = "loglik|grammar",
      defaultValue = "loglik",
      description =
          "Multiple"
              + " choice by the log-likelihood of ' <label>' after 'Answer:' (default), or greedy generation under a grammar"
              + " allowing only the labels.")
  String mcMode;

  @Option(
      names = "--input-field",
      defaultValue = "input",
      description = "jsonl: the input field (default:" + " ${DEFAULT-VALUE}).")
  String inputField;

  @Option(
      names = "--reference-field",
      defaultValue = "reference",
      description = "jsonl: the reference field" + " (default: ${DEFAULT-VALUE}).")
  String referenceField;

  @Option(
      names = "--gpu-layers",
      defaultValue = "0",
      description = "Layers to offload to a GPU; needs a CUDA build of llama.cpp (--llama-lib).")
  int gpuLayers;

  @Mixin LlamaLibraryOption llamaLibrary;

  @Option(
      names = "--parallel",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "Sequences generated side by side in one llama.cpp batch (1 to 64); 0 (default) picks"
              + " them from the context size and the available memory, at most 16.")
  int parallel;

  @Option(
      names = "--ctx",
      defaultValue = "4096",
      description = "Context size in tokens (default: ${DEFAULT-VALUE}).")
  int contextSize;

  @Option(names = "--threads", description = "CPU threads (default: physical cores, at most 4).")
  Integer threads;

  @Option(names = "--no-progress", description = "No progress bar or progress lines.")
  boolean noProgress;

  @Mixin ScoringOptions scoring;

  /**
   * The metric suite for generation tasks, as the scoring options select it (closed after the run).
   */
  public static CorpusScorer defaultScorer(EvalCommand command) {
    PrintWriter err = command.spec.commandLine().getErr();
    return MetricSuite.create(
        command.scoring.toScoreOptions(),
        line -> {
          err.println("amalgam: warning: " + line);
          err.flush();
        });
  }

  /** The IFEval checks of dev.amalgam.eval.ifeval. */
  public static IfevalChecker defaultIfevalChecker(EvalCommand command) {
    return new IfevalChecks();
  }

  /** Bootstrap 95% intervals of every corpus metric: 1,000 resamples with a fixed seed. */
  static ConfidenceIntervals defaultIntervals(EvalCommand command) {
    Bootstrap bootstrap = Bootstrap.defaults();
    return corpus -> {
      Map<String, double[]> out = new java.util.LinkedHashMap<>();
      bootstrap
          .confidenceIntervals(corpus)
          .forEach((name, i) -> out.put(name, new double[] {i.lower(), i.upper()}));
      return out;
    };
  }

  @Override
  public Integer call() throws IOException {
    Task t = "jsonl".equals(task) ? Tasks.jsonl(inputField, referenceField) : Tasks.builtIn(task);
    McMode mode =
        switch (mcMode.toLowerCase(Locale.ROOT)) {
          case "loglik" -> McMode.LOGLIK;
          case "grammar" -> McMode.GRAMMAR;
          default ->
              throw new DataException("--mc-mode must be loglik or grammar, got '" + mcMode + "'");
        };
    if (parallel < 0 || parallel > 64) {
      throw new DataException("--parallel must be 0 (automatic) to 64, got " + parallel);
    }
    for (Path m : models) {
      if (!Files.isRegularFile(m)) throw new DataException("no such model file: " + m);
      if (!GgufFile.hasMagic(m))
        throw new DataException(m + ": not a GGUF file (it does not start with 'GGUF')");
    }
    Path dataDir = dataFor(t);
    PromptTemplate prompt = template != null ? PromptTemplate.read(template) : t.defaultTemplate();
    EvalSettings settings =
        new EvalSettings(
            split != null ? split : t.defaultSplit(),
            limit,
            shots,
            seed,
            maxTokens != null ? maxTokens : t.defaultMaxTokens(),
            chat,
            mode,
            prompt,
            gpuLayers,
            contextSize,
            threads != null ? threads : ScorerOptions.defaultThreads());
    List<Path> outs = outputs(t);
    Evaluator.Selection selection = Evaluator.select(t, dataDir, settings);
    if (t.kind() == TaskKind.GENERATION)
      scoring.toScoreOptions(); // bad scoring options fail before any model runs
    CorpusScorer scorer = t.kind() == TaskKind.GENERATION ? scorers.apply(this) : null;
    try {
      return run(t, settings, outs, selection, scorer);
    } finally {
      if (scorer instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception e) {
          throw new IllegalStateException("closing the metric suite failed: " + e.getMessage(), e);
        }
      }
    }
  }

  private int run(
      Task t,
      EvalSettings settings,
      List<Path> outs,
      Evaluator.Selection selection,
      CorpusScorer scorer)
      throws IOException {
    IfevalChecker checker =
        t.kind() == TaskKind.INSTRUCTION_FOLLOWING ? ifevalCheckers.apply(this) : null;
    PrintWriter err = spec.commandLine().getErr();
    llamaLibrary.apply();
    LlamaLibraryOption.describe(gpuLayers, err);
    Evaluator evaluator =
        new Evaluator(
            scorer,
            checker,
            intervals.apply(this),
            generators.apply(this),
            noProgress ? notesOnly(err) : progress(err));
    PrintWriter o = spec.commandLine().getOut();
    for (int i = 0; i < models.size(); i++) {
      Evaluator.Outcome r = evaluator.evaluate(models.get(i), selection, settings, outs.get(i));
      StringBuilder line =
          new StringBuilder(stem(models.get(i)))
              .append(": ")
              .append(t.name())
              .append('/')
              .append(settings.split())
              .append(" n=")
              .append(r.count());
      for (Map.Entry<String, Double> e : r.metrics().entrySet()) {
        line.append(' ')
            .append(e.getKey())
            .append('=')
            .append(String.format(Locale.ROOT, "%.4f", e.getValue()));
      }
      if (r.tokensPerSecond() > 0)
        line.append(String.format(Locale.ROOT, " (%.1f tokens/s)", r.tokensPerSecond()));
      o.println(line.append(" -> ").append(r.outDir()));
      o.flush();
    }
    return 0;
  }

  /** The task's data: --data, else $AMALGAM_DATA; a built-in task's own folder below either. */
  private Path dataFor(Task t) {
    if (t.dataFolder() == null) {
      if (data == null)
        throw new DataException("task " + t.name() + " needs --data FILE (a .jsonl file)");
      if (!Files.isRegularFile(data)) throw new DataException("no such data file: " + data);
      return data;
    }
    Path root = data;
    if (root == null) {
      String env = dataEnvironment.get();
      if (env == null || env.isBlank()) {
        throw new DataException(
            "no data for task "
                + t.name()
                + ": give --data DIR (a folder holding "
                + t.dataFolder()
                + "/) or set AMALGAM_DATA; docs/metrics.md §9 says where each data set is"
                + " published, and examples/data holds a 40-example MTS-Dialog slice");
      }
      root = Path.of(env);
    }
    Path own = root.resolve(t.dataFolder());
    if (Files.isDirectory(own)) return own;
    if (Files.isDirectory(root)
        && root.getFileName() != null
        && root.getFileName().toString().equals(t.dataFolder())) {
      return root;
    }
    throw new DataException("missing data for task " + t.name() + ": looked in " + own);
  }

  private List<Path> outputs(Task t) {
    List<Path> outs = new ArrayList<>();
    if (models.size() == 1) {
      outs.add(out != null ? out : Path.of("eval-" + t.name() + "-" + stem(models.get(0))));
    } else {
      Path base = out != null ? out : Path.of("eval-" + t.name());
      Set<String> stems = new HashSet<>();
      for (Path m : models) {
        if (!stems.add(stem(m))) {
          throw new DataException(
              "two models share the file name '"
                  + stem(m)
                  + "': their output folders in "
                  + base
                  + " would collide");
        }
        outs.add(base.resolve(stem(m)));
      }
    }
    for (Path p : outs) {
      if (Files.exists(p))
        throw new DataException(p + ": output folder already exists (remove it or pick --out)");
    }
    return outs;
  }

  private static String stem(Path model) {
    String name = model.getFileName().toString();
    return name.toLowerCase(Locale.ROOT).endsWith(".gguf")
        ? name.substring(0, name.length() - 5)
        : name;
  }

  /** No progress, but the run's notes (such as the number of parallel sequences) still print. */
  private static Progress notesOnly(PrintWriter err) {
    return new Progress() {
      @Override
      public void start(String label, int total) {}

      @Override
      public void step(int done, long generatedTokens, double tokensPerSecond) {}

      @Override
      public void note(String line) {
        err.println("amalgam: " + line);
        err.flush();
      }

      @Override
      public void finish() {}
    };
  }

  /** A progress bar on a terminal, else one line per tenth of the examples. */
  private static Progress progress(PrintWriter err) {
    boolean terminal = System.console() != null;
    return new Progress() {
      private ProgressBar bar;
      private String label;
      private int total;

      @Override
      public void start(String name, int count) {
        label = name;
        total = count;
        if (terminal) {
          bar =
              new ProgressBarBuilder()
                  .setTaskName(name)
                  .setInitialMax(count)
                  .setUnit(" ex", 1)
                  .setStyle(ProgressBarStyle.ASCII)
                  .setUpdateIntervalMillis(500)
                  .setConsumer(new ConsoleProgressBarConsumer(System.err))
                  .build();
        }
      }

      @Override
      public void step(int done, long tokens, double tokensPerSecond) {
        if (bar != null) {
          bar.stepTo(done);
          if (tokensPerSecond > 0)
            bar.setExtraMessage(String.format(Locale.ROOT, "%.1f tok/s", tokensPerSecond));
        } else if (done == total || done % Math.max(1, total / 10) == 0) {
          err.printf(Locale.ROOT, "amalgam: %s: %d/%d examples", label, done, total);
          if (tokensPerSecond > 0)
            err.printf(Locale.ROOT, ", %d tokens, %.1f tokens/s", tokens, tokensPerSecond);
          err.println();
          err.flush();
        }
      }

      @Override
      public void note(String line) {
        if (bar != null) {
          bar.setExtraMessage(line);
        } else {
          err.println("amalgam: " + line);
          err.flush();
        }
      }

      @Override
      public void finish() {
        if (bar != null) {
          bar.close();
          bar = null;
        }
      }
    };
  }
}
