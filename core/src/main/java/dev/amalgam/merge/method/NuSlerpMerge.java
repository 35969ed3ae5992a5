package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;
import dev.amalgam.merge.method.ParameterSpec.Scope;
import dev.amalgam.merge.method.ParameterSpec.Type;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * NuSLERP (mergekit {@code nuslerp}, docs/merge-semantics.md §2.4): spherical interpolation of
 * exactly two models with {@code t = w_2 / (w_1 + w_2)} (0.5 when {@code |w_1 + w_2| < 1e-6}); with
 * a third model as {@code base_model} the task vectors are interpolated and added to the base.
 * Vectors are the whole tensor ({@code nuslerp_flatten}, the default), each slice along the last
 * dimension (rows of a {@code [out, in]} weight), or with {@code nuslerp_row_wise} each slice along
 * dimension 0 (columns), mergekit's axis rule. Per vector: {@code u = v / max(|v|, 1e-7)}, {@code
 * theta = acos(clamp(u_0 . u_1))}, {@code (sin((1-t) theta) v_0 + sin(t theta) v_1) / sin theta},
 * and plain lerp where {@code |sin theta| < 1e-8} (colinear, or zero vectors).
 *
 * <p>Two streaming passes: per-vector dots and norms (O(number of vectors) doubles), then the
 * combination. The per-element work is in f32 with coefficients from double, rounded once to the
 * output type. Without a base, whole-tensor and row vectors run in the kernels (native where the
 * library is loaded, rows on every thread) with the same bits; the other cases are a Java loop.
 *
 * <p>Against mergekit: mergekit computes in the input dtype (bf16 norms, angles and products for
 * bf16 models); here reductions are double and elements f32, so results are closer to the exact
 * interpolation. The axis rule, the constants and the weight rule are mergekit's. mergekit's error
 * for a base model that is one of the two merged models is raised before any tensor is read.
 */
final class NuSlerpMerge {
  /**
   * The {@code nuslerp} method: two models, and an optional third as the origin of their task
   * vectors.
   */
  static final MergeMethod METHOD =
      DeclaredMethod.named("nuslerp")
          .displayName("NuSLERP")
          .reference("https://arxiv.org/abs/2412.19819")
          .parameters(
              ParameterSpec.required(
                  "weight",
                  Scope.PER_MODEL,
                  Type.NUMBER,
                  "relative weight of the model; t = w_2 / (w_1 + w_2)"),
              ParameterSpec.optional(
                  "nuslerp_flatten",
                  Scope.GLOBAL,
                  Type.BOOLEAN,
                  true,
                  "interpolate each tensor as one flat vector"),
              ParameterSpec.optional(
                  "nuslerp_row_wise",
                  Scope.GLOBAL,
                  Type.BOOLEAN,
                  false,
                  "without flatten: interpolate slices along dimension 0 instead of the last dimension"))
          .inputs(
              InputRule.optionalBase(
                      2,
                      2,
                      "{method} interpolates exactly two models (plus an optional base_model), got {count}: {inputs}")
                  .withBaseAmongModels(
                      "{method}'s base_model must be a third model, not one of the two models it interpolates: {inputs}"))
          .plans(NuSlerpMerge::plan);

  /** mergekit's floor on a vector's norm before dividing. */
  static final double NORM_FLOOR = 1e-7;

  /** mergekit's colinearity threshold on {@code |sin theta|}. */
  static final double COLINEAR = 1e-8;

  /** Which vectors the angle is measured between. */
  enum Axis {
    /** The whole tensor is one vector. */
    FLATTEN,
    /** Slices along the last dimension. */
    ROWS,
    /** Slices along dimension 0. */
    COLUMNS
  }

  private NuSlerpMerge() {}

  /** The interpolation of the two non-base inputs, with {@code t} from their weights. */
  static TensorOperation plan(TensorContext context) {
    List<InputTensor> all = context.inputs();
    int base = -1;
    List<Integer> others = new ArrayList<>();
    for (InputTensor in : all) {
      if (in.isBase()) base = in.index();
      else others.add(in.index());
    }
    double w1 = context.number(all.get(others.get(0)), "weight");
    double w2 = context.number(all.get(others.get(1)), "weight");
    double t = Math.abs(w1 + w2) < 1e-6 ? 0.5 : w2 / (w1 + w2);
    Axis axis =
        context.bool("nuslerp_flatten")
            ? Axis.FLATTEN
            : context.bool("nuslerp_row_wise") ? Axis.COLUMNS : Axis.ROWS;
    long[] shape = all.get(0).info().shape();
    return new Operation(others.get(0), others.get(1), base, t, axis, shape);
  }

  /** Pass 1: per-vector reductions; pass 2: the per-vector combination. */
  static final class Operation implements TensorOperation {
    private final int first;
    private final int second;
    private final int base;
    private final double t;
    private final Axis axis;
    private final long[] shape;

