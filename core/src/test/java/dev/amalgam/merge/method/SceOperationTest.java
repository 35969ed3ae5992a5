package dev.amalgam.merge.method;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.kernels.Kernels;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * SCE on a tensor of several reduction segments, where each pass runs one task per segment: every
 * thread count, chunk size (tiny, unaligned and whole segments) and kernel implementation gives the
 * bits of the single-threaded code that SCE ran before its kernels existed, including a threshold
 * whose ties are kept only in part, so that each task must know how many came before it.
 */
class SceOperationTest {
  private static final int S = Kernels.DOT_SEGMENT;
  private static final int N = 5 * S / 2 + 12345; // 2.5 segments and an odd tail

  /**
   * Inputs: base first, then three models. Model 0 and 1 differ from the base by a few values (many
   * tied variances); model 2 differs by a Gaussian in a tenth of the elements, else by a few
   * values.
   */
  private static float[][] inputs(boolean tied) {
    Random r = new Random(tied ? 11 : 12);
    float[] base = MemoryStreams.random(5, N, 1);
    float[][] in = new float[4][];
    in[0] = base;
    for (int k = 1; k <= 3; k++) {
      in[k] = new float[N];
      for (int i = 0; i < N; i++) {
        boolean gaussian = !tied || (k == 3 && r.nextInt(10) == 0);
        float delta = gaussian ? (float) (r.nextGaussian() * 0.01) : (r.nextInt(5) - 2) * 0.25f;
        in[k][i] = base[i] + delta;
      }
    }
    return in;
  }

  /**
   * SceOperation.run as it was before the kernels: one thread, every pass recomputing the variance
   * key per element, the squares summed by {@link SegmentedSums} (whose order does not depend on
   * the chunk size, so one chunk stands for all).
   */
  static float[] legacy(float[][] in, double topk) {
    float[] b = in[0];
    int m = in.length - 1;
    float[][] x = new float[m][];
    for (int i = 0; i < m; i++) x[i] = in[i + 1];
    int n = b.length;
    double[] delta = new double[m];
    boolean all = topk >= 1;
    int threshold = Integer.MAX_VALUE;
    long equalKept = 0;
    if (!all && topk > 0) {
      long[] upper = new long[1 << 16];
      long nonzero = 0;
      for (int j = 0; j < n; j++) {
        int key = key(x, b, j, delta);
        upper[key >>> 16]++;
        if (key != 0) nonzero++;
      }
      long k = (long) (nonzero * topk);
      if (k > 0) {
        long larger = 0;
        int bucket = upper.length - 1;
        while (larger + upper[bucket] < k) larger += upper[bucket--];
        long[] lower = new long[1 << 16];
        for (int j = 0; j < n; j++) {
          int key = key(x, b, j, delta);
          if (key >>> 16 == bucket) lower[key & 0xFFFF]++;
        }
        int low = lower.length - 1;
        while (larger + lower[low] < k) larger += lower[low--];
        threshold = (bucket << 16) | low;
        equalKept = k - larger;
      }
    }
    double[] weights = new double[m];
    SegmentedSums sums = new SegmentedSums(m);
    long equalSeen = 0;
    for (int s = 0; s < n; ) {
      int span = sums.span(s, n - s);
      for (int j = s; j < s + span; j++) {
        int key = key(x, b, j, delta);
        boolean keep = all || key > threshold || (key == threshold && equalSeen++ < equalKept);
        if (!keep) continue;
        for (int i = 0; i < m; i++) sums.add(i, delta[i] * delta[i]);
      }
      s += span;
      sums.reached(s);
    }
    double[] squares = sums.totals();
    for (int i = 0; i < m; i++) weights[i] = squares[i] / n;
    SceMerge.normalise(weights);
    float[] out = new float[n];
    equalSeen = 0;
    for (int j = 0; j < n; j++) {
      int key = key(x, b, j, delta);
      boolean keep = all || key > threshold || (key == threshold && equalSeen++ < equalKept);
      double merged = 0;
      if (keep) {
        double total = 0;
        for (double d : delta) total += d;
        boolean positive = total >= 0;
        double numerator = 0;
        double divisor = 0;
        for (int i = 0; i < m; i++) {
          if (positive ? delta[i] > 0 : delta[i] < 0) {
            numerator += weights[i] * delta[i];
            divisor += weights[i];
          }
        }
        merged = numerator / Math.max(divisor, 1e-6);
      }
      out[j] = (float) (b[j] + merged);
    }
    return out;
  }

  private static int key(float[][] x, float[] b, int j, double[] delta) {
    int m = delta.length;
    double mean = 0;
    for (int i = 0; i < m; i++) {
      delta[i] = (double) x[i][j] - b[j];
      mean += delta[i];
    }
    mean /= m;
    double variance = 0;
    for (int i = 0; i < m; i++) variance += (delta[i] - mean) * (delta[i] - mean);
    return Float.floatToIntBits((float) (variance / m));
  }

