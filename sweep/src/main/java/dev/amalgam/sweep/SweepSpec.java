package dev.amalgam.sweep;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A sweep file, read and checked ({@link SweepReader}): the models, the grid, the evaluation suite,
 * the merged models' format, the recommendation rule and the Slurm settings. Relative paths are
 * resolved against the sweep file's folder.
 *
 * @param file the sweep file
 * @param name a short name for the report (default: the file's stem)
 * @param models the input models, two or more, in file order
 * @param base the name of the base model (t = 0; the base of task arithmetic)
 * @param grid the methods and parameter values
 * @param evaluation the tasks and decoding settings
 * @param output the merged models' GGUF type and whether they are kept
 * @param recommend how the recommended merge is chosen
 * @param slurm the job settings of the Slurm executor
 * @param cache the cache folder (null: {@code cache/} inside the output folder)
 */
public record SweepSpec(
    Path file,
    String name,
    List<ModelInput> models,
    String base,
    GridSpec grid,
    EvaluationSpec evaluation,
    OutputSettings output,
    RecommendationRule recommend,
    SlurmSettings slurm,
    Path cache) {

  /** Copies the lists. */
  public SweepSpec {
    Objects.requireNonNull(file, "file");
    models = List.copyOf(models);
  }

  /** The model named {@code name}. */
  public ModelInput model(String modelName) {
    for (ModelInput m : models) if (m.name().equals(modelName)) return m;
    throw new IllegalArgumentException("no model " + modelName);
  }

  /** The models other than the base, in file order. */
  public List<ModelInput> others() {
    return models.stream().filter(m -> !m.name().equals(base)).toList();
  }

  /**
   * One input model.
   *
   * @param name its name in the sweep (used in labels and by {@code base})
   * @param path the GGUF file or Hugging Face folder
   */
  public record ModelInput(String name, Path path) {}

  /**
   * The grid: methods and the values of their parameters.
   *
   * @param methods merge methods, in order ({@link Grid#METHODS})
   * @param axes parameter name ({@code t}, {@code weight}, {@code density}) to filter ("" for all
   *     tensors, else a mergekit filter such as {@code self_attn} or {@code mlp}) to values
   * @param refine refinement points of t added after the grid (0: none)
   */
  public record GridSpec(
      List<String> methods, Map<String, Map<String, List<Double>>> axes, int refine) {
    /** Copies the collections. */
    public GridSpec {
      methods = List.copyOf(methods);
      axes = Map.copyOf(axes);
    }
  }

  /**
   * One evaluation task of the suite.
   *
   * @param id the task's name in results and reports (unique; default: the task name)
   * @param task the {@code amalgam eval --task} name
   * @param data the task's data folder or root, or the file for {@code jsonl}
   * @param split the split (null: the task's default)
   * @param limit the first N examples (null: all)
   * @param shots few-shot examples per prompt
   * @param maxTokens most generated tokens (null: the task's default)
   * @param objective {@code clinical}, {@code instruction} or {@code none}
   * @param metric the metric that counts for the objective
   * @param inputField jsonl: the input field
   * @param referenceField jsonl: the reference field
   * @param template a prompt template file (null: the task's)
   * @param optional leave the task out (with a warning) when its data is missing
   */
  public record TaskSpec(
      String id,
      String task,
      Path data,
      String split,
      Integer limit,
      int shots,
      Integer maxTokens,
      String objective,
      String metric,
      String inputField,
      String referenceField,
      Path template,
      boolean optional) {}

  /**
   * The evaluation suite and its decoding and scoring settings.
   *
   * @param tasks the tasks
   * @param threads CPU threads of generation
   * @param contextSize context tokens
   * @param gpuLayers layers offloaded to a GPU
   * @param seed the few-shot and sampler seed
   * @param chat chat template on or off (null: per model)
   * @param mcMode {@code loglik} or {@code grammar}
   * @param metrics the generation metrics (rouge, bleu, meteor, bertscore)
   * @param composite the composite's definition ({@code NAME:W,...})
   * @param bootstrapSamples resamples of the confidence intervals
   */
  public record EvaluationSpec(
      List<TaskSpec> tasks,
      int threads,
      int contextSize,
      int gpuLayers,
      long seed,
      Boolean chat,
      String mcMode,
      List<String> metrics,
      String composite,
      int bootstrapSamples) {
    /** Copies the lists. */
    public EvaluationSpec {
      tasks = List.copyOf(tasks);
      metrics = List.copyOf(metrics);
    }
  }

  /**
   * The merged models.
   *
   * @param type GGUF tensor type: f32, f16, bf16 or q8_0 (null: the merge's dtype)
   * @param keep keep every merged model (else each is deleted once evaluated)
   */
  public record OutputSettings(String type, boolean keep) {}

  /**
   * How the recommended merge is chosen among the merged points.
   *
   * @param rule {@code within-tolerance} (default: the highest clinical objective among the merges
   *     whose instruction objective is at least the reference model's minus the tolerance), {@code
   *     clinical-floor} (the highest instruction objective among the merges whose clinical
   *     objective is at least the reference model's minus the tolerance), {@code max-clinical} or
   *     {@code max-instruction}
   * @param tolerance in the units of the constrained objective
   * @param reference the input model the tolerance is measured from
   */
  public record RecommendationRule(String rule, double tolerance, String reference) {}

  /**
   * The Slurm job array's settings (each optional; null leaves the cluster's default).
   *
   * @param partition {@code --partition}
   * @param time {@code --time}
   * @param memory {@code --mem}
   * @param cpus {@code --cpus-per-task}
   * @param gres {@code --gres}, e.g. {@code gpu:1}
   * @param account {@code --account}
   * @param parallel most array tasks running at once ({@code --array=...%N})
   * @param maxRetries resubmissions of a failed task
   * @param pollSeconds seconds between {@code squeue} polls
   * @param launcher the command that runs amalgam on the nodes (null: this JVM's java and class
   *     path)
   * @param extraArgs further {@code sbatch} arguments
   */
  public record SlurmSettings(
      String partition,
      String time,
      String memory,
      Integer cpus,
      String gres,
      String account,
      Integer parallel,
      int maxRetries,
      double pollSeconds,
      List<String> launcher,
      List<String> extraArgs) {
    /** Copies the lists. */
    public SlurmSettings {
      launcher = launcher == null ? null : List.copyOf(launcher);
      extraArgs = List.copyOf(extraArgs);
    }
  }
}
