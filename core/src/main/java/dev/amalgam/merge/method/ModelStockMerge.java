package dev.amalgam.merge.method;

import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * Model Stock (docs/merge-semantics.md §2.10): with offsets {@code o_i = X_i - B} of the N non-base
 * models, the mean pairwise cosine {@code c} (each {@code cos_ij = o_i.o_j / max(|o_i| |o_j|,
 * 1e-6)} clamped to [-1, 1]) gives {@code t = N c / (1 + (N - 1) c)} and {@code out = t mean_i(X_i)
 * + (1 - t) B}. One reduction pass builds the Gram matrix of the offsets (all pairs and the squared
 * norms at once, summed in double per fixed segment), a second pass computes the output. With
 * {@code filter_wise} everything is per row (vectors along the last dimension; a 1-D tensor is one
 * row): the Gram matrices then take {@code rows * N (N + 1) / 2} doubles.
 *
 * <p>Differences from mergekit: reductions and the output are computed in double from the inputs
 * widened to f32 and rounded once (mergekit: in the tensors' dtype); the norm product is {@code
 * sqrt(|o_i|^2 |o_j|^2)}, which gives exact cosines of +-1 for colinear offsets where a product of
 * two square roots can miss by an ulp. Like mergekit, {@code t} is not clamped: negative mean
 * cosines give {@code t < 0} and extrapolate away from the average. Where {@code 1 + (N - 1) c} is
 * exactly zero (anti-parallel offsets of two models), mergekit divides by zero and writes inf/NaN;
 * here {@code t = 0}, the base. Zero offsets give cosine 0 and hence the base, as in mergekit.
 */
final class ModelStockMerge {
  /** The {@code model_stock} method: two or more models around a required base. */
  static final MergeMethod METHOD =
      DeclaredMethod.named("model_stock")
          .displayName("Model Stock")
          .reference("https://arxiv.org/abs/2403.19522")
          .parameters(
              ParameterSpec.optional(
                  "filter_wise",
                  Scope.GLOBAL,
                  Type.BOOLEAN,
                  false,
                  "compute the interpolation ratio per row (last dimension) instead of per tensor"))
          .inputs(InputRule.baseAndAtLeast(2, "averages the other models around base_model"))
          .plans(ModelStockMerge::plan);

  /** mergekit's floor on the product of the norms. */
  static final double MIN_NORM_PRODUCT = 1e-6;

  private ModelStockMerge() {}

  /** The interpolation of the base and the others' mean, per tensor or per row. */
  static TensorOperation plan(TensorContext context) {
    List<InputTensor> inputs = context.inputs();
    boolean filterWise = context.bool("filter_wise");
    InputTensor first = inputs.get(0);
    long rowLength = first.info().rank() == 0 ? 1 : first.info().dim(first.info().rank() - 1);
    return new ModelStockOperation(
        MethodInputs.base(inputs), MethodInputs.others(inputs), filterWise ? rowLength : -1);
  }

  /**
   * The ratio {@code t} from a packed upper-triangular Gram matrix of N offsets ({@code gram[offset
   * + p]}, pairs (i, j >= i) in row-major order).
   */
  static double ratio(double[] gram, int offset, int models) {
    double cosines = 0;
    int pairs = 0;
    for (int i = 0; i < models; i++) {
      for (int j = i + 1; j < models; j++) {
        // sqrt(|o_i|^2 |o_j|^2) rather than |o_i| |o_j|: the same number, but exactly |o|^2 for
        // equal norms, so
        // colinear and anti-parallel offsets give cosines of exactly +-1 instead of 1 - 1e-16 (and
        // a huge t)
        double norms =
            Math.sqrt(gram[offset + pair(i, i, models)] * gram[offset + pair(j, j, models)]);
        double cos = gram[offset + pair(i, j, models)] / Math.max(norms, MIN_NORM_PRODUCT);
        cosines += Math.max(-1.0, Math.min(1.0, cos));
        pairs++;
      }
    }
    double c = cosines / pairs;
    double denominator = 1 + (models - 1) * c;
    return denominator == 0 ? 0.0 : models * c / denominator;
  }

  /** Index of pair (i, j), i <= j, in the packed upper triangle of an n x n matrix. */
  static int pair(int i, int j, int n) {
    return i * n - i * (i - 1) / 2 + (j - i);
  }

  /** The Gram pass, then the interpolation pass. */
  static final class ModelStockOperation implements TensorOperation {
    private final int base;
    private final int[] others;

    /** Row length for filter_wise, or -1 for one ratio per tensor. */
    private final long rowLength;

    ModelStockOperation(int base, int[] others, long rowLength) {
      this.base = base;
      this.others = others;
      this.rowLength = rowLength;
    }

    @Override
    public String describe() {
      return String.format(
          Locale.ROOT, "model_stock N=%d%s", others.length, rowLength >= 0 ? " filter_wise" : "");
    }

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      int m = others.length;
      int pairs = m * (m + 1) / 2;
      long n = io.elementCount();
      if (n == 0) return;
      long chunk = io.chunkElements();
      FloatChunks chunks = new FloatChunks(io);
      int len = MethodInputs.bufferLength(io);
      float[] b = new float[len];
      float[][] x = new float[m][len];
      double[] o = new double[m];

      double[] ratios;
      if (rowLength < 0) {
        SegmentedSums sums = new SegmentedSums(pairs);
        for (long first = 0; first < n; first += chunk) {
          int count = (int) Math.min(chunk, n - first);
          read(chunks, first, count, b, x);
          for (int s = 0; s < count; ) {
            int span = sums.span(first + s, count - s);
            for (int j = s; j < s + span; j++) {
              for (int i = 0; i < m; i++) o[i] = (double) x[i][j] - b[j];
              for (int i = 0, p = 0; i < m; i++) {
                for (int k = i; k < m; k++) sums.add(p++, o[i] * o[k]);
              }
            }
            s += span;
            sums.reached(first + s);
          }
        }
        ratios = new double[] {ratio(sums.totals(), 0, m)};
      } else {
        // per row: rows are short next to a chunk, so plain double sums in element order are
        // already canonical
        int rows = Math.toIntExact(n / rowLength);
        double[] gram = new double[Math.multiplyExact(rows, pairs)];
        for (long first = 0; first < n; first += chunk) {
          int count = (int) Math.min(chunk, n - first);
          read(chunks, first, count, b, x);
          for (int j = 0; j < count; j++) {
            int offset = (int) ((first + j) / rowLength) * pairs;
            for (int i = 0; i < m; i++) o[i] = (double) x[i][j] - b[j];
            for (int i = 0, p = offset; i < m; i++) {
              for (int k = i; k < m; k++) gram[p++] += o[i] * o[k];
            }
          }
        }
        ratios = new double[rows];
        for (int row = 0; row < rows; row++) ratios[row] = ratio(gram, row * pairs, m);
      }

      for (long first = 0; first < n; first += chunk) {
        int count = (int) Math.min(chunk, n - first);
        read(chunks, first, count, b, x);
        for (int j = 0; j < count; j++) {
          double t = ratios.length == 1 ? ratios[0] : ratios[(int) ((first + j) / rowLength)];
          double sum = 0;
          for (int i = 0; i < m; i++) sum += x[i][j];
          b[j] = (float) (t * (sum / m) + (1 - t) * b[j]);
        }
        chunks.emit(b, count);
      }
    }

    private void read(FloatChunks chunks, long first, int count, float[] b, float[][] x)
        throws IOException {
      chunks.read(base, first, count, b);
      for (int i = 0; i < others.length; i++) chunks.read(others[i], first, count, x[i]);
    }
  }
}
