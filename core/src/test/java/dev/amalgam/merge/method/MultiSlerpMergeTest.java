package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * multislerp against a direct double-precision reference of docs/merge-semantics.md §2.5 on whole
 * vectors.
 */
class MultiSlerpMergeTest {
  /** The documented recipe, element by element (weights already normalised); base may be null. */
  static float[] reference(float[][] xs, float[] base, double[] w, double eps) {
    int n = xs.length;
    int len = xs[0].length;
    double[][] x = new double[n][len];
    double[] norms = new double[n];
    for (int i = 0; i < n; i++) {
      for (int e = 0; e < len; e++) {
        x[i][e] = base == null ? xs[i][e] : (double) (xs[i][e] - base[e]);
        norms[i] += x[i][e] * x[i][e];
      }
      norms[i] = Math.sqrt(norms[i]);
    }
    double[] m = new double[len];
    for (int i = 0; i < n; i++)
      for (int e = 0; e < len; e++) m[e] += w[i] * x[i][e] / (norms[i] + eps);
    double mn = Math.sqrt(dot(m, m));
    double[] out = new double[len];
    if (mn < eps) {
      for (int e = 0; e < len; e++) out[e] = w[0] * x[0][e] + w[1] * x[1][e];
    } else {
      for (int e = 0; e < len; e++) m[e] /= mn;
      double[] tau = new double[len];
      for (int i = 0; i < n; i++) {
        double[] u = new double[len];
        for (int e = 0; e < len; e++) u[e] = x[i][e] / (norms[i] + eps);
        double d = dot(u, m);
        for (int e = 0; e < len; e++) tau[e] += w[i] * (u[e] - d * m[e]);
      }
      double a = Math.sqrt(dot(tau, tau)) + eps;
      double scale = 0;
      for (int i = 0; i < n; i++) scale += w[i] * norms[i];
      for (int e = 0; e < len; e++)
        out[e] = scale * (m[e] * Math.cos(a) + tau[e] * Math.sin(a) / a);
    }
    float[] f = new float[len];
    for (int e = 0; e < len; e++) f[e] = (float) (base == null ? out[e] : base[e] + out[e]);
    return f;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }

  @Test
  void threeModelsWithAndWithoutBaseMatchTheReference() throws Exception {
    float[] x0 = MemoryStreams.random(1, 300, 1);
    float[] x1 = MemoryStreams.random(2, 300, 2);
    float[] x2 = MemoryStreams.random(3, 300, 0.5);
    float[] b = MemoryStreams.random(4, 300, 1);
    double[] w = {0.2, 0.5, 0.3};
    float[] got =
        MemoryStreams.run(
            new MultiSlerpMerge.Operation("t", new int[] {0, 1, 2}, -1, w, 1e-8), 64, x0, x1, x2);
    NuSlerpMergeTest.assertClose(reference(new float[][] {x0, x1, x2}, null, w, 1e-8), got, 1e-5);
    assertArrayEquals(
        got,
        MemoryStreams.run(
            new MultiSlerpMerge.Operation("t", new int[] {0, 1, 2}, -1, w, 1e-8),
            1 << 20,
            x0,
            x1,
            x2),
        "chunk size must not matter");
    float[] based =
        MemoryStreams.run(
            new MultiSlerpMerge.Operation("t", new int[] {1, 2, 3}, 0, w, 1e-8), 50, b, x0, x1, x2);
    NuSlerpMergeTest.assertClose(reference(new float[][] {x0, x1, x2}, b, w, 1e-8), based, 1e-5);
  }

  @Test
  void colinearInputsKeepTheDirectionAndAverageTheNorms() throws Exception {
    float[] x0 = MemoryStreams.random(5, 100, 1);
    float[] x1 = new float[100];
    for (int i = 0; i < 100; i++) x1[i] = 3 * x0[i];
    double[] w = {0.5, 0.5};
    float[] got =
        MemoryStreams.run(
            new MultiSlerpMerge.Operation("t", new int[] {0, 1}, -1, w, 1e-8), 32, x0, x1);
    for (int i = 0; i < 100; i++)
      assertTrue(Math.abs(got[i] - 2 * x0[i]) <= 1e-5 * Math.max(1, Math.abs(x0[i])));
  }

  @Test
  void antipodalPairsFallBackToTheWeightedSumAndThreeModelsFail() throws Exception {
    float[] x0 = MemoryStreams.random(6, 40, 1);
    float[] x1 = new float[40];
    for (int i = 0; i < 40; i++) x1[i] = -x0[i];
    double[] w = {0.5, 0.5};
    float[] got =
        MemoryStreams.run(
            new MultiSlerpMerge.Operation("t", new int[] {0, 1}, -1, w, 1e-8), 16, x0, x1);
    NuSlerpMergeTest.assertClose(reference(new float[][] {x0, x1}, null, w, 1e-8), got, 1e-6);
    float[] zero = new float[40];
    ArithmeticException e =
        assertThrows(
            ArithmeticException.class,
            () ->
                MemoryStreams.run(
                    new MultiSlerpMerge.Operation(
                        "model.norm.weight",
                        new int[] {0, 1, 2},
                        -1,
                        new double[] {0.5, 0.5, 0},
                        1e-8),
                    16,
                    x0,
                    x1,
                    zero));
    assertTrue(e.getMessage().contains("model.norm.weight"), e.getMessage());
  }
}
