package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The SCE kernels (variance keys, their two histograms, the kept squares and the merge): every
 * implementation, native ISA paths included, gives the Java reference's bits on task vectors with
 * many tied variances, NaNs, infinities, signed zeros and subnormals, at odd sizes and strides, and
 * a range split into calls that carry the tie counter gives the bits of one call.
 */
class SceKernelTest extends EveryImplementationTest {
  private static final int[] SIZES = {0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 257, 4099, 70001};
  private static final int[] MODELS = {1, 2, 3, 5};

  /**
   * Task-vector inputs: rows of {@code stride} floats, model k at {@code k * stride}, and a base.
   */
  private record Rows(float[] x, int stride, int models, float[] base, int n) {}

  /**
   * Three in four elements take deltas from a few values (many equal variances); the rest are every
   * kind of float.
   */
  private static Rows rows(int models, int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int stride = n + 3;
    float[] any = TaskArithmeticKernelTest.values((models + 1) * n, seed + 1);
    float[] base = new float[n];
    float[] x = new float[models * stride];
    Arrays.fill(x, Float.NaN); // the padding between rows must never be read
    for (int i = 0; i < n; i++) {
      boolean tied = r.nextInt(4) != 0;
      base[i] = tied ? (r.nextInt(9) - 4) * 0.25f : any[i];
      for (int k = 0; k < models; k++) {
        x[k * stride + i] = tied ? base[i] + (r.nextInt(5) - 2) * 0.5f : any[(k + 1) * n + i];
      }
    }
    return new Rows(x, stride, models, base, n);
  }

  private static void assertSameFloats(float[] expected, float[] actual, String what) {
    for (int i = 0; i < expected.length; i++) {
      int e = Float.floatToRawIntBits(expected[i]);
      int a = Float.floatToRawIntBits(actual[i]);
      if (e != a && !(Float.isNaN(expected[i]) && Float.isNaN(actual[i]))) {
        fail(what + ": element " + i + " expected " + expected[i] + " but was " + actual[i]);
      }
    }
  }

  @Test
  void keysAreTheFloatVarianceBitsWithOneNaN() {
    // two models, four elements: deltas (1, 2), (3, 2), (NaN, inf), (-1, 0)
    float[] x = {1f, 3f, Float.NaN, 0f, 2f, 2f, Float.POSITIVE_INFINITY, 1f};
    float[] base = {0f, 0f, 0f, 1f};
    int quarter = Float.floatToIntBits(0.25f);
    int[] want = {quarter, quarter, 0x7FC00000, quarter};
    onEveryImpl(
        impl -> {
          int[] got = new int[4];
          impl.kernels().sceVarianceKeys(x, 4, 2, base, 4, got);
          assertArrayEquals(want, got, impl.toString());
        });
  }

  @Test
  void everyPathGivesTheReferenceBits() {
    for (int models : MODELS) {
      for (int n : SIZES) {
        Rows r = rows(models, n, 31L * n + models);
        int[] keys = new int[n];
        JavaKernels.INSTANCE.sceVarianceKeys(r.x(), r.stride(), models, r.base(), n, keys);
        int middle = n > 0 ? keys[n / 2] : 0x3F800000;
        long[] high = new long[Kernels.MAGNITUDE_BUCKETS];
        long[] nonzero = {5};
        JavaKernels.INSTANCE.sceHistogramHigh(
            r.x(), r.stride(), models, r.base(), n, high, nonzero, null);
        assertEquals(n, Arrays.stream(high).sum(), "every element counted once");
        assertEquals(5 + Arrays.stream(keys).filter(k -> k != 0).count(), nonzero[0]);
        long[] low = new long[Kernels.MAGNITUDE_BUCKETS];
        JavaKernels.INSTANCE.sceHistogramLow(
            r.x(), r.stride(), models, r.base(), n, middle >>> 16, low);
        assertEquals(high[middle >>> 16], Arrays.stream(low).sum(), "the bucket's elements");
        String label = models + " models, n=" + n;
        onEveryImpl(
            impl -> {
              Kernels k = impl.kernels();
              int[] gotKeys = new int[n + 1];
              gotKeys[n] = 42;
              k.sceVarianceKeys(r.x(), r.stride(), models, r.base(), n, gotKeys);
              assertArrayEquals(keys, Arrays.copyOf(gotKeys, n), impl + " keys, " + label);
              assertEquals(42, gotKeys[n], impl + ": wrote past n");
              long[] h = new long[Kernels.MAGNITUDE_BUCKETS];
              Arrays.fill(h, 7); // the kernels add to the counters
              long[] nz = {5};
              int[] kept = new int[n + 1];
              kept[n] = 42;
              k.sceHistogramHigh(r.x(), r.stride(), models, r.base(), n, h, nz, kept);
              assertArrayEquals(keys, Arrays.copyOf(kept, n), impl + " kept keys, " + label);
              assertEquals(42, kept[n], impl + ": kept keys past n");
              long[] again = new long[Kernels.MAGNITUDE_BUCKETS];
              long[] nzAgain = {5};
              k.sceHistogramHigh(r.x(), r.stride(), models, r.base(), n, again, nzAgain, null);
              assertEquals(nz[0], nzAgain[0], impl + " nonzero without keys, " + label);
              long[] l = new long[Kernels.MAGNITUDE_BUCKETS];
              k.sceHistogramLow(r.x(), r.stride(), models, r.base(), n, middle >>> 16, l);
              for (int b = 0; b < h.length; b++) {
                if (h[b] != high[b] + 7) fail(impl + " high bucket " + b + ", " + label);
                if (l[b] != low[b]) fail(impl + " low bucket " + b + ", " + label);
              }
              assertEquals(nonzero[0], nz[0], impl + " nonzero, " + label);
            });
        selections(r, null, middle, label);
        selections(r, keys, middle, label + ", kept keys");
      }
    }
  }