    Operation(int first, int second, int base, double t, Axis axis, long[] shape) {
      this.first = first;
      this.second = second;
      this.base = base;
      this.t = t;
      this.axis = axis;
      this.shape = shape.clone();
    }

    @Override
    public String describe() {
      return String.format(
          Locale.ROOT,
          "nuslerp t=%.6g %s%s",
          t,
          axis.name().toLowerCase(Locale.ROOT),
          base >= 0 ? " (task vectors from the base)" : "");
    }

    /** Elements per vector run (ROWS) or vectors in the cycle (COLUMNS); 1 for FLATTEN. */
    private long period(long total) {
      if (shape.length == 0 || total == 0) return 1;
      if (axis == Axis.ROWS) return shape[shape.length - 1];
      if (axis == Axis.COLUMNS) return total / shape[0];
      return 1;
    }

    private int vectorCount(long total) {
      if (total == 0) return 0;
      long p = period(total);
      long count = axis == Axis.ROWS ? total / p : axis == Axis.COLUMNS ? p : 1;
      if (count > Integer.MAX_VALUE - 8) {
        throw new ArithmeticException(
            "nuslerp: "
                + count
                + " vectors in one tensor of shape "
                + java.util.Arrays.toString(shape)
                + " is more than this method keeps per-vector sums for");
      }
      return (int) count;
    }

    /** The vector of each element in {@code [from, from + count)}. */
    private void vectorIds(long total, long from, int count, int[] ids) {
      long p = period(total);
      if (axis == Axis.FLATTEN) {
        java.util.Arrays.fill(ids, 0, count, 0);
      } else if (axis == Axis.ROWS) {
        long row = from / p;
        long pos = from % p;
        for (int e = 0; e < count; e++) {
          ids[e] = (int) row;
          if (++pos == p) {
            pos = 0;
            row++;
          }
        }
      } else {
        long id = from % p;
        for (int e = 0; e < count; e++) {
          ids[e] = (int) id;
          if (++id == p) id = 0;
        }
      }
    }

    /** Longest row the kernel path splits into one task per row range (see forEachTask). */
    static final long ROW_KERNEL_LIMIT = 1 << 18;

    @Override
    public void run(TensorStreams io) throws IOException, InterruptedException {
      long total = io.elementCount();
      int vectors = vectorCount(total);
      boolean rowsFit =
          axis == Axis.ROWS && period(total) <= Math.min(ROW_KERNEL_LIMIT, io.chunkElements());
      if (base < 0 && total > 0 && (axis == Axis.FLATTEN || rowsFit)) {
        runWithKernels(io, total, vectors);
        return;
      }
      FloatChunks reader = new FloatChunks(io);
      int[] pair = {first, second};
      float[][] x = SphericalPasses.buffers(io, 3);
      int step = x[0].length;
      int[] ids = new int[step];
      double[] dot = new double[vectors];
      double[] sq0 = new double[vectors];
      double[] sq1 = new double[vectors];
      for (long from = 0; from < total; from += step) {
        int count = (int) Math.min(step, total - from);
        SphericalPasses.readDeltas(reader, pair, base, from, count, x);
        vectorIds(total, from, count, ids);
        for (int e = 0; e < count; e++) {
          double a = x[0][e];
          double b = x[1][e];
          int v = ids[e];
          dot[v] += a * b;
          sq0[v] += a * a;
          sq1[v] += b * b;
        }
      }
      float[] s0 = new float[vectors];
      float[] s1 = new float[vectors];
      for (int v = 0; v < vectors; v++) {
        double[] c = coefficients(dot[v], sq0[v], sq1[v], t);
        s0[v] = (float) c[0];
        s1[v] = (float) c[1];
      }
      float[] out = new float[step];
      for (long from = 0; from < total; from += step) {
        int count = (int) Math.min(step, total - from);
        SphericalPasses.readDeltas(reader, pair, base, from, count, x);
        vectorIds(total, from, count, ids);
        for (int e = 0; e < count; e++) {
          int v = ids[e];
          // a zero coefficient contributes nothing (t = 0 or 1 returns that model bit for bit)
          float r =
              s0[v] == 0f
                  ? s1[v] * x[1][e]
                  : s1[v] == 0f ? s0[v] * x[0][e] : Math.fma(s1[v], x[1][e], s0[v] * x[0][e]);
          out[e] = base >= 0 ? x[2][e] + r : r;
        }
        reader.emit(out, count);
      }
    }

