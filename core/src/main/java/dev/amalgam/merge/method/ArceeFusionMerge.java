package dev.amalgam.merge.method;

import java.io.IOException;
import java.util.List;

/**
 * Arcee Fusion (mergekit {@code arcee_fusion}, docs/merge-semantics.md §2.11): takes the other
 * model's value where its change from the base is important. With {@code a} the base and {@code b}
 * the other model, per slice along the last dimension ("row") {@code p = softmax(b) + 1e-8}, {@code
 * q = softmax(a) + 1e-8} and {@code KL = sum p log(p / q)}; the importance of each element is
 * {@code I = |b - a| * KL(row)}; the threshold is {@code median + 1.5 (Q3 - Q1)} of {@code I} with
 * quantile {@code q} the element of rank {@code floor(q (n - 1))}; the output is {@code a + (b - a)
 * * [I >= threshold]}.
 *
 * <p>Streaming in five passes with O(rows) state: per-row softmax maxima and sums (online
 * rescaling), per-row KL, then an exact radix selection of the three quantiles over the float keys
 * of {@code I} (a histogram of the top 16 bits, then of the low 16 bits inside the chosen buckets),
 * then the output. {@code I} is recomputed from the inputs in each pass, never stored. KL sums are
 * double, {@code I} is f32.
 *
 * <p>Against mergekit, two deliberate fixes: (1) quantiles are exact over all elements, where
 * mergekit sorts a random sample of 1,000,000 elements (with replacement) once a tensor has more,
 * so its threshold is random and unreproducible; (2) the output follows {@code out_dtype}, else
 * {@code dtype}, else the base model's type, where mergekit always writes f32 (mergekit issue
 * #604). mergekit also computes the softmax in the input dtype; here it is double.
 */
final class ArceeFusionMerge {
  /** The {@code arcee_fusion} method: one model fused into a required base; no parameters. */
  static final MergeMethod METHOD =
      DeclaredMethod.named("arcee_fusion")
          .displayName("Arcee Fusion")
          .reference("https://arcee.ai")
          .inputs(InputRule.baseAndOneOther("fuses one model into base_model"))
          .outputFollowsBase()
          .plans(ArceeFusionMerge::plan);

  /** mergekit's guard added to both softmax distributions. */
  static final double SOFTMAX_EPS = 1e-8;

  private ArceeFusionMerge() {}

  /** The fusion of the other input into the base, rows along the last dimension. */
  static TensorOperation plan(TensorContext context) {
    List<InputTensor> inputs = context.inputs();
    int base = inputs.get(0).isBase() ? 0 : 1;
    long[] shape = inputs.get(0).info().shape();
    long rowLength = shape.length == 0 ? 1 : shape[shape.length - 1];
    return new Operation(base, 1 - base, rowLength);
  }

  /**
   * Maps a float to an int whose signed order is the float's order (NaNs with the sign bit clear
   * last).
   */
  static int sortableKey(float f) {
    int bits = Float.floatToRawIntBits(f);
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }

  /** The float a {@link #sortableKey} came from. */
  static float fromSortableKey(int key) {
    return Float.intBitsToFloat(key ^ ((key >> 31) & 0x7fffffff));
  }

  /** The passes described in the class comment. */
  static final class Operation implements TensorOperation {
    private final int base;
    private final int other;
    private final long rowLength;

    Operation(int base, int other, long rowLength) {
      this.base = base;
      this.other = other;
      this.rowLength = rowLength;
    }

    @Override
    public String describe() {
      return "arcee_fusion (threshold median + 1.5 IQR of |b - a| x KL per row, exact quantiles)";
    }

    /** Per-row state and the buffers of one run. */
    private final class Run {
      final TensorStreams io;
      final FloatChunks reader;
      final long total;
      final int step;
      final float[] a;
      final float[] b;
      final float[] importance;
      final double[] maxA;
      final double[] sumA;
      final double[] maxB;
      final double[] sumB;
      final float[] kl;

      Run(TensorStreams io) {
        this.io = io;
        this.reader = new FloatChunks(io);
        this.total = io.elementCount();
        this.step = SphericalPasses.buffers(io, 1)[0].length;
        long rowCount = total == 0 ? 0 : total / rowLength;
        if (rowCount > Integer.MAX_VALUE - 8) {
          throw new ArithmeticException(
              "arcee_fusion: "
                  + rowCount
                  + " rows in one tensor is more than this"
                  + " method keeps per-row sums for");
        }
        int rows = (int) rowCount;
        a = new float[step];
        b = new float[step];
        importance = new float[step];
        maxA = new double[rows];
        sumA = new double[rows];
        maxB = new double[rows];
        sumB = new double[rows];
        kl = new float[rows];
        java.util.Arrays.fill(maxA, Double.NEGATIVE_INFINITY);
        java.util.Arrays.fill(maxB, Double.NEGATIVE_INFINITY);
      }

