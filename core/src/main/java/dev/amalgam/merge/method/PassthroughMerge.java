package dev.amalgam.merge.method;

import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.util.Locale;

/**
 * Passthrough: copies the single input tensor, multiplied by its optional per-model {@code scale}
 * (docs/merge-semantics.md §2.11). mergekit uses it for frankenmerges through {@code slices}; this
 * version supports exactly one model under {@code models:} (or only {@code base_model}), and slices
 * are a later step.
 *
 * <p>Differences from mergekit: none in results. {@code scale} defaults to 1, which is the same as
 * mergekit's "no scale" (multiplying by 1 is exact); the product is computed in f32 and rounded
 * once to the output type, as torch does for a tensor times a Python float. Any other number of
 * inputs is a configuration error up front, where mergekit fails only while merging.
 */
final class PassthroughMerge {
  /** The {@code passthrough} method: exactly one model, which may be base_model alone. */
  static final MergeMethod METHOD =
      DeclaredMethod.named("passthrough")
          .displayName("Passthrough")
          .reference("https://github.com/arcee-ai/mergekit")
          .parameters(
              ParameterSpec.optional(
                  "scale",
                  Scope.PER_MODEL,
                  Type.NUMBER,
                  1.0,
                  "factor the model's tensors are multiplied by"))
          .inputs(
              InputRule.baseMerged(
                  1,
                  1,
                  "{method} copies exactly one model, got {count} (inputs: {inputs});"
                      + " slices (frankenmerges) are not supported yet"))
          .plans(PassthroughMerge::plan);

  private PassthroughMerge() {}

  /** The single input times its {@code scale}. */
  static TensorOperation plan(TensorContext context) {
    InputTensor input = context.inputs().get(0);
    double scale = context.number(input, "scale");
    String description =
        scale == 1.0 ? "passthrough" : String.format(Locale.ROOT, "passthrough scale=%.6g", scale);
    return new WeightedSumOperation(
        new int[] {input.index()}, new float[] {(float) scale}, description);
  }
}
