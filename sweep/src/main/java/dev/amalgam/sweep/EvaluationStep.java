package dev.amalgam.sweep;

import dev.amalgam.diagnostic.FailureReason;
import dev.amalgam.diagnostic.WarningListener;
import dev.amalgam.eval.harness.ConfidenceIntervals;
import dev.amalgam.eval.harness.DataException;
import dev.amalgam.eval.harness.EvalSettings;
import dev.amalgam.eval.harness.Evaluator;
import dev.amalgam.eval.harness.Generator;
import dev.amalgam.eval.harness.IfevalChecks;
import dev.amalgam.eval.harness.McMode;
import dev.amalgam.eval.harness.Progress;
import dev.amalgam.eval.harness.PromptTemplate;
import dev.amalgam.eval.harness.Task;
import dev.amalgam.eval.harness.TaskKind;
import dev.amalgam.eval.harness.Tasks;
import dev.amalgam.eval.score.Composite;
import dev.amalgam.eval.score.MetricSuite;
import dev.amalgam.eval.score.ScoreOptions;
import dev.amalgam.eval.stats.Bootstrap;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The sweep's one use of the evaluation harness: it turns a {@link SweepSpec.TaskSpec} into the
 * harness's {@link Task} and {@link EvalSettings}, names the evaluation's content key, and runs
 * {@link Evaluator} with the metric suite, the IFEval checks and the bootstrap intervals. A change
 * of the generation engine (a parallel setting, say) is a change here only.
 */
public final class EvaluationStep implements AutoCloseable {
  private final SweepSpec.EvaluationSpec spec;
  private final Generator generator;
  private final WarningListener warnings;
  private final Map<String, Evaluator.Selection> selections = new HashMap<>();
  private MetricSuite suite;

  /**
   * Creates the step.
   *
   * @param generator how prompts become completions ({@link Generator#IN_PROCESS} outside tests)
   * @param warnings the metric suite's warnings
   */
  public EvaluationStep(
      SweepSpec.EvaluationSpec spec, Generator generator, WarningListener warnings) {
    this.spec = spec;
    this.generator = generator;
    this.warnings = warnings;
  }

  /** The harness's task for a sweep task. */
  public static Task task(SweepSpec.TaskSpec t) {
    return t.task().equals("jsonl")
        ? Tasks.jsonl(t.inputField(), t.referenceField())
        : Tasks.builtIn(t.task());
  }

  /**
   * The task's data: its file for jsonl, else its own folder below the given root (or the root).
   */
  public static Path dataOf(SweepSpec.TaskSpec t) {
    Task task = task(t);
    if (task.dataFolder() == null) {
      if (!Files.isRegularFile(t.data()))
        throw new SweepException("task " + t.id() + ": no such data file: " + t.data());
      return t.data();
    }
    Path own = t.data().resolve(task.dataFolder());
    if (Files.isDirectory(own)) return own;
    if (Files.isDirectory(t.data())
        && t.data().getFileName() != null
        && t.data().getFileName().toString().equals(task.dataFolder())) {
      return t.data();
    }
    throw new SweepException("task " + t.id() + ": missing data: looked in " + own);
  }

  /** The harness settings of a sweep task. */
  public EvalSettings settings(SweepSpec.TaskSpec t) {
    Task task = task(t);
    PromptTemplate template =
        t.template() != null ? PromptTemplate.read(t.template()) : task.defaultTemplate();
    return new EvalSettings(
        t.split() != null ? t.split() : task.defaultSplit(),
        t.limit(),
        t.shots(),
        spec.seed(),
        t.maxTokens() != null ? t.maxTokens() : task.defaultMaxTokens(),
        spec.chat(),
        spec.mcMode().equals("grammar") ? McMode.GRAMMAR : McMode.LOGLIK,
        template,
        spec.gpuLayers(),
        spec.contextSize(),
        spec.threads());
  }

