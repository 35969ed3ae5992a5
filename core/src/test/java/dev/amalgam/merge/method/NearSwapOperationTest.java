package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.kernels.Kernels;
import org.junit.jupiter.api.Test;

/**
 * nearswap through the kernels keeps the bits of the merge's former per-element Java loop, on the
 * Java and native kernels at 1, 2 and 4 threads and at any chunk size.
 */
class NearSwapOperationTest {
  /** The former loop's formula. */
  static float legacy(float b, float x, float t) {
    float w = t / Math.max(Math.abs(b - x), 1e-6f);
    w = Math.max(0f, Math.min(1f, w));
    return Math.fma(w, x, (1f - w) * b);
  }

  @Test
  void keepsTheBitsOfThePerElementLoop() throws Exception {
    int n = 700_003; // split across threads by the kernels
    float[] base = MemoryStreams.random(1, n, 0.02);
    float[] other = MemoryStreams.random(2, n, 0.02);
    for (int i = 0; i < n; i += 3) other[i] = base[i] + (i % 2 == 0 ? 1e-7f : 0f);
    for (int i = 1; i < n; i += 101) other[i] = i % 2 == 0 ? Float.POSITIVE_INFINITY : -0f;
    for (float t : new float[] {0f, 1e-3f, 0.5f}) {
      float[] want = new float[n];
      for (int i = 0; i < n; i++) want[i] = legacy(base[i], other[i], t);
      for (Kernels k : ArceeFusionMergeTest.kernels()) {
        try (k) {
          for (long chunk : new long[] {100_000, 1 << 20}) {
            float[] got =
                MemoryStreams.run(
                    new NearSwapMerge.NearSwapOperation(0, 1, t), k, chunk, base, other);
            for (int i = 0; i < n; i++) {
              assertEquals(
                  Float.floatToRawIntBits(want[i]),
                  Float.floatToRawIntBits(got[i]),
                  k.description() + ", t = " + t + ", chunk " + chunk + ": element " + i);
            }
          }
        }
      }
    }
  }
}
