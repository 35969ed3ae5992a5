package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernels.Kernels;
import dev.amalgam.kernels.jni.NativeLibrary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * arcee_fusion against a reference of docs/merge-semantics.md §2.11 that sorts the whole importance
 * array.
 */
class ArceeFusionMergeTest {
  /** Importance per element, with two-pass softmax in double. */
  static float[] importance(float[] a, float[] b, int rowLength) {
    float[] imp = new float[a.length];
    for (int r = 0; r < a.length / rowLength; r++) {
      double ma = Double.NEGATIVE_INFINITY;
      double mb = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < rowLength; j++) {
        ma = Math.max(ma, a[r * rowLength + j]);
        mb = Math.max(mb, b[r * rowLength + j]);
      }
      double sa = 0;
      double sb = 0;
      for (int j = 0; j < rowLength; j++) {
        sa += Math.exp(a[r * rowLength + j] - ma);
        sb += Math.exp(b[r * rowLength + j] - mb);
      }
      double kl = 0;
      for (int j = 0; j < rowLength; j++) {
        double p = Math.exp(b[r * rowLength + j] - mb) / sb + 1e-8;
        double q = Math.exp(a[r * rowLength + j] - ma) / sa + 1e-8;
        kl += p * Math.log(p / q);
      }
      for (int j = 0; j < rowLength; j++) {
        int e = r * rowLength + j;
        imp[e] = Math.abs(b[e] - a[e]) * (float) kl;
      }
    }
    return imp;
  }

  static float threshold(float[] imp) {
    float[] s = imp.clone();
    Arrays.sort(s);
    int last = s.length - 1;
    return s[last / 2]
        + 1.5f * (s[(int) Math.floor(0.75 * last)] - s[(int) Math.floor(0.25 * last)]);
  }

  @Test
  void fusesWhereTheImportanceReachesTheThreshold() throws Exception {
    int rows = 37;
    int cols = 29;
    float[] a = MemoryStreams.random(1, rows * cols, 1);
    float[] b = MemoryStreams.random(2, rows * cols, 1);
    for (int i = 0; i < a.length; i++) b[i] = a[i] + (i % 7 == 0 ? b[i] : 0.01f * b[i]);
    float[] imp = importance(a, b, cols);
    float thr = threshold(imp);
    ArceeFusionMerge.Operation op = new ArceeFusionMerge.Operation(0, 1, cols);
    float[] got = MemoryStreams.run(op, 100, a, b);
    assertArrayEquals(got, MemoryStreams.run(op, 1 << 20, a, b), "chunk size must not matter");
    int fused = 0;
    for (int i = 0; i < a.length; i++) {
      if (Math.abs(imp[i] - thr) <= 1e-5f * Math.abs(thr))
        continue; // at the threshold: rounding decides
      float want = imp[i] >= thr ? a[i] + (b[i] - a[i]) : a[i];
      assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]), "[" + i + "]");
      if (imp[i] >= thr) fused++;
    }
    assertTrue(fused > 0 && fused < a.length / 2, "some but not most elements fused: " + fused);
  }

  @Test
  void identicalModelsGiveTheBaseBack() throws Exception {
    float[] a = MemoryStreams.random(3, 120, 1);
    assertArrayEquals(
        a, MemoryStreams.run(new ArceeFusionMerge.Operation(1, 0, 12), 50, a, a.clone()));
  }

  @Test
  void sortableKeysOrderLikeTheFloats() {
    Random r = new Random(5);
    float[] f = new float[2000];
    for (int i = 0; i < f.length; i++)
      f[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(20) - 10));
    f[0] = 0f;
    f[1] = -0f;
    f[2] = Float.POSITIVE_INFINITY;
    f[3] = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < f.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(f[i]),
          Float.floatToRawIntBits(
              ArceeFusionMerge.fromSortableKey(ArceeFusionMerge.sortableKey(f[i]))));
      for (int j = 0; j < 50; j++) {
        int k = r.nextInt(f.length);
        if (f[i] < f[k])
          assertTrue(ArceeFusionMerge.sortableKey(f[i]) < ArceeFusionMerge.sortableKey(f[k]));
      }
    }
  }

  /**
   * The merge as it was computed before the kernels: five passes over whole arrays on one thread,
   * with a division per element, a sort standing in for the radix selection (the same order:
   * sortable keys). Its bits are the ones every implementation must keep.
   */
  static float[] legacy(float[] a, float[] b, int rowLength) {
    int n = a.length;
    int rows = n / rowLength;
    double[] maxA = new double[rows];
    double[] sumA = new double[rows];
    double[] maxB = new double[rows];
    double[] sumB = new double[rows];
    Arrays.fill(maxA, Double.NEGATIVE_INFINITY);
    Arrays.fill(maxB, Double.NEGATIVE_INFINITY);
    for (int e = 0; e < n; e++) {
      int row = e / rowLength;
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
    double[] acc = new double[rows];
    for (int e = 0; e < n; e++) {
      int row = e / rowLength;
      double p = Math.exp(b[e] - maxB[row]) / sumB[row] + ArceeFusionMerge.SOFTMAX_EPS;
      double q = Math.exp(a[e] - maxA[row]) / sumA[row] + ArceeFusionMerge.SOFTMAX_EPS;
      acc[row] += p * Math.log(p / q);
    }
    float[] imp = new float[n];
    int[] keys = new int[n];
    for (int e = 0; e < n; e++) {
      imp[e] = Math.abs(b[e] - a[e]) * (float) acc[e / rowLength];
      keys[e] = ArceeFusionMerge.sortableKey(imp[e]);
    }
    Arrays.sort(keys);
    long last = n - 1;
    float q1 = ArceeFusionMerge.fromSortableKey(keys[(int) Math.floor(0.25 * last)]);
    float q2 = ArceeFusionMerge.fromSortableKey(keys[(int) Math.floor(0.5 * last)]);
    float q3 = ArceeFusionMerge.fromSortableKey(keys[(int) Math.floor(0.75 * last)]);
    float threshold = q2 + 1.5f * (q3 - q1);
    float[] out = new float[n];
    for (int e = 0; e < n; e++) out[e] = imp[e] >= threshold ? a[e] + (b[e] - a[e]) : a[e];
    return out;
  }

  /** Weights with ties, zeros, equal elements and one large outlier per few rows. */
  static float[][] inputs(int n, long seed) {
    float[] a = MemoryStreams.random(seed, n, 0.02);
    float[] b = MemoryStreams.random(seed + 1, n, 0.02);
    for (int i = 0; i < n; i++) {
      if (i % 5 == 0) b[i] = a[i]; // unchanged: importance 0
      if (i % 13 == 0) a[i] = 0f;
      if (i % 17 == 0) b[i] = -0f;
      if (i % 9 == 0) b[i] = a[i] + 0.25f * b[i];
      if (i % 97 == 3) a[i] = 1.5f;
    }
    return new float[][] {a, b};
  }

  /** The implementations a merge runs on: Java and the best native path, at 1, 2 and 4 threads. */
  static List<Kernels> kernels() {
    List<Kernels> all = new ArrayList<>();
    for (int threads : new int[] {1, 2, 4}) {
      all.add(Kernels.java(threads));
      if (NativeLibrary.isLoaded()) {
        all.add(Kernels.nativeKernels(Kernels.nativeBestIsa().orElseThrow(), threads));
      }
    }
    return all;
  }

  @Test
  void keepsTheBitsOfTheSingleThreadedPassesAtAnyThreadCountAndChunkSize() throws Exception {
    List<Kernels> all = kernels();
    try {
      // rows of 1; short rows; rows longer than a worker's block (widened in pieces, twice)
      for (int[] shape : new int[][] {{3001, 1}, {211, 29}, {4, 70_001}}) {
        int rowLength = shape[1];
        float[][] in = inputs(shape[0] * rowLength, rowLength);
        float[] want = legacy(in[0], in[1], rowLength);
        // chunks below a row (the three-pass walk), of a few rows, and of the whole tensor
        for (long chunk : new long[] {Math.max(1, rowLength / 3), 100, 5L * rowLength, 1 << 20}) {
          if (chunk < rowLength && rowLength > 100) chunk = 65_536 + 17;
          for (Kernels k : all) {
            float[] got =
                MemoryStreams.run(new ArceeFusionMerge.Operation(0, 1, rowLength), k, chunk, in);
            for (int i = 0; i < want.length; i++) {
              if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                throw new AssertionError(
                    k.description()
                        + ", rows of "
                        + rowLength
                        + ", chunk "
                        + chunk
                        + ": element "
                        + i
                        + " is "
                        + got[i]
                        + ", expected "
                        + want[i]);
              }
            }
          }
        }
      }
    } finally {
      all.forEach(Kernels::close);
    }
  }
}
