package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * mergekit's generalized task arithmetic (docs/merge-semantics.md §2.7), one implementation for
 * eight methods: task vectors {@code d_i = X_i - B}, sparsified per model ({@link Sparsification}),
 * optionally rescaled to their L1 mass, weighted, combined with or without TIES sign consensus,
 * optionally normalised, scaled by {@code lambda} and added to the base. Per-model parameters:
 * {@code weight} (required), {@code density} (1), {@code gamma} (0.01, breadcrumbs), {@code
 * epsilon} (0.15, della); global: {@code normalize} and {@code rescale} (per-method defaults),
 * {@code lambda} (1), {@code int8_mask} (false).
 *
 * <p>Numerics, and where they differ from mergekit:
 *
 * <ul>
 *   <li>Each input is rounded to the base's dtype first, as mergekit casts it; the rest is f32
 *       (task vectors, masks, rescale factor, weights, consensus, division, lambda, the final add)
 *       rounded once to the output type, where mergekit rounds the weights and every operation to
 *       the base dtype. The result is the exactly specified f32 chain, so it can differ from
 *       mergekit's bf16 arithmetic by an ulp.
 *   <li>Magnitude ties (top-k, breadcrumbs, della's ranks) are broken by element index, the first
 *       kept; mergekit's order is unspecified.
 *   <li>Random masks (dare, della) come from {@link dev.amalgam.kernels.Philox} keyed by the seed,
 *       the tensor name and the input's index: the same bytes at any thread count and tensor order.
 *       mergekit draws from torch's global RNG in schedule order and cannot be reproduced; masks
 *       have the same distribution.
 *   <li>Fixed: breadcrumbs with no top outliers ({@code n_top = 0}, gamma 0 or small tensors) drops
 *       only the {@code n_bot} smallest; mergekit's negative slice end zeroes the whole task
 *       vector.
 *   <li>Fixed: magnitude top-k with {@code floor(density * numel) = 0} keeps nothing, where
 *       mergekit fails an assertion (a small tensor with a small density).
 *   <li>della with a one-element row ranks it 0 (keep probability {@code density - epsilon});
 *       mergekit divides by zero there.
 *   <li>{@code int8_mask} is accepted and changes nothing: in mergekit it only sets the consensus
 *       mask's dtype, and 0/1 masks are exact in every dtype.
 *   <li>Matched: the rescale factor is {@code |d|_1 / |d*mask|_1} over the whole tensor, skipped
 *       when either is below 1e-7 (not DARE's 1/density); the consensus divisor is {@code sum_i
 *       w_i*mask_i} elementwise with zeros replaced by 1; without consensus {@code sum_i w_i},
 *       replaced by 1 below 1e-8 in magnitude, so weights that sum to zero are not divided by.
 * </ul>
 */
final class TaskArithmeticMerge {
  /** How a task vector is thinned before merging. */
  public enum Sparsification {
    /** Kept whole. */
    NONE,
    /** The {@code floor(density * numel)} largest magnitudes kept (TIES). */
    MAGNITUDE,
    /** Each element kept with probability {@code density} (DARE). */
    RANDOM,
    /**
     * The largest {@code gamma} fraction and the smallest ones dropped, {@code density} kept
     * (breadcrumbs).
     */
    MAGNITUDE_OUTLIERS,
    /** Kept with a probability rising with the element's magnitude rank in its row (DELLA). */
    DELLA_MAGPRUNE
  }

  /** The eight mergekit methods of the family. */
  public enum Variant {
    /** Weighted sum of task vectors. */
    TASK_ARITHMETIC(
        "task_arithmetic",
        "Task Arithmetic",
        "https://arxiv.org/abs/2212.04089",
        Sparsification.NONE,
        false,
        false,
        false),
    /** Magnitude top-k with sign consensus. */
    TIES(
        "ties",
        "TIES",
        "https://arxiv.org/abs/2306.01708",
        Sparsification.MAGNITUDE,
        true,
        true,
        false),
    /** Random drop with sign consensus. */
    DARE_TIES(
        "dare_ties",
        "DARE TIES",
        "https://arxiv.org/abs/2311.03099",
        Sparsification.RANDOM,
        true,
        false,
        true),
    /** Random drop, plain sum. */
    DARE_LINEAR(
        "dare_linear",
        "Linear DARE",
        "https://arxiv.org/abs/2311.03099",
        Sparsification.RANDOM,
        false,
        false,
        true),
    /** Outlier and small-magnitude drop, plain sum. */
    BREADCRUMBS(
        "breadcrumbs",
        "Model Breadcrumbs",
        "https://arxiv.org/abs/2312.06795",
        Sparsification.MAGNITUDE_OUTLIERS,
        false,
        false,
        false),
    /** Outlier and small-magnitude drop with sign consensus. */
    BREADCRUMBS_TIES(
        "breadcrumbs_ties",
        "Model Breadcrumbs with TIES",
        "https://arxiv.org/abs/2312.06795",
        Sparsification.MAGNITUDE_OUTLIERS,
        true,
        false,
        false),
    /** Magnitude-ranked random drop with sign consensus. */
    DELLA(
        "della",
        "DELLA",
        "https://arxiv.org/abs/2406.11617",
        Sparsification.DELLA_MAGPRUNE,
        true,
        true,
        true),
    /** Magnitude-ranked random drop, plain sum. */
    DELLA_LINEAR(
        "della_linear",
        "Linear DELLA",
        "https://arxiv.org/abs/2406.11617",
        Sparsification.DELLA_MAGPRUNE,
        false,
        false,
        true);

    final String methodName;
    final String displayName;
    final String reference;
    final Sparsification sparsification;
    final boolean consensus;
    final boolean defaultNormalize;
    final boolean defaultRescale;

    Variant(
        String methodName,
        String displayName,
        String reference,
        Sparsification sparsification,
        boolean consensus,
        boolean defaultNormalize,
        boolean defaultRescale) {
      this.methodName = methodName;
      this.displayName = displayName;
      this.reference = reference;
      this.sparsification = sparsification;
      this.consensus = consensus;
      this.defaultNormalize = defaultNormalize;
      this.defaultRescale = defaultRescale;
    }
  }

  /** The eight methods, one per variant in mergekit's order. */
  static final List<MergeMethod> METHODS =
      Stream.of(Variant.values()).map(TaskArithmeticMerge::declare).toList();

  private TaskArithmeticMerge() {}

  private static MergeMethod declare(Variant variant) {
    return DeclaredMethod.named(variant.methodName)
        .displayName(variant.displayName)
        .reference(variant.reference)
        .parameters(parameters(variant))
        .inputs(InputRule.baseAndAtLeast(1, "adds task vectors (model - base) to a base model"))
        .outputFollowsBase()
        .plans(context -> plan(variant, context));
  }

  /** The family's parameters, with the variant's sparsification parameter and defaults. */
  private static List<ParameterSpec> parameters(Variant variant) {
    List<ParameterSpec> p = new ArrayList<>();
    p.add(
        ParameterSpec.required(
            "weight", Scope.PER_MODEL, Type.NUMBER, "scale of the model's task vector"));
    p.add(
        ParameterSpec.optional(
            "density", Scope.PER_MODEL, Type.NUMBER, 1.0, "fraction of the task vector kept"));
    if (variant.sparsification == Sparsification.MAGNITUDE_OUTLIERS) {
      p.add(
          ParameterSpec.optional(
              "gamma",
              Scope.PER_MODEL,
              Type.NUMBER,
              0.01,
              "fraction of the largest-magnitude elements dropped as outliers"));
    }
    if (variant.sparsification == Sparsification.DELLA_MAGPRUNE) {
      p.add(
          ParameterSpec.optional(
              "epsilon",
              Scope.PER_MODEL,
              Type.NUMBER,
              0.15,
              "spread of keep probabilities around density, by magnitude rank"));
    }
    p.add(
        ParameterSpec.optional(
            "int8_mask",
            Scope.GLOBAL,
            Type.BOOLEAN,
            false,
            "accepted for mergekit compatibility; changes nothing"));
    p.add(
        ParameterSpec.optional(
            "normalize",
            Scope.GLOBAL,
            Type.BOOLEAN,
            variant.defaultNormalize,
            "divide by the sum of the (agreeing) weights"));
    p.add(
        ParameterSpec.optional(
            "rescale",
            Scope.GLOBAL,
            Type.BOOLEAN,
            variant.defaultRescale,
            "restore each sparsified task vector's L1 mass"));
    p.add(
        ParameterSpec.optional(
            "lambda", Scope.GLOBAL, Type.NUMBER, 1.0, "scale of the merged task vector"));
    return p;
  }

  /** The variant's operation for one tensor, with every model's parameters checked. */
  static TensorOperation plan(Variant variant, TensorContext context) {
    List<InputTensor> inputs = context.inputs();
    int base = -1;
    List<TaskArithmeticOperation.Model> models = new ArrayList<>();
    long numel = 1;
    long[] shape = null;
    for (InputTensor in : inputs) {
      if (in.isBase()) {
        base = in.index();
        shape = in.info().shape();
        numel = in.info().elementCount();
      }
    }
    long rowLength = shape == null || shape.length == 0 ? 1 : Math.max(1, shape[shape.length - 1]);
    StringBuilder d = new StringBuilder(variant.methodName);
    for (InputTensor in : inputs) {
      if (in.isBase()) continue;
      String path = "models[" + in.index() + "].parameters.";
      double weight = context.number(in, "weight");
      double density = context.number(in, "density");
      if (density < 0) throw new ConfigException(path + "density", "must be >= 0, got " + density);
      double gamma = 0;
      double epsilon = 0;
      if (variant.sparsification == Sparsification.MAGNITUDE_OUTLIERS) {
        gamma = context.number(in, "gamma");
        if (gamma < 0 || gamma > 1)
          throw new ConfigException(path + "gamma", "must be in [0, 1], got " + gamma);
      }
      if (variant.sparsification == Sparsification.DELLA_MAGPRUNE) {
        epsilon = context.number(in, "epsilon");
        if (epsilon < 0)
          throw new ConfigException(path + "epsilon", "must be >= 0, got " + epsilon);
        if (density > 0 && density < 1 && !(density - epsilon > 0 && density + epsilon < 1)) {
          throw new ConfigException(
              path + "epsilon",
              String.format(
                  Locale.ROOT,
                  "keep probabilities density +-"
                      + " epsilon must lie in (0, 1); got density %s, epsilon %s for tensor '%s'",
                  density,
                  epsilon,
                  context.tensorName()));
        }
      }
      models.add(new TaskArithmeticOperation.Model(in.index(), weight, density, gamma, epsilon));
      d.append(
          String.format(Locale.ROOT, " %s: weight=%.6g density=%.6g", in.label(), weight, density));
      if (variant.sparsification == Sparsification.MAGNITUDE_OUTLIERS) {
        d.append(String.format(Locale.ROOT, " gamma=%.6g", gamma));
      }
      if (variant.sparsification == Sparsification.DELLA_MAGPRUNE) {
        d.append(String.format(Locale.ROOT, " epsilon=%.6g", epsilon));
      }
    }
    context.bool("int8_mask"); // validated; no numeric effect (see the class comment)
    boolean normalize = context.bool("normalize");
    boolean rescale = context.bool("rescale");
    double lambda = context.number("lambda");
    d.append(
        String.format(
            Locale.ROOT, " normalize=%s rescale=%s lambda=%.6g", normalize, rescale, lambda));
    return new TaskArithmeticOperation(
        variant.sparsification,
        variant.consensus,
        normalize,
        rescale,
        lambda,
        base,
        List.copyOf(models),
        numel,
        rowLength,
        context.tensorName(),
        context.randomSeed(),
        d.toString());
  }
}
