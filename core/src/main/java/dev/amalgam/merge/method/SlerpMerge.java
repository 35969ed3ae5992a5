package dev.amalgam.merge.method;

import dev.amalgam.kernels.Dot3;
import dev.amalgam.kernels.Slerp;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;

/**
 * Spherical linear interpolation between the base (t = 0) and the other model (t = 1), with
 * mergekit's semantics: whole-tensor norms, eps 1e-8, lerp when |cos| &gt; 0.9995, angle-derived
 * coefficients applied to the unnormalised tensors (see {@link Slerp}). Two streaming passes per
 * tensor: the three reductions, then the weighted sum.
 *
 * <p>Differs from mergekit in precision only: the reductions accumulate in f32 blocks summed in f64
 * (mergekit: one f32 NumPy sum, which on very large tensors can drift enough to take the lerp path
 * by accident), and the combine is {@code fma(s1, b, s0 * a)} in f32, rounded once.
 */
final class SlerpMerge {
  /** The {@code slerp} method: from the base (t = 0) to the other model (t = 1). */
  static final MergeMethod METHOD =
      DeclaredMethod.named("slerp")
          .displayName("SLERP")
          .reference("https://en.wikipedia.org/wiki/Slerp")
          .parameters(
              ParameterSpec.required(
                  "t",
                  Scope.GLOBAL,
                  Type.NUMBER,
                  "interpolation factor: 0 gives the base model, 1 the other model"))
          .inputs(InputRule.baseAndOneOther("interpolates from base_model to one other model"))
          .outputFollowsBase()
          .plans(SlerpMerge::plan);

  private SlerpMerge() {}

  /** The interpolation of the base and the other input at this tensor's {@code t}. */
  static TensorOperation plan(TensorContext context) {
    double t = context.number("t");
    List<InputTensor> inputs = context.inputs();
    int base = inputs.get(0).isBase() ? 0 : 1;
    int other = 1 - base;
    return new SlerpOperation(base, other, t);
  }

  /**
   * Pass 1: the reductions over both inputs; pass 2: the weighted sum with the angle's
   * coefficients.
   */
  static final class SlerpOperation implements TensorOperation {
    private final int base;
    private final int other;
    private final double t;

    SlerpOperation(int base, int other, double t) {
      this.base = base;
      this.other = other;
      this.t = t;
    }

    @Override
    public String describe() {
      return String.format(Locale.ROOT, "slerp t=%.6g", t);
    }

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      Slerp.Coefficients c;
      if (t == 0.0 || t == 1.0) {
        // The coefficients are exactly (1, 0) or (0, 1) on both of mergekit's paths; skip the
        // reduction pass.
        c = new Slerp.Coefficients((float) (1 - t), (float) t, Double.NaN, false);
      } else {
        Dot3 sums = reduce(io);
        c = Slerp.coefficients(sums, t);
        if (!Double.isFinite(sums.xy())
            || !Double.isFinite(sums.xx())
            || !Double.isFinite(sums.yy())) {
          // mergekit would return NaN for the whole tensor here; the linear path keeps every finite
          // element, and it is said, never taken silently
          io.warn(
              "SLERP took the linear path: the inputs' dot product or norms are not finite (the"
                  + " inputs hold NaN or infinite values, or values so large that their squares"
                  + " overflow)");
        }
      }
      new WeightedSumOperation(new int[] {base, other}, new float[] {c.s0(), c.s1()}, describe())
          .run(io);
    }

    private Dot3 reduce(TensorStreams io) throws IOException {
      long n = io.elementCount();
      long chunk = io.chunkElements();
      Dot3.Accumulator sums = new Dot3.Accumulator();
      for (long first = 0; first < n; first += chunk) {
        long count = Math.min(chunk, n - first);
        ByteBuffer a = io.inputChunk(base, first, count);
        ByteBuffer b = io.inputChunk(other, first, count);
        io.kernels().dot3(a, io.inputType(base), b, io.inputType(other), count, sums);
      }
      return sums.result();
    }
  }
}