  /** Square sums and merges at thresholds that keep all, none, a tie in part, and NaNs only. */
  private static void selections(Rows r, int[] keys, int middle, String label) {
    int models = r.models();
    int n = r.n();
    SplittableRandom random = new SplittableRandom(n);
    double[] weights = new double[models];
    for (int k = 0; k < models; k++) weights[k] = k == 2 ? 0x1p-30 : random.nextDouble();
    int[] thresholds = {-1, middle, 0x7FC00000, Integer.MAX_VALUE, 0, Integer.MIN_VALUE};
    for (int threshold : thresholds) {
      for (long equalKept : new long[] {0, 3, Long.MAX_VALUE}) {
        double[] sums = {0.5, -0.0, 2, 0, 1};
        long[] seen = {1};
        JavaKernels.INSTANCE.sceSquareSums(
            r.x(), r.stride(), models, r.base(), null, n, threshold, equalKept, seen, sums);
        float[] out = new float[n];
        long[] mergeSeen = {1};
        JavaKernels.INSTANCE.sceMerge(
            r.x(),
            r.stride(),
            models,
            r.base(),
            null,
            n,
            threshold,
            equalKept,
            mergeSeen,
            weights,
            out);
        assertEquals(seen[0], mergeSeen[0], "both walks count the same ties");
        String what = label + ", threshold 0x" + Integer.toHexString(threshold) + "/" + equalKept;
        onEveryImpl(
            impl -> {
              Kernels k = impl.kernels();
              double[] s = {0.5, -0.0, 2, 0, 1};
              long[] sn = {1};
              k.sceSquareSums(
                  r.x(), r.stride(), models, r.base(), keys, n, threshold, equalKept, sn, s);
              // the kept squares are >= 0: |sum| plus the starting values bounds their magnitudes
              double[] magnitudes = new double[sums.length];
              for (int m = 0; m < sums.length; m++) magnitudes[m] = Math.abs(sums[m]) + 4;
              KernelTestSupport.assertChainSums(impl, sums, s, magnitudes, n, "sums, " + what);
              assertEquals(seen[0], sn[0], impl + " sums' counter, " + what);
              // in two calls that carry the counter: the bits of one
              float[] o = new float[n + 1];
              o[n] = 42f;
              long[] mn = {1};
              int cut = n / 3;
              float[] head = new float[cut];
              k.sceMerge(
                  r.x(),
                  r.stride(),
                  models,
                  r.base(),
                  keys,
                  cut,
                  threshold,
                  equalKept,
                  mn,
                  weights,
                  head);
              System.arraycopy(head, 0, o, 0, cut);
              float[] tailX = new float[models * r.stride()];
              for (int m = 0; m < models; m++) {
                System.arraycopy(
                    r.x(), m * r.stride() + cut, tailX, m * r.stride(), r.stride() - cut);
              }
              float[] tailBase = Arrays.copyOfRange(r.base(), cut, n);
              float[] tail = new float[n - cut];
              k.sceMerge(
                  tailX,
                  r.stride(),
                  models,
                  tailBase,
                  keys == null ? null : Arrays.copyOfRange(keys, cut, n),
                  n - cut,
                  threshold,
                  equalKept,
                  mn,
                  weights,
                  tail);
              System.arraycopy(tail, 0, o, cut, n - cut);
              assertSameFloats(out, Arrays.copyOf(o, n), impl + " merge, " + what);
              assertEquals(mergeSeen[0], mn[0], impl + " merge's counter, " + what);
              assertEquals(42f, o[n], impl + ": wrote past n");
              // the output may be the base
              float[] inPlace = r.base().clone();
              k.sceMerge(
                  r.x(),
                  r.stride(),
                  models,
                  inPlace,
                  keys,
                  n,
                  threshold,
                  equalKept,
                  new long[] {1},
                  weights,
                  inPlace);
              assertSameFloats(out, inPlace, impl + " merge in place, " + what);
            });
      }
    }
  }

  @Test
  void mergeFollowsSignConsensus() {
    // one element, three models: deltas 0.5, -0.25, 1 sum positive; the agreeing weights 0.25 and
    // 0.5 average 0.5 and 1 to (0.125 + 0.5) / 0.75
    float[] x = {1.5f, 0.75f, 2f};
    float[] base = {1f};
    double[] weights = {0.25, 0.125, 0.5};
    onEveryImpl(
        impl -> {
          float[] out = new float[1];
          impl.kernels().sceMerge(x, 1, 3, base, null, 1, -1, 0, new long[1], weights, out);
          assertEquals((float) (1.0 + (0.125 + 0.5) / 0.75), out[0], impl.toString());
          impl.kernels()
              .sceMerge(x, 1, 3, base, null, 1, Integer.MAX_VALUE, 0, new long[1], weights, out);
          assertEquals(1f, out[0], impl + ": nothing kept gives the base");
          double[] sums = new double[3];
          impl.kernels().sceSquareSums(x, 1, 3, base, null, 1, -1, 0, new long[1], sums);
          assertArrayEquals(new double[] {0.25, 0.0625, 1}, sums, impl.toString());
        });
  }
}