  /**
   * The content key of one task's evaluation of one model: the model's key, the data's hash and
   * every setting that can change a number.
   */
  public String key(SweepSpec.TaskSpec t, String modelKey, SweepCache cache) {
    EvalSettings s = settings(t);
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("version", SweepCache.codeVersion());
    fields.put("model", modelKey);
    fields.put("task", t.task());
    fields.put("data", cache.hash(dataOf(t)));
    fields.put("split", s.split());
    fields.put("limit", s.limit());
    fields.put("shots", s.shots());
    fields.put("seed", s.seed());
    fields.put("max_tokens", s.maxTokens());
    fields.put("chat", s.chat());
    fields.put("mc_mode", s.mcMode());
    fields.put("template", s.template().sha256());
    fields.put("gpu_layers", s.gpuLayers());
    fields.put("ctx", s.contextSize());
    fields.put("threads", s.threads());
    fields.put("input_field", t.inputField());
    fields.put("reference_field", t.referenceField());
    fields.put("metrics", spec.metrics());
    fields.put("composite", spec.composite());
    fields.put("bootstrap_samples", spec.bootstrapSamples());
    StringBuilder text = new StringBuilder("amalgam-sweep eval 1\n");
    fields.forEach((k, v) -> text.append(k).append(": ").append(v).append('\n'));
    return SweepCache.sha256(text.toString());
  }

  /** The number of examples a task evaluates (its split cut to the limit). */
  public int exampleCount(SweepSpec.TaskSpec t) {
    return selection(t).examples().size();
  }

  private Evaluator.Selection selection(SweepSpec.TaskSpec t) {
    String id = t.id() + "#" + t.limit();
    Evaluator.Selection selection = selections.get(id);
    if (selection == null) {
      try {
        selection = Evaluator.select(task(t), dataOf(t), settings(t));
      } catch (DataException e) {
        throw new SweepException(
            "task " + t.id() + ": " + e.getMessage(), FailureReason.BAD_INPUT, e);
      }
      selections.put(id, selection);
    }
    return selection;
  }

  /**
   * Evaluates a model on a task into {@code outDir} (written atomically by the harness; must not
   * exist).
   */
  public void evaluate(Path model, SweepSpec.TaskSpec t, Path outDir, Progress progress)
      throws IOException {
    EvalSettings settings = settings(t);
    Evaluator.Selection selection = selection(t);
    TaskKind kind = selection.task().kind();
    Evaluator evaluator =
        new Evaluator(
            kind == TaskKind.GENERATION ? suite() : null,
            kind == TaskKind.INSTRUCTION_FOLLOWING ? new IfevalChecks() : null,
            intervals(),
            generator,
            progress);
    evaluator.evaluate(model, selection, settings, outDir);
  }

  /** The metric suite of generation tasks, created on first use (closed with this step). */
  public synchronized MetricSuite suite() {
    if (suite == null) suite = MetricSuite.create(scoreOptions(), warnings);
    return suite;
  }

  /** The scoring options the sweep file gives. */
  public ScoreOptions scoreOptions() {
    Set<ScoreOptions.Metric> metrics = EnumSet.noneOf(ScoreOptions.Metric.class);
    for (String m : spec.metrics()) metrics.add(ScoreOptions.Metric.fromId(m));
    return ScoreOptions.builder()
        .metrics(metrics)
        .composite(Composite.parse(spec.composite()))
        .build();
  }

  /** The bootstrap of every interval: the sweep's resamples, amalgam compare's seed and level. */
  public Bootstrap bootstrap() {
    return new Bootstrap(spec.bootstrapSamples(), Bootstrap.DEFAULT_SEED, Bootstrap.DEFAULT_LEVEL);
  }

  private ConfidenceIntervals intervals() {
    Bootstrap bootstrap = bootstrap();
    return corpus -> {
      Map<String, double[]> out = new LinkedHashMap<>();
      bootstrap
          .confidenceIntervals(corpus)
          .forEach((name, i) -> out.put(name, new double[] {i.lower(), i.upper()}));
      return out;
    };
  }

  @Override
  public synchronized void close() {
    if (suite != null) {
      suite.close();
      suite = null;
    }
  }
}
