package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;
import java.io.IOException;

/**
 * The streaming passes the spherical methods (nuslerp, multislerp, karcher) share: a Gram-matrix
 * reduction over whole tensors and the final pass that emits a linear combination of the inputs.
 * Both read the inputs in ranges of at most {@link Kernels#DOT_SEGMENT} elements, so per-tensor
 * memory is O(range x inputs) whatever the executor's chunk size.
 *
 * <p>Sums run element by element in index order in double precision on one thread, so they do not
 * depend on the read ranges, the executor's chunk size or its thread count.
 */
final class SphericalPasses {
  private SphericalPasses() {}

  /**
   * Elements read per range: at most one reduction segment, and never more than the executor
   * allows.
   */
  static int step(TensorStreams io) {
    return (int) Math.max(1, Math.min(io.chunkElements(), Kernels.DOT_SEGMENT));
  }

  /** Float buffers for {@code inputs} ranges plus the base, sized for {@link #step}. */
  static float[][] buffers(TensorStreams io, int count) {
    int step = (int) Math.min(step(io), Math.max(1, io.elementCount()));
    return new float[count][step];
  }

  /**
   * {@code G[i][j] = x_i . x_j} over the whole flattened tensor, where {@code x_i} is input {@code
   * inputs[i]} minus the base input {@code base} (or the input itself when {@code base < 0}).
   * Symmetric; f32 differences, double products and sums.
   */
  static double[][] gram(TensorStreams io, FloatChunks reader, int[] inputs, int base)
      throws IOException {
    int n = inputs.length;
    double[][] g = new double[n][n];
    long total = io.elementCount();
    float[][] x = buffers(io, n + 1);
    int step = x[0].length;
    double[] acc = new double[n * (n + 1) / 2];
    for (long first = 0; first < total; first += step) {
      int count = (int) Math.min(step, total - first);
      readDeltas(reader, inputs, base, first, count, x);
      for (int e = 0; e < count; e++) {
        int k = 0;
        for (int i = 0; i < n; i++) {
          double xi = x[i][e];
          for (int j = i; j < n; j++) acc[k++] += xi * x[j][e];
        }
      }
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i; j < n; j++) {
        g[i][j] = acc[k];
        g[j][i] = acc[k++];
      }
    }
    return g;
  }

  /**
   * Emits {@code out = B + sum_k c_k (X_k - B)} (or {@code sum_k c_k X_k} when {@code base < 0}):
   * the deltas in f32, the sum as an f32 FMA chain in input order, the base added last, rounded
   * once to the output type.
   */
  static void emitCombination(
      TensorStreams io, FloatChunks reader, int[] inputs, int base, double[] coefficients)
      throws IOException, InterruptedException {
    int n = inputs.length;
    float[] c = new float[n];
    for (int k = 0; k < n; k++) c[k] = (float) coefficients[k];
    long total = io.elementCount();
    float[][] x = buffers(io, n + 1);
    int step = x[0].length;
    float[] out = new float[step];
    for (long first = 0; first < total; first += step) {
      int count = (int) Math.min(step, total - first);
      readDeltas(reader, inputs, base, first, count, x);
      for (int e = 0; e < count; e++) {
        float acc = 0f;
        boolean started = false;
        for (int k = 0; k < n; k++) {
          if (c[k] == 0f) continue; // a zero coefficient contributes nothing, not even NaN
          acc = started ? Math.fma(c[k], x[k][e], acc) : c[k] * x[k][e];
          started = true;
        }
        out[e] = base >= 0 ? x[n][e] + acc : acc;
      }
      reader.emit(out, count);
    }
  }

  /**
   * Reads each input's range into {@code x[i]} minus the base (kept in {@code x[n]}) when there is
   * one.
   */
  static void readDeltas(
      FloatChunks reader, int[] inputs, int base, long first, int count, float[][] x)
      throws IOException {
    int n = inputs.length;
    if (base >= 0) reader.read(base, first, count, x[n]);
    for (int i = 0; i < n; i++) {
      reader.read(inputs[i], first, count, x[i]);
      if (base >= 0) {
        float[] xi = x[i];
        float[] b = x[n];
        for (int e = 0; e < count; e++) xi[e] -= b[e];
      }
    }
  }

  /** {@code a^T G b}. */
  static double form(double[][] g, double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      double row = 0;
      for (int j = 0; j < b.length; j++) row += g[i][j] * b[j];
      s += a[i] * row;
    }
    return s;
  }

  /**
   * {@code sqrt(max(0, a^T G a))}: rounding can make the quadratic form of a near-zero vector
   * slightly negative.
   */
  static double norm(double[][] g, double[] a) {
    return Math.sqrt(Math.max(0.0, form(g, a, a)));
  }
}
