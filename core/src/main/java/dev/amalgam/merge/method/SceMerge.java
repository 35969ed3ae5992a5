package dev.amalgam.merge.method;

import dev.amalgam.merge.config.ConfigException;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * SCE, Select-Calculate-Erase (docs/merge-semantics.md §2.8). With task vectors {@code tau_i = X_i
 * - B}:
 *
 * <ol>
 *   <li><b>Select</b> (only when {@code select_topk < 1}): the per-element population variance of
 *       the {@code tau_i} across models; the {@code k = floor(count_nonzero(var) * select_topk)}
 *       elements of largest variance are kept in every task vector, the others zeroed ({@code k =
 *       0}: all zeroed).
 *   <li><b>Calculate</b>: {@code s_i = mean(tau_i^2)} over the whole (selected) tensor, normalised
 *       to sum 1, or {@code 1/N} each when the raw sum is below 1e-6.
 *   <li><b>Erase</b>: TIES sign consensus ("sum") on the unweighted selected {@code tau}: {@code
 *       sigma = +1} where {@code sum_i tau_i >= 0}, else -1; {@code e_i = [sign(tau_i) == sigma]}
 *       (zeros never agree).
 * </ol>
 *
 * {@code out = B + sum_i s_i tau_i e_i / max(sum_i s_i e_i, 1e-6)}.
 *
 * <p>Streaming: the exact k-th largest variance is found without sorting by a two-level radix
 * selection over the variance's f32 bits (non-negative floats order like their bit patterns): one
 * pass builds a histogram of the upper 16 bits and counts the non-zero variances, a second a
 * histogram of the lower 16 bits within the bucket that holds the k-th largest. Then a pass sums
 * {@code tau_i^2} (in double, per fixed segment) and a last pass computes the output: four passes
 * with selection, two without; state is two 64K-entry histograms.
 *
 * <p>Differences from mergekit: variances are computed in double from the inputs widened to f32 and
 * rounded to f32 for the ranking; ties at the threshold variance are broken by element index (lower
 * indices kept first), where torch.topk's tie order is unspecified; a NaN variance ranks above
 * every number, as in torch.topk. The output is computed in double and rounded once (mergekit:
 * every step in the base dtype). {@code int8_mask} is accepted and has no effect (masks here are
 * booleans, never tensors). {@code select_topk} outside [0, 1] is a configuration error (mergekit
 * treats values above 1 as 1 and negative ones as 0). Kept as in mergekit: the 1e-6 threshold on
 * the raw sum of the {@code s_i}, which switches to uniform weights when all task vectors are small
 * (mean squares summing below 1e-6), and the 1e-6 floor of the divisor, which shrinks an element
 * whose only agreeing model has a normalised weight below 1e-6.
 */
final class SceMerge {
  /** The {@code sce} method: task vectors of one or more models from a required base. */
  static final MergeMethod METHOD =
      DeclaredMethod.named("sce")
          .displayName("SCE")
          .reference("https://arxiv.org/abs/2408.07990")
          .parameters(
              ParameterSpec.optional(
                  "select_topk",
                  Scope.GLOBAL,
                  Type.NUMBER,
                  1.0,
                  "fraction of the elements with non-zero variance across models to keep (1 keeps all)"),
              ParameterSpec.optional(
                  "int8_mask",
                  Scope.GLOBAL,
                  Type.BOOLEAN,
                  false,
                  "accepted for mergekit compatibility; no effect"))
          .inputs(InputRule.baseAndAtLeast(1, "merges the other models' differences to base_model"))
          .plans(SceMerge::plan);

  /** mergekit's threshold on the raw sum of the weights and floor of the divisor. */
  static final double WEIGHT_FLOOR = 1e-6;

  private SceMerge() {}

  /** Select, calculate and erase at this tensor's {@code select_topk}, which must lie in [0, 1]. */
  static TensorOperation plan(TensorContext context) {
    double topk = context.number("select_topk");
    if (topk < 0 || topk > 1) {
      throw new ConfigException(
          "parameters.select_topk",
          "must be in [0, 1] for tensor '" + context.tensorName() + "', got " + topk);
    }
    context.bool("int8_mask"); // validated for its type; see the class comment
    List<InputTensor> inputs = context.inputs();
    return new SceOperation(MethodInputs.base(inputs), MethodInputs.others(inputs), topk);
  }

  /**
   * The f32 population variance of one element's deltas, as the sortable bits the selection ranks.
   */
  static int varianceKey(float[][] x, float[] b, int j, double[] delta) {
    int m = delta.length;
    double mean = 0;
    for (int i = 0; i < m; i++) {
      delta[i] = (double) x[i][j] - b[j];
      mean += delta[i];
    }
    mean /= m;
    double variance = 0;
    for (int i = 0; i < m; i++) variance += (delta[i] - mean) * (delta[i] - mean);
    // floatToIntBits maps every NaN to 0x7fc00000, above +inf; non-negative floats order like their
    // bits
    return Float.floatToIntBits((float) (variance / m));
  }

  /**
   * Which elements the Select step keeps: all, none, or those whose variance key is above {@code
   * threshold} plus the first {@code equalKept} (in element order) that equal it. Stateful: replay
   * from the start of the tensor after {@link #restart()}.
   */
  static final class Selection {
    private final boolean all;
    private final int threshold;
    private final long equalKept;
    private long equalSeen;

