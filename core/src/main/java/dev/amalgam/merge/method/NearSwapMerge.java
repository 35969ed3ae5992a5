package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * NearSwap: takes the other model's value where it is close to the base and keeps the base where
 * they differ much. Per element {@code w = clamp(t / max(|B - X|, 1e-6), 0, 1)} and {@code out = w
 * X + (1 - w) B}, in one streaming pass (docs/merge-semantics.md §2.11).
 *
 * <p>Differences from mergekit: the arithmetic is f32 ({@code w} in f32, {@code out = fma(w, X, (1
 * - w) B)}) rounded once to the output type, where mergekit rounds every step to the tensors' dtype
 * (bf16). A negative {@code t} is a configuration error here (mergekit accepts it and always
 * returns the base, since the clamp makes {@code w = 0}). Edge cases match: {@code t = 0} gives the
 * base bit for bit, equal elements give the base.
 */
final class NearSwapMerge {
  /** The {@code nearswap} method: one model swapped into a required base. */
  static final MergeMethod METHOD =
      DeclaredMethod.named("nearswap")
          .displayName("NearSwap")
          .reference("https://huggingface.co/alchemonaut/QuartetAnemoi-70B-t0.0001")
          .parameters(
              ParameterSpec.required(
                  "t",
                  Scope.GLOBAL,
                  Type.NUMBER,
                  "distance below which the other model's value is taken entirely; 0 keeps the base"))
          .inputs(
              InputRule.baseAndOneOther(
                  "swaps the other model's values into base_model where they are near"))
          .plans(NearSwapMerge::plan);

  /**
   * mergekit's floor on the distance, so equal elements take {@code w = 1} instead of dividing by
   * zero.
   */
  static final float MIN_DISTANCE = 1e-6f;

  private NearSwapMerge() {}

  /** The elementwise swap at this tensor's {@code t}, which must not be negative. */
  static TensorOperation plan(TensorContext context) {
    double t = context.number("t");
    if (t < 0) {
      throw new ConfigException(
          "parameters.t",
          "must be >= 0 for tensor '"
              + context.tensorName()
              + "', got "
              + t
              + " (a negative t would always give the base)");
    }
    List<InputTensor> inputs = context.inputs();
    int base = MethodInputs.base(inputs);
    int other = MethodInputs.others(inputs)[0];
    return new NearSwapOperation(base, other, (float) t);
  }

  /** The elementwise pass. */
  static final class NearSwapOperation implements TensorOperation {
    private final int base;
    private final int other;
    private final float t;

    NearSwapOperation(int base, int other, float t) {
      this.base = base;
      this.other = other;
      this.t = t;
    }

    @Override
    public String describe() {
      return String.format(Locale.ROOT, "nearswap t=%.6g", t);
    }

    /** One element: the documented formula in f32. */
    static float nearswap(float b, float x, float t) {
      float w = t / Math.max(Math.abs(b - x), MIN_DISTANCE);
      w = Math.max(0f, Math.min(1f, w));
      return Math.fma(w, x, (1f - w) * b);
    }

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      long n = io.elementCount();
      long chunk = io.chunkElements();
      FloatChunks chunks = new FloatChunks(io);
      int len = MethodInputs.bufferLength(io);
      float[] b = new float[len];
      float[] x = new float[len];
      for (long first = 0; first < n; first += chunk) {
        int count = (int) Math.min(chunk, n - first);
        chunks.read(base, first, count, b);
        chunks.read(other, first, count, x);
        for (int j = 0; j < count; j++) b[j] = nearswap(b[j], x[j], t);
        chunks.emit(b, count);
      }
    }
  }
}
