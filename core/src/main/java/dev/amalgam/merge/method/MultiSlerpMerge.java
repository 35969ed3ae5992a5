package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Multi-SLERP (mergekit {@code multislerp}, docs/merge-semantics.md §2.5): barycentric
 * interpolation of two or more models on the hypersphere in one tangent-space step. Each non-base
 * tensor (minus the base when one is set) is one flat vector {@code x_i}; {@code u_i = x_i / (|x_i|
 * + eps)}, {@code m} is the normalised weighted mean of the {@code u_i}, the weighted tangent
 * vector {@code tau = sum w_i (u_i - (u_i . m) m)} is mapped back with the exponential map ({@code
 * a = |tau| + eps}, {@code r = m cos a + tau sin(a) / a}) and scaled by {@code sum w_i |x_i|}.
 *
 * <p>Streaming: every vector in that recipe is a linear combination of the {@code x_i}, so one pass
 * computes the Gram matrix {@code x_i . x_j}, the whole recipe runs on N coefficients (norms and
 * dots are quadratic forms of the Gram matrix), and a second pass emits {@code B + sum c_i x_i}.
 * This is the documented algorithm reassociated: it differs only by floating-point rounding.
 *
 * <p>Against mergekit: the maths runs in double (coefficients) and f32 (elements), rounded once to
 * the output type, where mergekit computes in the input dtype (the weights and every intermediate
 * rounded to bf16 for bf16 models). Weights that sum to zero with {@code normalize_weights} are a
 * configuration error here (mergekit divides by zero). mergekit's runtime error for a zero weighted
 * mean with three or more models is kept (it names the tensor); with two models it falls back to
 * the weighted sum, as mergekit does.
 */
final class MultiSlerpMerge {
  /**
   * The {@code multislerp} method: two or more models, and an optional base as their task vectors'
   * origin.
   */
  static final MergeMethod METHOD =
      DeclaredMethod.named("multislerp")
          .displayName("Multi-SLERP")
          .reference("https://goddard.blog/posts/multislerp-wow-what-a-cool-idea")
          .parameters(
              ParameterSpec.required(
                  "weight", Scope.PER_MODEL, Type.NUMBER, "relative weight of the model"),
              ParameterSpec.optional(
                  "normalize_weights",
                  Scope.GLOBAL,
                  Type.BOOLEAN,
                  true,
                  "divide the weights by their sum"),
              ParameterSpec.optional(
                  "eps", Scope.GLOBAL, Type.NUMBER, 1e-8, "guard added to norms"))
          .inputs(
              InputRule.optionalBase(
                  2,
                  InputRule.UNLIMITED,
                  "{method} interpolates two or more models besides base_model, got {count}: {inputs}"))
          .plans(MultiSlerpMerge::plan);

  private MultiSlerpMerge() {}

  /** The barycentric interpolation of the non-base inputs with their (normalised) weights. */
  static TensorOperation plan(TensorContext context) {
    List<InputTensor> all = context.inputs();
    int base = -1;
    List<Integer> others = new ArrayList<>();
    for (InputTensor in : all) {
      if (in.isBase()) base = in.index();
      else others.add(in.index());
    }
    int n = others.size();
    int[] inputs = new int[n];
    double[] weights = new double[n];
    double sum = 0;
    for (int k = 0; k < n; k++) {
      inputs[k] = others.get(k);
      weights[k] = context.number(all.get(inputs[k]), "weight");
      sum += weights[k];
    }
    boolean normalize = context.bool("normalize_weights");
    if (normalize) {
      if (sum == 0.0) {
        throw new ConfigException(
            "parameters.normalize_weights",
            "the weights of tensor '"
                + context.tensorName()
                + "' sum to zero, so they cannot be normalised; change the weights or set normalize_weights: false");
      }
      for (int k = 0; k < n; k++) weights[k] /= sum;
    }
    double eps = context.number("eps");
    if (!(eps > 0)) {
      throw new ConfigException(
          "parameters.eps",
          "eps must be a positive number (it guards divisions by" + " norms), got " + eps);
    }
    return new Operation(context.tensorName(), inputs, base, weights, eps);
  }

  /** Pass 1: the Gram matrix; then the recipe on coefficients; pass 2: the combination. */
  static final class Operation implements TensorOperation {
    private final String tensor;
    private final int[] inputs;
    private final int base;
    private final double[] weights;
    private final double eps;

    Operation(String tensor, int[] inputs, int base, double[] weights, double eps) {
      this.tensor = tensor;
      this.inputs = inputs;
      this.base = base;
      this.weights = weights;
      this.eps = eps;
    }

    @Override
    public String describe() {
      StringBuilder d = new StringBuilder("multislerp weights");
      for (double w : weights) d.append(String.format(Locale.ROOT, " %.6g", w));
      if (base >= 0) d.append(" (task vectors from the base)");
      return d.toString();
    }

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      FloatChunks reader = new FloatChunks(io);
      double[][] g = SphericalPasses.gram(io, reader, inputs, base);
      SphericalPasses.emitCombination(
          io, reader, inputs, base, coefficients(g, weights, eps, tensor));
    }

    /**
     * The coefficients {@code c_i} of {@code sum c_i x_i} that equal the documented result, given
     * the Gram matrix of the {@code x_i} and the (already normalised) weights.
     */
    static double[] coefficients(double[][] g, double[] w, double eps, String tensor) {
      int n = w.length;
      double[] norms = new double[n];
      double[][] gu = new double[n][n]; // Gram matrix of the u_i = x_i / (n_i + eps)
      for (int i = 0; i < n; i++) norms[i] = Math.sqrt(Math.max(0.0, g[i][i]));
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) gu[i][j] = g[i][j] / ((norms[i] + eps) * (norms[j] + eps));
      }
      double meanNorm = SphericalPasses.norm(gu, w);
      double[] c = new double[n];
      if (meanNorm < eps) {
        if (n != 2) {
          throw new ArithmeticException(
              "multislerp: tensor '"
                  + tensor
                  + "': the weighted mean of the models'"
                  + " directions is zero (antipodal models with balancing weights); change the weights");
        }
        return w.clone(); // mergekit's fallback: w_0 x_0 + w_1 x_1
      }
      double[] mean = new double[n]; // m = sum mean_k u_k, unit length
      for (int k = 0; k < n; k++) mean[k] = w[k] / meanNorm;
      double projected = 0; // sum_i w_i (u_i . m)
      for (int i = 0; i < n; i++) {
        double dot = 0;
        for (int j = 0; j < n; j++) dot += gu[i][j] * mean[j];
        projected += w[i] * dot;
      }
      double[] tangent = new double[n]; // tau = sum_i w_i u_i - projected * m
      for (int k = 0; k < n; k++) tangent[k] = w[k] - projected * mean[k];
      double a = SphericalPasses.norm(gu, tangent) + eps;
      double scale = 0;
      for (int k = 0; k < n; k++) scale += w[k] * norms[k];
      double cos = Math.cos(a);
      double sinc = Math.sin(a) / a;
      for (int k = 0; k < n; k++) {
        double r = mean[k] * cos + tangent[k] * sinc; // coefficient of u_k
        c[k] = scale * r / (norms[k] + eps);
      }
      return c;
    }
  }
}
