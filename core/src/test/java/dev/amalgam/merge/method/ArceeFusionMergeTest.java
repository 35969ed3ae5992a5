package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
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
}