    /**
     * The two passes without a base over whole-tensor or row vectors, in the kernels: each vector's
     * sums are {@link Kernels#gram} chains (the same additions in the same order as the loop of
     * {@link #run}), and the combination is the kernels' weighted sum of the inputs whose
     * coefficient is not zero ({@code s0 x0} first, then one FMA), straight from the stored chunks.
     * Rows are spread over the kernels' threads, a row at a time; a whole-tensor vector is summed
     * chunk by chunk on this thread and combined on all of them.
     */
    private void runWithKernels(TensorStreams io, long total, int vectors)
        throws IOException, InterruptedException {
      Kernels kernels = io.kernels();
      boolean flat = axis == Axis.FLATTEN;
      long row = flat ? total : period(total);
      long span = flat ? io.chunkElements() : io.chunkElements() / row * row;
      DType[] types = {io.inputType(first), io.inputType(second)};
      double[] sums = new double[3 * vectors]; // per vector |v0|^2, v0.v1, |v1|^2: gram's order
      for (long from = 0; from < total; from += span) {
        long count = Math.min(span, total - from);
        ByteBuffer c0 = io.inputChunk(first, from, count);
        ByteBuffer c1 = io.inputChunk(second, from, count);
        if (flat) {
          kernels.gram(new ByteBuffer[] {c0, c1}, types, null, null, count, sums);
          continue;
        }
        int rows = (int) (count / row);
        int firstRow = (int) (from / row);
        forRows(
            kernels,
            rows,
            r -> {
              double[] acc = new double[3];
              ByteBuffer[] x = {slice(c0, r * row, types[0]), slice(c1, r * row, types[1])};
              kernels.gram(x, types, null, null, row, acc);
              System.arraycopy(acc, 0, sums, 3 * (firstRow + r), 3);
            });
      }
      float[] s0 = new float[vectors];
      float[] s1 = new float[vectors];
      for (int v = 0; v < vectors; v++) {
        double[] c = coefficients(sums[3 * v + 1], sums[3 * v], sums[3 * v + 2], t);
        s0[v] = (float) c[0];
        s1[v] = (float) c[1];
      }
      DType outType = io.outputType();
      for (long from = 0; from < total; from += span) {
        long count = Math.min(span, total - from);
        ByteBuffer c0 = io.inputChunk(first, from, count);
        ByteBuffer c1 = io.inputChunk(second, from, count);
        ByteBuffer out = io.outputChunk().clear();
        if (flat) {
          combine(kernels, c0, c1, types, s0[0], s1[0], out, outType, count);
        } else {
          int rows = (int) (count / row);
          int firstRow = (int) (from / row);
          forRows(
              kernels,
              rows,
              r ->
                  combine(
                      kernels,
                      slice(c0, r * row, types[0]),
                      slice(c1, r * row, types[1]),
                      types,
                      s0[firstRow + r],
                      s1[firstRow + r],
                      slice(out, r * row, outType),
                      outType,
                      row));
        }
        out.position(0).limit(Math.toIntExact(outType.byteCount(count)));
        io.emit(out);
      }
    }

    /** Runs {@code body} for rows {@code 0..rows-1}, in ranges of rows on the kernels' threads. */
    private static void forRows(Kernels kernels, int rows, java.util.function.IntConsumer body) {
      int tasks = Math.min(rows, 4 * kernels.threads());
      kernels.forEachTask(
          tasks,
          (worker, task) -> {
            int from = (int) ((long) rows * task / tasks);
            int to = (int) ((long) rows * (task + 1) / tasks);
            for (int r = from; r < to; r++) body.accept(r);
          });
    }

    /** The chunk's elements from {@code offset} on, as a little-endian buffer. */
    private static ByteBuffer slice(ByteBuffer chunk, long offset, DType type) {
      ByteBuffer b = chunk.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      b.position(Math.toIntExact(b.position() + type.byteCount(offset)));
      return b;
    }

    /**
     * {@code out = s0 x0 + s1 x1} as {@link #run} computes it: a zero coefficient's input is left
     * out, so t = 0 or 1 returns that model bit for bit.
     */
    private static void combine(
        Kernels kernels,
        ByteBuffer x0,
        ByteBuffer x1,
        DType[] types,
        float s0,
        float s1,
        ByteBuffer out,
        DType outType,
        long count) {
      if (s0 == 0f) {
        kernels.weightedSum(
            new ByteBuffer[] {x1}, new DType[] {types[1]}, new float[] {s1}, out, outType, count);
      } else if (s1 == 0f) {
        kernels.weightedSum(
            new ByteBuffer[] {x0}, new DType[] {types[0]}, new float[] {s0}, out, outType, count);
      } else {
        kernels.weightedSum(
            new ByteBuffer[] {x0, x1}, types, new float[] {s0, s1}, out, outType, count);
      }
    }

    /** {@code (s0, s1)} for one pair of vectors given their dot product and squared norms. */
    static double[] coefficients(double dot, double sq0, double sq1, double t) {
      double n0 = Math.max(Math.sqrt(sq0), NORM_FLOOR);
      double n1 = Math.max(Math.sqrt(sq1), NORM_FLOOR);
      double cos = Math.max(-1.0, Math.min(1.0, dot / (n0 * n1)));
      double theta = Math.acos(cos);
      double sin = Math.sin(theta);
      if (Math.abs(sin) < COLINEAR) return new double[] {1 - t, t};
      return new double[] {Math.sin((1 - t) * theta) / sin, Math.sin(t * theta) / sin};
    }
  }
}