      int read(long from) throws IOException {
        int count = (int) Math.min(step, total - from);
        reader.read(base, from, count, a);
        reader.read(other, from, count, b);
        return count;
      }

      /** Pass 1: per-row maxima and sums of exp(x - max), rescaled whenever the maximum grows. */
      void softmaxSums() throws IOException {
        for (long from = 0; from < total; from += step) {
          int count = read(from);
          for (int e = 0; e < count; e++) {
            int row = (int) ((from + e) / rowLength);
            double xa = a[e];
            if (xa > maxA[row]) {
              sumA[row] = sumA[row] * Math.exp(maxA[row] - xa) + 1.0;
              maxA[row] = xa;
            } else {
              sumA[row] += Math.exp(xa - maxA[row]);
            }
            double xb = b[e];
            if (xb > maxB[row]) {
              sumB[row] = sumB[row] * Math.exp(maxB[row] - xb) + 1.0;
              maxB[row] = xb;
            } else {
              sumB[row] += Math.exp(xb - maxB[row]);
            }
          }
        }
      }

      /** Pass 2: KL(p || q) per row, p from the other model, q from the base. */
      void divergences() throws IOException {
        double[] acc = new double[kl.length];
        for (long from = 0; from < total; from += step) {
          int count = read(from);
          for (int e = 0; e < count; e++) {
            int row = (int) ((from + e) / rowLength);
            double p = Math.exp(b[e] - maxB[row]) / sumB[row] + SOFTMAX_EPS;
            double q = Math.exp(a[e] - maxA[row]) / sumA[row] + SOFTMAX_EPS;
            acc[row] += p * Math.log(p / q);
          }
        }
        for (int r = 0; r < kl.length; r++) kl[r] = (float) acc[r];
      }

      /** The importance of the elements just read. */
      void importance(long from, int count) {
        for (int e = 0; e < count; e++) {
          importance[e] = Math.abs(b[e] - a[e]) * kl[(int) ((from + e) / rowLength)];
        }
      }

      /** Passes 3 and 4: the importances of the given ranks (0-based, ascending order), exactly. */
      float[] select(long[] ranks) throws IOException {
        long[] high = new long[1 << 16];
        for (long from = 0; from < total; from += step) {
          int count = read(from);
          importance(from, count);
          for (int e = 0; e < count; e++) high[(sortableKey(importance[e]) >>> 16)]++;
        }
        // buckets are in unsigned order of the top bits: negative keys (0x8000..) come first
        int[] bucket = new int[ranks.length];
        long[] within = new long[ranks.length];
        for (int k = 0; k < ranks.length; k++) {
          long seen = 0;
          for (int i = 0; i < 1 << 16; i++) {
            int h = i ^ 0x8000; // signed order of the top 16 bits
            if (ranks[k] < seen + high[h]) {
              bucket[k] = h;
              within[k] = ranks[k] - seen;
              break;
            }
            seen += high[h];
          }
        }
        long[][] low = new long[ranks.length][1 << 16];
        for (long from = 0; from < total; from += step) {
          int count = read(from);
          importance(from, count);
          for (int e = 0; e < count; e++) {
            int key = sortableKey(importance[e]);
            int top = key >>> 16;
            for (int k = 0; k < ranks.length; k++) if (top == bucket[k]) low[k][key & 0xffff]++;
          }
        }
        float[] values = new float[ranks.length];
        for (int k = 0; k < ranks.length; k++) {
          long seen = 0;
          for (int i = 0; i < 1 << 16; i++) {
            if (within[k] < seen + low[k][i]) {
              values[k] = fromSortableKey((bucket[k] << 16) | i);
              break;
            }
            seen += low[k][i];
          }
        }
        return values;
      }

      /** Pass 5: the base where the importance is below the threshold, else a + (b - a). */
      void emit(float threshold) throws IOException, InterruptedException {
        float[] out = new float[step];
        for (long from = 0; from < total; from += step) {
          int count = read(from);
          importance(from, count);
          for (int e = 0; e < count; e++) {
            out[e] = importance[e] >= threshold ? a[e] + (b[e] - a[e]) : a[e];
          }
          reader.emit(out, count);
        }
      }
    }

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      Run r = new Run(io);
      if (r.total == 0) return;
      r.softmaxSums();
      r.divergences();
      long last = r.total - 1;
      float[] q =
          r.select(
              new long[] {
                (long) Math.floor(0.25 * last),
                (long) Math.floor(0.5 * last),
                (long) Math.floor(0.75 * last)
              });
      float threshold = q[1] + 1.5f * (q[2] - q[0]);
      r.emit(threshold);
    }
  }
}
