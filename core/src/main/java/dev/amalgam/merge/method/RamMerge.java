package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Reinforced Agent Merging (docs/merge-semantics.md §2.9): with task vectors {@code tau_i = X_i -
 * B}, an element is active in model i when {@code |tau_i| > epsilon}; {@code c} counts the active
 * models per element. {@code ram} adds the mean of the active deltas to the base (nothing where
 * none is active). {@code ramplus_tl} also counts, over the whole tensor, each model's shared
 * ({@code c > 1}) and unique ({@code c = 1}) active elements, and multiplies its unique
 * contributions by {@code lambda_i = 1 + r * clamp(shared_i / max(unique_i, epsilon), 0, alpha)}: a
 * counting pass, then the compute pass.
 *
 * <p>Differences from mergekit: deltas, the activity test and the average are computed in double
 * from the inputs widened to f32 and rounded once to the output type, where mergekit rounds the
 * deltas and every step to the tensors' dtype (bf16), so an element whose bf16-rounded delta sits
 * at epsilon can count differently. A negative {@code epsilon} or {@code alpha} is a configuration
 * error (mergekit accepts both). With {@code epsilon = 0}, mergekit's {@code 0 / 0} for a model
 * with no active element gives NaN that spreads into every uniquely-changed element; here such a
 * model's ratio is 0 (it has no unique contribution to scale).
 */
final class RamMerge {
  /** The {@code ram} method: mean of the active deltas. */
  static final MergeMethod RAM = declare(false);

  /**
   * The {@code ramplus_tl} method: ram with per-model, tensor-local boosts of unique contributions.
   */
  static final MergeMethod RAMPLUS_TL = declare(true);

  private RamMerge() {}

  private static MergeMethod declare(boolean plus) {
    List<ParameterSpec> specs = new ArrayList<>();
    specs.add(
        ParameterSpec.optional(
            "epsilon",
            Scope.GLOBAL,
            Type.NUMBER,
            1e-5,
            "a delta counts as a change when its magnitude exceeds this"));
    if (plus) {
      specs.add(
          ParameterSpec.optional(
              "r",
              Scope.GLOBAL,
              Type.NUMBER,
              0.1,
              "strength of the boost of a model's unique changes"));
      specs.add(
          ParameterSpec.optional(
              "alpha",
              Scope.GLOBAL,
              Type.NUMBER,
              0.2,
              "upper bound of the shared/unique ratio in the boost"));
    }
    return DeclaredMethod.named(plus ? "ramplus_tl" : "ram")
        .displayName(
            plus ? "Reinforced Agent Merging Plus (Tensor-Local)" : "Reinforced Agent Merging")
        .reference("https://arxiv.org/abs/2601.13572")
        .parameters(specs)
        .inputs(InputRule.baseAndAtLeast(1, "merges the other models' differences to base_model"))
        .plans(context -> plan(plus, context));
  }

  /**
   * The operation for one tensor, after checking {@code epsilon} (and {@code alpha} for
   * ramplus_tl).
   */
  static TensorOperation plan(boolean plus, TensorContext context) {
    double epsilon = context.number("epsilon");
    if (epsilon < 0) {
      throw new ConfigException(
          "parameters.epsilon",
          "must be >= 0 for tensor '" + context.tensorName() + "', got " + epsilon);
    }
    double r = 0;
    double alpha = 0;
    if (plus) {
      r = context.number("r");
      alpha = context.number("alpha");
      if (alpha < 0) {
        throw new ConfigException(
            "parameters.alpha",
            "must be >= 0 for tensor '"
                + context.tensorName()
                + "' (it bounds the shared/unique ratio from above), got "
                + alpha);
      }
    }
    List<InputTensor> inputs = context.inputs();
    return new RamOperation(
        MethodInputs.base(inputs), MethodInputs.others(inputs), epsilon, plus, r, alpha);
  }

  /** The boost {@code 1 + r * clamp(shared / max(unique, epsilon), 0, alpha)} of one model. */
  static double boost(long shared, long unique, double epsilon, double r, double alpha) {
    double denominator = Math.max((double) unique, epsilon);
    double ratio =
        denominator > 0 ? shared / denominator : (shared > 0 ? Double.POSITIVE_INFINITY : 0.0);
    return 1 + r * Math.max(0.0, Math.min(alpha, ratio));
  }

  /** The optional counting pass, then the compute pass. */
  static final class RamOperation implements TensorOperation {
    private final int base;
    private final int[] others;
    private final double epsilon;
    private final boolean plus;
    private final double r;
    private final double alpha;

    RamOperation(int base, int[] others, double epsilon, boolean plus, double r, double alpha) {
      this.base = base;
      this.others = others;
      this.epsilon = epsilon;
      this.plus = plus;
      this.r = r;
      this.alpha = alpha;
    }

    @Override
    public String describe() {
      return plus
          ? String.format(
              Locale.ROOT, "ramplus_tl epsilon=%.6g r=%.6g alpha=%.6g", epsilon, r, alpha)
          : String.format(Locale.ROOT, "ram epsilon=%.6g", epsilon);
    }

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      int m = others.length;
      long n = io.elementCount();
      long chunk = io.chunkElements();
      FloatChunks chunks = new FloatChunks(io);
      int len = MethodInputs.bufferLength(io);
      float[] b = new float[len];
      float[][] x = new float[m][len];
      double[] lambda = new double[m];
      Arrays.fill(lambda, 1.0);
      if (plus) {
        long[] shared = new long[m];
        long[] unique = new long[m];
        for (long first = 0; first < n; first += chunk) {
          int count = (int) Math.min(chunk, n - first);
          chunks.read(base, first, count, b);
          for (int i = 0; i < m; i++) chunks.read(others[i], first, count, x[i]);
          for (int j = 0; j < count; j++) {
            int active = 0;
            int last = -1;
            for (int i = 0; i < m; i++) {
              if (Math.abs((double) x[i][j] - b[j]) > epsilon) {
                active++;
                last = i;
              }
            }
            if (active == 1) {
              unique[last]++;
            } else if (active > 1) {
              for (int i = 0; i < m; i++)
                if (Math.abs((double) x[i][j] - b[j]) > epsilon) shared[i]++;
            }
          }
        }
        for (int i = 0; i < m; i++) lambda[i] = boost(shared[i], unique[i], epsilon, r, alpha);
      }
      for (long first = 0; first < n; first += chunk) {
        int count = (int) Math.min(chunk, n - first);
        chunks.read(base, first, count, b);
        for (int i = 0; i < m; i++) chunks.read(others[i], first, count, x[i]);
        for (int j = 0; j < count; j++) {
          double sum = 0;
          int active = 0;
          int last = -1;
          for (int i = 0; i < m; i++) {
            double delta = (double) x[i][j] - b[j];
            if (Math.abs(delta) > epsilon) {
              sum += delta;
              active++;
              last = i;
            }
          }
          double merged = active == 0 ? 0.0 : active == 1 ? lambda[last] * sum : sum / active;
          b[j] = (float) (b[j] + merged);
        }
        chunks.emit(b, count);
      }
    }
  }
}