    private Selection(boolean all, int threshold, long equalKept) {
      this.all = all;
      this.threshold = threshold;
      this.equalKept = equalKept;
    }

    static Selection everything() {
      return new Selection(true, 0, 0);
    }

    static Selection nothing() {
      return new Selection(false, Integer.MAX_VALUE, 0);
    }

    static Selection above(int threshold, long equalKept) {
      return new Selection(false, threshold, equalKept);
    }

    void restart() {
      equalSeen = 0;
    }

    /** Whether the next element (in element order) with this variance key is kept. */
    boolean keep(int key) {
      if (all) return true;
      if (key > threshold) return true;
      return key == threshold && equalSeen++ < equalKept;
    }
  }

  /** Selection passes, the weight pass, then the compute pass. */
  static final class SceOperation implements TensorOperation {
    private final int base;
    private final int[] others;
    private final double topk;

    SceOperation(int base, int[] others, double topk) {
      this.base = base;
      this.others = others;
      this.topk = topk;
    }

    @Override
    public String describe() {
      return String.format(Locale.ROOT, "sce select_topk=%.6g", topk);
    }

    private void read(FloatChunks chunks, long first, int count, float[] b, float[][] x)
        throws IOException {
      chunks.read(base, first, count, b);
      for (int i = 0; i < others.length; i++) chunks.read(others[i], first, count, x[i]);
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
      double[] delta = new double[m];

      Selection selection =
          topk >= 1 ? Selection.everything() : topk <= 0 ? Selection.nothing() : null;
      if (selection == null) {
        // pass 1: histogram of the upper 16 bits, and the count of non-zero variances
        long[] upper = new long[1 << 16];
        long nonzero = 0;
        for (long first = 0; first < n; first += chunk) {
          int count = (int) Math.min(chunk, n - first);
          read(chunks, first, count, b, x);
          for (int j = 0; j < count; j++) {
            int key = varianceKey(x, b, j, delta);
            upper[key >>> 16]++;
            if (key != 0) nonzero++;
          }
        }
        long k = (long) (nonzero * topk);
        if (k == 0) {
          selection = Selection.nothing();
        } else {
          long larger = 0;
          int bucket = upper.length - 1;
          while (larger + upper[bucket] < k) larger += upper[bucket--];
          // pass 2: histogram of the lower 16 bits inside that bucket
          long[] lower = new long[1 << 16];
          for (long first = 0; first < n; first += chunk) {
            int count = (int) Math.min(chunk, n - first);
            read(chunks, first, count, b, x);
            for (int j = 0; j < count; j++) {
              int key = varianceKey(x, b, j, delta);
              if (key >>> 16 == bucket) lower[key & 0xFFFF]++;
            }
          }
          int low = lower.length - 1;
          while (larger + lower[low] < k) larger += lower[low--];
          selection = Selection.above((bucket << 16) | low, k - larger);
        }
      }

      // pass 3: s_i = mean(tau_i^2) over the selected task vectors
      double[] weights = new double[m];
      if (n > 0) {
        SegmentedSums sums = new SegmentedSums(m);
        selection.restart();
        for (long first = 0; first < n; first += chunk) {
          int count = (int) Math.min(chunk, n - first);
          read(chunks, first, count, b, x);
          for (int s = 0; s < count; ) {
            int span = sums.span(first + s, count - s);
            for (int j = s; j < s + span; j++) {
              if (!selection.keep(varianceKey(x, b, j, delta))) continue;
              for (int i = 0; i < m; i++) sums.add(i, delta[i] * delta[i]);
            }
            s += span;
            sums.reached(first + s);
          }
        }
        double[] squares = sums.totals();
        for (int i = 0; i < m; i++) weights[i] = squares[i] / n;
      }
      normalise(weights);

      // pass 4: erase by sign consensus, weighted average of the agreeing deltas
      selection.restart();
      for (long first = 0; first < n; first += chunk) {
        int count = (int) Math.min(chunk, n - first);
        read(chunks, first, count, b, x);
        for (int j = 0; j < count; j++) {
          boolean kept = selection.keep(varianceKey(x, b, j, delta));
          double merged = 0;
          if (kept) merged = combine(delta, weights);
          b[j] = (float) (b[j] + merged);
        }
        chunks.emit(b, count);
      }
    }
  }

  /** {@code s_i / sum(s)}, or uniform when the sum is below the floor. */
  static void normalise(double[] weights) {
    double sum = 0;
    for (double w : weights) sum += w;
    for (int i = 0; i < weights.length; i++) {
      weights[i] = Math.abs(sum) < WEIGHT_FLOOR ? 1.0 / weights.length : weights[i] / sum;
    }
  }

  /** The erased, weighted average of one element's deltas. */
  static double combine(double[] delta, double[] weights) {
    double total = 0;
    for (double d : delta) total += d;
    boolean positive = total >= 0;
    double numerator = 0;
    double divisor = 0;
    for (int i = 0; i < delta.length; i++) {
      if (positive ? delta[i] > 0 : delta[i] < 0) {
        numerator += weights[i] * delta[i];
        divisor += weights[i];
      }
    }
    return numerator / Math.max(divisor, WEIGHT_FLOOR);
  }
}
