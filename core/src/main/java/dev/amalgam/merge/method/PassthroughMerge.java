package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.util.List;
import java.util.Locale;

/**
 * Passthrough: copies the single input tensor, multiplied by its optional per-model {@code scale}
 * (docs/merge-semantics.md §2.11). mergekit uses it for frankenmerges through {@code slices}; this version supports
 * exactly one model under {@code models:} (or only {@code base_model}), and slices are a later step.
 *
 * <p>Differences from mergekit: none in results. {@code scale} defaults to 1, which is the same as mergekit's
 * "no scale" (multiplying by 1 is exact); the product is computed in f32 and rounded once to the output type, as
 * torch does for a tensor times a Python float. Any other number of inputs is a configuration error up front,
 * where mergekit fails only while merging.
 */
final class PassthroughMerge implements MergeMethod {
  @Override
  public String name() {
    return "passthrough";
  }

  @Override
  public String displayName() {
    return "Passthrough";
  }

  @Override
  public String reference() {
    return "https://github.com/arcee-ai/mergekit";
  }

  @Override
  public List<ParameterSpec> parameters() {
    return List.of(ParameterSpec.optional("scale", Scope.PER_MODEL, Type.NUMBER, 1.0,
        "factor the model's tensors are multiplied by"));
  }

  @Override
  public void checkInputs(List<String> inputLabels, int baseIndex) {
    if (inputLabels.size() != 1) {
      throw new ConfigException("models", "passthrough copies exactly one model, got " + inputLabels.size()
          + " (inputs: " + String.join(", ", inputLabels) + "); slices (frankenmerges) are not supported yet");
    }
  }

  @Override
  public boolean outputFollowsBase() {
    return false;
  }

  @Override
  public TensorOperation plan(TensorContext context) {
    InputTensor input = context.inputs().get(0);
    double scale = context.number(input, "scale");
    String description = scale == 1.0 ? "passthrough"
        : String.format(Locale.ROOT, "passthrough scale=%.6g", scale);
    return new WeightedSumOperation(new int[] {input.index()}, new float[] {(float) scale}, description);
  }
}
