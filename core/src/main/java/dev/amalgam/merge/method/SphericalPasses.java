package dev.amalgam.merge.method;

import dev.amalgam.kernels.Kernels;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The streaming passes the spherical methods (nuslerp, multislerp, karcher) share: a Gram-matrix
 * reduction over whole tensors and the final pass that emits a linear combination of the inputs.
 * The Gram pass reads the inputs one executor chunk at a time, straight from the stored chunks; the
 * combination with a base reads ranges of at most {@link Kernels#DOT_SEGMENT} elements as floats.
 *
 * <p>Sums run element by element in index order in double precision on one thread ({@link
 * Kernels#gram}, native where the library is loaded), so they do not depend on the read ranges, the
 * executor's chunk size or its thread count. Without a base the combination is the kernels'
 * weighted sum, split across threads; with one it stays a Java loop over f32 deltas.
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
    if (n > Kernels.GRAM_MAX_INPUTS) return gramInJava(io, reader, inputs, base);
    long total = io.elementCount();
    long step = io.chunkElements();
    double[] acc = new double[n * (n + 1) / 2];
    ByteBuffer[] chunks = new ByteBuffer[n];
    DType[] types = new DType[n];
    for (int i = 0; i < n; i++) types[i] = io.inputType(inputs[i]);
    DType baseType = base >= 0 ? io.inputType(base) : null;
    for (long first = 0; first < total; first += step) {
      long count = Math.min(step, total - first);
      for (int i = 0; i < n; i++) chunks[i] = io.inputChunk(inputs[i], first, count);
      ByteBuffer b = base >= 0 ? io.inputChunk(base, first, count) : null;
      io.kernels().gram(chunks, types, b, baseType, count, acc);
    }
    return symmetric(n, acc);
  }

  /** The upper triangle, row by row, as a full symmetric matrix. */
  private static double[][] symmetric(int n, double[] acc) {
    double[][] g = new double[n][n];
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
   * {@link #gram} for more inputs than the kernel takes: the same sums in the same order, in Java.
   */
  private static double[][] gramInJava(TensorStreams io, FloatChunks reader, int[] inputs, int base)
      throws IOException {
    int n = inputs.length;
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
    return symmetric(n, acc);
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
    if (base < 0) {
      emitWeightedSum(io, inputs, c);
      return;
    }
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
   * {@link #emitCombination} without a base: the kernels' weighted sum of the inputs whose
   * coefficient is not zero, straight from the stored chunks and on every thread. Its arithmetic is
   * the same f32 product, FMA chain in input order and one rounding; no input at all gives +0.
   */
  private static void emitWeightedSum(TensorStreams io, int[] inputs, float[] c)
      throws IOException, InterruptedException {
    int used = 0;
    for (float ck : c) if (ck != 0f) used++;
    int[] chosen = new int[used];
    float[] coefficients = new float[used];
    DType[] types = new DType[used];
    for (int k = 0, u = 0; k < c.length; k++) {
      if (c[k] == 0f) continue;
      chosen[u] = inputs[k];
      coefficients[u] = c[k];
      types[u++] = io.inputType(inputs[k]);
    }
    long total = io.elementCount();
    long step = io.chunkElements();
    DType outType = io.outputType();
    ByteBuffer[] chunks = new ByteBuffer[used];
    for (long first = 0; first < total; first += step) {
      long count = Math.min(step, total - first);
      ByteBuffer out = io.outputChunk();
      int bytes = Math.toIntExact(outType.byteCount(count));
      if (used == 0) {
        out.clear();
        for (int i = 0; i < bytes; i++) out.put(i, (byte) 0);
      } else {
        for (int u = 0; u < used; u++) chunks[u] = io.inputChunk(chosen[u], first, count);
        io.kernels().weightedSum(chunks, types, coefficients, out.clear(), outType, count);
      }
      out.position(0).limit(bytes);
      io.emit(out);
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
