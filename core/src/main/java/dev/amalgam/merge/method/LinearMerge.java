package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.util.List;
import java.util.Locale;

/**
 * Linear merge (model soups): {@code out = sum_i w_i X_i}, divided by {@code sum_i w_i} when {@code
 * normalize} (the default).
 *
 * <p>Differs from mergekit on purpose: the sum is computed in f32 and rounded once to the output
 * type, where mergekit rounds the weights and every product and partial sum to the tensors' dtype
 * (bf16), so only about 61% of its bf16 outputs equal the exactly rounded result
 * (docs/merge-semantics.md §2.2). Weights that sum to zero with {@code normalize} are an error
 * here, where mergekit silently writes inf/NaN.
 */
final class LinearMerge {
  /** The {@code linear} method; a base_model is one more merged model. */
  static final MergeMethod METHOD =
      DeclaredMethod.named("linear")
          .displayName("Linear")
          .reference("https://arxiv.org/abs/2203.05482")
          .parameters(
              ParameterSpec.required(
                  "weight", Scope.PER_MODEL, Type.NUMBER, "relative weight of the model"),
              ParameterSpec.optional(
                  "normalize",
                  Scope.GLOBAL,
                  Type.BOOLEAN,
                  true,
                  "divide by the sum of the weights"))
          .inputs(InputRule.baseMerged(1, InputRule.UNLIMITED, "{method} needs at least one model"))
          .plans(LinearMerge::plan);

  private LinearMerge() {}

  /** The weighted sum of every input for one tensor. */
  static TensorOperation plan(TensorContext context) {
    List<InputTensor> inputs = context.inputs();
    int n = inputs.size();
    double[] weights = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      weights[i] = context.number(inputs.get(i), "weight");
      sum += weights[i];
    }
    boolean normalize = context.bool("normalize");
    if (normalize && sum == 0.0) {
      throw new ConfigException(
          "parameters.normalize",
          "the weights of tensor '"
              + context.tensorName()
              + "' sum to zero, so they cannot be normalised; change the weights or set normalize: false");
    }
    int[] indices = new int[n];
    float[] coefficients = new float[n];
    StringBuilder d = new StringBuilder("linear");
    for (int i = 0; i < n; i++) {
      indices[i] = i;
      coefficients[i] = (float) (normalize ? weights[i] / sum : weights[i]);
      d.append(String.format(Locale.ROOT, " %s=%.6g", inputs.get(i).label(), weights[i]));
    }
    if (normalize) d.append(" (normalised)");
    return new WeightedSumOperation(indices, coefficients, d.toString());
  }
}
