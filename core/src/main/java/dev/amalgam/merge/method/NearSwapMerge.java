package dev.amalgam.merge.method;

import dev.amalgam.kernels.JavaKernels;
import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
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
 *
 * <p>Each chunk is one {@link dev.amalgam.kernels.Kernels#nearSwap} call, which reads both stored
 * inputs and writes the output type directly, split across the kernels' threads; the per-element
 * arithmetic (amalgam.h contract point 9, the Java reference {@link JavaKernels#nearSwap}) gives
 * the same bits on every path, NaN payloads included.
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

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      long n = io.elementCount();
      long chunk = io.chunkElements();
      DType baseType = io.inputType(base);
      DType otherType = io.inputType(other);
      DType outType = io.outputType();
      for (long first = 0; first < n; first += chunk) {
        long count = Math.min(chunk, n - first);
        ByteBuffer b = io.inputChunk(base, first, count);
        ByteBuffer x = io.inputChunk(other, first, count);
        ByteBuffer out = io.outputChunk();
        io.kernels().nearSwap(b, baseType, x, otherType, t, out, outType, count);
        out.position(0).limit(Math.toIntExact(outType.byteCount(count)));
        io.emit(out);
      }
    }
  }
}
