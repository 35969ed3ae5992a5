package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.merge.method.NuSlerpMerge.Axis;
import org.junit.jupiter.api.Test;

/**
 * nuslerp against a direct double-precision reference of docs/merge-semantics.md §2.4, on in-memory
 * tensors.
 */
class NuSlerpMergeTest {
  /** The documented maths on whole vectors: vectors are lists of element indices. */
  static float[] reference(float[] x0, float[] x1, float[] base, double t, int[][] vectors) {
    float[] out = new float[x0.length];
    for (int[] vec : vectors) {
      double[] v0 = new double[vec.length];
      double[] v1 = new double[vec.length];
      double n0 = 0;
      double n1 = 0;
      for (int k = 0; k < vec.length; k++) {
        v0[k] = base == null ? x0[vec[k]] : (double) (x0[vec[k]] - base[vec[k]]);
        v1[k] = base == null ? x1[vec[k]] : (double) (x1[vec[k]] - base[vec[k]]);
        n0 += v0[k] * v0[k];
        n1 += v1[k] * v1[k];
      }
      n0 = Math.max(Math.sqrt(n0), 1e-7);
      n1 = Math.max(Math.sqrt(n1), 1e-7);
      double cos = 0;
      for (int k = 0; k < vec.length; k++) cos += (v0[k] / n0) * (v1[k] / n1);
      double theta = Math.acos(Math.max(-1, Math.min(1, cos)));
      double sin = Math.sin(theta);
      for (int k = 0; k < vec.length; k++) {
        double r =
            Math.abs(sin) < 1e-8
                ? (1 - t) * v0[k] + t * v1[k]
                : (Math.sin((1 - t) * theta) * v0[k] + Math.sin(t * theta) * v1[k]) / sin;
        out[vec[k]] = (float) (base == null ? r : base[vec[k]] + r);
      }
    }
    return out;
  }

  static int[][] rows(int r, int c) {
    int[][] v = new int[r][c];
    for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) v[i][j] = i * c + j;
    return v;
  }

  static int[][] columns(int r, int c) {
    int[][] v = new int[c][r];
    for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) v[j][i] = i * c + j;
    return v;
  }

  static void assertClose(float[] want, float[] got, double tol) {
    for (int i = 0; i < want.length; i++) {
      double scale =
          Math.max(0.1, Math.abs(want[i])); // f32 sums of O(1) terms: absolute error ~1e-7
      if (Math.abs(want[i] - got[i]) > tol * scale) {
        throw new AssertionError("[" + i + "]: got " + got[i] + ", want " + want[i]);
      }
    }
  }

  @Test
  void everyAxisMatchesTheReferenceAtAnyChunkSize() throws Exception {
    int r = 6;
    int c = 10;
    long[] shape = {r, c};
    float[] x0 = MemoryStreams.random(1, r * c, 1);
    float[] x1 = MemoryStreams.random(2, r * c, 1);
    float[] b = MemoryStreams.random(3, r * c, 0.5);
    for (int x = 0; x < r * c; x++) x1[x] = 0.6f * x0[x] + 0.4f * x1[x]; // partly related
    Object[][] cases = {
      {Axis.FLATTEN, new int[][] {rows(1, r * c)[0]}},
      {Axis.ROWS, rows(r, c)},
      {Axis.COLUMNS, columns(r, c)}
    };
    for (Object[] k : cases) {
      Axis axis = (Axis) k[0];
      int[][] vectors = (int[][]) k[1];
      NuSlerpMerge.Operation plain = new NuSlerpMerge.Operation(0, 1, -1, 0.3, axis, shape);
      float[] big = MemoryStreams.run(plain, 1 << 20, x0, x1);
      assertClose(reference(x0, x1, null, 0.3, vectors), big, 1e-5);
      assertArrayEquals(
          big, MemoryStreams.run(plain, 7, x0, x1), axis + ": chunk size must not matter");
      NuSlerpMerge.Operation based = new NuSlerpMerge.Operation(1, 2, 0, 0.7, axis, shape);
      float[] withBase = MemoryStreams.run(based, 13, b, x0, x1);
      assertClose(reference(x0, x1, b, 0.7, vectors), withBase, 1e-5);
    }
  }

  @Test
  void theKernelPathGivesTheJavaLoopsBitsOnEveryThreadCount() throws Exception {
    int r = 300;
    int c = 1000;
    long[] shape = {r, c};
    float[] x0 = MemoryStreams.random(11, r * c, 1);
    float[] x1 = MemoryStreams.random(12, r * c, 1);
    for (int x = 0; x < r * c; x += 7) x1[x] = 0.9f * x0[x];
    NuSlerpMerge.Operation rows = new NuSlerpMerge.Operation(0, 1, -1, 0.3, Axis.ROWS, shape);
    // a chunk shorter than a row takes the Java loops
    float[] want = MemoryStreams.run(rows, dev.amalgam.kernels.Kernels.java(1), 999, x0, x1);
    for (int threads = 1; threads <= 3; threads++) {
      for (dev.amalgam.kernels.Kernels k :
          new dev.amalgam.kernels.Kernels[] {
            dev.amalgam.kernels.Kernels.java(threads), dev.amalgam.kernels.Kernels.best(threads)
          }) {
        try (k) {
          assertArrayEquals(
              want, MemoryStreams.run(rows, k, 1 << 20, x0, x1), k.description() + " rows");
        }
      }
    }
  }

  @Test
  void tAtZeroAndOneGivesTheModelsBack() throws Exception {
    float[] x0 = MemoryStreams.random(4, 50, 1);
    float[] x1 = MemoryStreams.random(5, 50, 1);
    for (Axis axis : Axis.values()) {
      long[] shape = {5, 10};
      assertArrayEquals(
          x0, MemoryStreams.run(new NuSlerpMerge.Operation(0, 1, -1, 0, axis, shape), 16, x0, x1));
      assertArrayEquals(
          x1, MemoryStreams.run(new NuSlerpMerge.Operation(0, 1, -1, 1, axis, shape), 16, x0, x1));
    }
  }

  @Test
  void colinearAndZeroVectorsFallBackToLerp() throws Exception {
    float[] x0 = MemoryStreams.random(6, 20, 1);
    float[] x1 = new float[20];
    for (int i = 0; i < 10; i++) x1[i] = 2 * x0[i]; // row 0 colinear, row 1 zero
    float[] got =
        MemoryStreams.run(
            new NuSlerpMerge.Operation(0, 1, -1, 0.25, Axis.ROWS, new long[] {2, 10}), 8, x0, x1);
    for (int i = 0; i < 10; i++)
      assertEquals(0.75f * x0[i] + 0.25f * x1[i], got[i], 1e-6f * Math.abs(x0[i]));
    // zero vector: u = 0, cos = 0, theta = pi/2: the documented formula, not lerp
    double s0 = Math.sin(0.75 * Math.PI / 2);
    for (int i = 10; i < 20; i++) assertEquals(s0 * x0[i], got[i], 1e-6);
    double[] c = NuSlerpMerge.Operation.coefficients(1, 1, 1, 0.4);
    assertEquals(0.6, c[0], 0);
    assertEquals(0.4, c[1], 0);
  }
}
