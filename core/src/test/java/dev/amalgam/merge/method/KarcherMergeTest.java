package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * karcher against the documented iteration (docs/merge-semantics.md §2.6) run on whole vectors in
 * double.
 */
class KarcherMergeTest {
  static float[] reference(float[][] xs, int maxIter, double tol) {
    int n = xs.length;
    int len = xs[0].length;
    double[] norms = new double[n];
    double[][] u = new double[n][len];
    for (int i = 0; i < n; i++) {
      for (float v : xs[i]) norms[i] += (double) v * v;
      norms[i] = Math.sqrt(norms[i]);
      for (int e = 0; e < len; e++) u[i][e] = norms[i] == 0 ? 0 : xs[i][e] / norms[i];
    }
    int valid = 0;
    for (double nm : norms) if (nm > tol) valid++;
    float[] out = new float[len];
    if (valid == 0) return out;
    double alpha = 1.0 / valid;
    double[] mean = new double[len];
    int firstValid = -1;
    for (int i = 0; i < n; i++) {
      if (norms[i] <= tol) continue;
      if (firstValid < 0) firstValid = i;
      for (int e = 0; e < len; e++) mean[e] += alpha * u[i][e];
    }
    double mn = Math.sqrt(MultiSlerpMergeTest.dot(mean, mean));
    for (int e = 0; e < len; e++) mean[e] = mn < tol ? u[firstValid][e] : mean[e] / mn;
    for (int it = 0; it < maxIter; it++) {
      double[] tangent = new double[len];
      for (int i = 0; i < n; i++) {
        if (norms[i] <= tol) continue;
        double cos = Math.max(-1, Math.min(1, MultiSlerpMergeTest.dot(mean, u[i])));
        double theta = Math.acos(cos);
        if (theta < tol) continue;
        for (int e = 0; e < len; e++)
          tangent[e] += alpha * theta / Math.sin(theta) * (u[i][e] - cos * mean[e]);
      }
      double tn = Math.sqrt(MultiSlerpMergeTest.dot(tangent, tangent));
      if (tn < tol) break;
      for (int e = 0; e < len; e++)
        mean[e] = Math.cos(tn) * mean[e] + Math.sin(tn) * tangent[e] / tn;
      double un = Math.sqrt(MultiSlerpMergeTest.dot(mean, mean));
      if (un > tol) for (int e = 0; e < len; e++) mean[e] /= un;
    }
    double scale = 0;
    for (double nm : norms) scale += nm / n;
    for (int e = 0; e < len; e++) out[e] = (float) (scale * mean[e]);
    return out;
  }

  @Test
  void threeModelsMatchTheIterativeReferenceAtAnyChunkSize() throws Exception {
    float[] x0 = MemoryStreams.random(1, 500, 1);
    float[] x1 = MemoryStreams.random(2, 500, 2);
    float[] x2 = MemoryStreams.random(3, 500, 1);
    for (int i = 0; i < 500; i++) x2[i] = x2[i] * 0.3f + x0[i];
    for (int maxIter : new int[] {0, 1, 10, 50}) {
      KarcherMerge.Operation op = new KarcherMerge.Operation(new int[] {0, 1, 2}, maxIter, 1e-5);
      float[] got = MemoryStreams.run(op, 100, x0, x1, x2);
      NuSlerpMergeTest.assertClose(reference(new float[][] {x0, x1, x2}, maxIter, 1e-5), got, 1e-5);
      assertArrayEquals(
          got, MemoryStreams.run(op, 1 << 20, x0, x1, x2), "chunk size must not matter");
    }
  }

  @Test
  void zeroNormInputsAreLeftOutButCountInTheScale() throws Exception {
    float[] x0 = MemoryStreams.random(4, 64, 1);
    float[] x1 = MemoryStreams.random(5, 64, 1);
    float[] zero = new float[64];
    KarcherMerge.Operation op = new KarcherMerge.Operation(new int[] {0, 1, 2}, 10, 1e-5);
    float[] got = MemoryStreams.run(op, 16, x0, zero, x1);
    NuSlerpMergeTest.assertClose(reference(new float[][] {x0, zero, x1}, 10, 1e-5), got, 1e-5);
    assertArrayEquals(
        new float[64], MemoryStreams.run(op, 16, zero, zero, zero), "all zero gives zeros");
  }

  @Test
  void colinearInputsGiveTheirDirectionAtTheMeanNorm() throws Exception {
    float[] x0 = MemoryStreams.random(6, 64, 1);
    float[] x1 = new float[64];
    for (int i = 0; i < 64; i++) x1[i] = 3 * x0[i];
    float[] got =
        MemoryStreams.run(new KarcherMerge.Operation(new int[] {0, 1}, 10, 1e-5), 16, x0, x1);
    for (int i = 0; i < 64; i++)
      assertEquals(2 * x0[i], got[i], 1e-5 * Math.max(1, Math.abs(x0[i])));
  }
}