  /** Runs SCE with keys kept (the tensor is below the limit) or, on odd chunk sizes, not. */
  private static float[] run(float[][] in, double topk, Kernels kernels, long chunk)
      throws Exception {
    long limit = chunk % Kernels.DOT_SEGMENT == 0 ? SceMerge.KEPT_KEYS_LIMIT : 0;
    return run(in, topk, kernels, chunk, limit);
  }

  private static float[] run(float[][] in, double topk, Kernels kernels, long chunk, long limit)
      throws Exception {
    SceMerge.SceOperation op = new SceMerge.SceOperation(0, new int[] {1, 2, 3}, topk, limit);
    return MemoryStreams.run(op, kernels, chunk, in);
  }

  private static void assertSameBits(float[] want, float[] got, String what) {
    for (int i = 0; i < want.length; i++) {
      if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
        fail(what + ": element " + i + " is " + got[i] + ", want " + want[i]);
      }
    }
  }

  @Test
  void everyThreadCountAndChunkGivesTheSingleThreadedBits() throws Exception {
    // the Java kernels are slow: each runs at one chunk size, the native ones at all
    List<Kernels> kernels = new ArrayList<>();
    kernels.add(Kernels.java(1));
    kernels.add(Kernels.java(3));
    kernels.add(Kernels.best(1));
    kernels.add(Kernels.best(2));
    kernels.add(Kernels.best(4));
    long[] chunks = {S, 2L * S, 4L * S, 777_777};
    try {
      for (Object[] c :
          new Object[][] {{true, 0.37}, {false, 0.37}, {true, 1.0}, {false, 0.0}, {true, 1e-7}}) {
        boolean tied = (Boolean) c[0];
        double topk = (Double) c[1];
        float[][] in = inputs(tied);
        float[] want = legacy(in, topk);
        for (int i = 0; i < kernels.size(); i++) {
          Kernels k = kernels.get(i);
          for (long chunk : k.isNative() ? chunks : new long[] {chunks[i == 0 ? 1 : 3]}) {
            String what = "tied " + tied + ", topk " + topk + ", " + k.description();
            assertSameBits(want, run(in, topk, k, chunk), what + ", chunk " + chunk);
          }
        }
      }
    } finally {
      kernels.forEach(Kernels::close);
    }
  }

  @Test
  void keptAndComputedKeysGiveTheSameBits() throws Exception {
    float[][] in = inputs(true);
    float[] want = legacy(in, 0.37);
    try (Kernels k = Kernels.best(2)) {
      for (long limit : new long[] {0, N - 1, N, SceMerge.KEPT_KEYS_LIMIT}) {
        assertSameBits(want, run(in, 0.37, k, 2L * S, limit), "keys kept up to " + limit);
      }
    }
  }

  @Test
  void tinyChunksGiveTheSameBits() throws Exception {
    float[][] in = inputs(true);
    try (Kernels k = Kernels.best(2)) {
      for (double topk : new double[] {0.37, 0.9}) {
        float[] want = legacy(in, topk);
        for (long chunk : new long[] {4099, 65_537, 1_000_003}) {
          assertSameBits(want, run(in, topk, k, chunk), "topk " + topk + ", chunk " + chunk);
        }
      }
    }
  }

  @Test
  void theTiedCaseKeepsOnlyPartOfItsTies() {
    // Guards the test above: with ties kept in part, each task needs the count before it.
    float[][] in = inputs(true);
    int m = 3;
    double[] delta = new double[m];
    float[][] x = {in[1], in[2], in[3]};
    Map<Integer, Long> byKey = new HashMap<>();
    long nonzero = 0;
    for (int j = 0; j < N; j++) {
      int key = key(x, in[0], j, delta);
      byKey.merge(key, 1L, Long::sum);
      if (key != 0) nonzero++;
    }
    long k = (long) (nonzero * 0.37);
    long larger = 0;
    List<Integer> keys = new ArrayList<>(byKey.keySet());
    keys.sort(Comparator.reverseOrder());
    for (int key : keys) {
      long here = byKey.get(key);
      if (larger + here >= k) {
        assertTrue(k - larger < here, "the threshold's ties are all kept");
        int first = -1;
        int last = -1;
        for (int j = 0; j < N; j++) {
          if (key(x, in[0], j, delta) != key) continue;
          if (first < 0) first = j;
          last = j;
        }
        assertTrue(last / S > first / S, "the threshold's ties lie in one segment");
        return;
      }
      larger += here;
    }
    fail("no threshold");
  }
}
