package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The task-arithmetic kernels (magnitude histograms, Philox uniforms and Bernoulli masks, the TIES
 * disjoint merge and the plain merge): every implementation, native ISA paths included, gives the
 * Java reference's bits, the reference follows the documented rules, and bad arguments are refused
 * before native code runs.
 */
class TaskArithmeticKernelTest extends EveryImplementationTest {
  private static final int[] SIZES = {0, 1, 3, 15, 16, 17, 63, 64, 65, 257, 4099, 70001};

  /**
   * Values with repeated magnitudes, signed zeros, NaNs, infinities, subnormals and random bit
   * patterns.
   */
  static float[] values(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      switch (r.nextInt(16)) {
        case 0:
          v[i] = 0f;
          break;
        case 1:
          v[i] = -0f;
          break;
        case 2:
          v[i] = Float.intBitsToFloat(r.nextInt());
          break;
        case 3:
          v[i] = r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
          break;
        case 4:
          v[i] = r.nextBoolean() ? 0.015625f : -0.015625f;
          break;
        case 5:
          v[i] = Float.MIN_VALUE * r.nextInt(1, 100);
          break;
        default:
          v[i] = (float) (r.nextGaussian() * 0.02);
      }
    }
    return v;
  }

  private static void assertSameFloats(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      boolean same =
          Float.floatToRawIntBits(expected[i]) == Float.floatToRawIntBits(actual[i])
              || (Float.isNaN(expected[i]) && Float.isNaN(actual[i]));
      if (!same) {
        fail(
            what
                + ": element "
                + i
                + " expected "
                + expected[i]
                + " (0x"
                + Integer.toHexString(Float.floatToRawIntBits(expected[i]))
                + ") but was "
                + actual[i]
                + " (0x"
                + Integer.toHexString(Float.floatToRawIntBits(actual[i]))
                + ")");
      }
    }
  }

  @Test
  void histogramsMatchTheReferenceAndCountEveryElement() {
    for (int n : SIZES) {
      float[] v = values(n, n);
      long[] high = new long[Kernels.MAGNITUDE_BUCKETS];
      JavaKernels.INSTANCE.magnitudeHistogramHigh(v, n, high);
      assertEquals(n, Arrays.stream(high).sum(), "every element counted once");
      int bucket = n > 0 ? JavaKernels.absBits(v[n / 2]) >>> 16 : 0x3c80;
      long[] low = new long[Kernels.MAGNITUDE_BUCKETS];
      JavaKernels.INSTANCE.magnitudeHistogramLow(v, n, bucket, low);
      assertEquals(
          high[bucket],
          Arrays.stream(low).sum(),
          "the low pass counts exactly the bucket's elements");
      onEveryImpl(
          impl -> {
            long[] h = new long[Kernels.MAGNITUDE_BUCKETS];
            Arrays.fill(h, 7); // the kernels add to the counters
            impl.kernels().magnitudeHistogramHigh(v, n, h);
            long[] l = new long[Kernels.MAGNITUDE_BUCKETS];
            impl.kernels().magnitudeHistogramLow(v, n, bucket, l);
            for (int b = 0; b < h.length; b++) {
              if (h[b] != high[b] + 7) fail(impl + " n=" + n + ": high bucket " + b);
              if (l[b] != low[b]) fail(impl + " n=" + n + ": low bucket " + b);
            }
          });
    }
  }

  @Test
  void lowPassOfAnUnusedBucketCountsNothing() {
    float[] v = values(1000, 3);
    onEveryImpl(
        impl -> {
          long[] l = new long[Kernels.MAGNITUDE_BUCKETS];
          impl.kernels()
              .magnitudeHistogramLow(v, v.length, 0xFFFF, l); // sign bit cleared: never a high half
          assertEquals(0, Arrays.stream(l).sum(), impl.toString());
        });
  }

  @Test
  void philoxUniformsEqualPhiloxAtAnyOffset() {
    long seed = 0x1234_5678_9ABC_DEF0L;
    long hash = Philox.streamHash("model.layers.0.mlp.up_proj.weight", 2);
    Philox philox = Philox.forTensor(seed, "model.layers.0.mlp.up_proj.weight", 2);
    long[] firsts = {0, 1, 2, 3, 5, 4095, (1L << 32) * 4 - 6, (1L << 40) + 1};
    for (long first : firsts) {
      for (int n : SIZES) {
        float[] expected = new float[n];
        philox.uniforms(first, n, expected);
        onEveryImpl(
            impl -> {
              float[] u = new float[n + 1];
              u[n] = 42f;
              impl.kernels().philoxUniforms(seed, hash, first, u, n);
              assertSameFloats(expected, Arrays.copyOf(u, n), impl + " first=" + first + " n=" + n);
              assertEquals(42f, u[n], impl + ": wrote past n");
            });
      }
    }
  }

  @Test
  void philoxKnownAnswerThroughTheKernels() {
    // Random123's philox4x32_10 with counter 0 and key 0: stream hash 0 and seed 0 give exactly
    // that block.
    int[] words = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    onEveryImpl(
        impl -> {
          float[] u = new float[4];
          impl.kernels().philoxUniforms(0, 0, 0, u, 4);
          for (int j = 0; j < 4; j++)
            assertEquals((words[j] >>> 8) * 0x1p-24f, u[j], impl + " lane " + j);
        });
  }

  @Test
  void bernoulliKeepFollowsTheDoubleComparisonExactlyAtTheEdges() {
    long seed = 99;
    long hash = Philox.streamHash("t", 1);
    int n = 4099;
    float[] u = new float[n];
    Philox.of(seed, hash).uniforms(7, n, u);
    double[] ps = {
      0,
      -0.5,
      1,
      1.5,
      0.3,
      u[10],
      Math.nextUp((double) u[10]),
      Math.nextDown((double) u[10]),
      u[11] + 0x1p-30,
      0x1p-24,
      Math.nextUp(0x1p-24),
      Double.MIN_VALUE,
      Double.NaN,
      Double.POSITIVE_INFINITY,
      1 - 0x1p-24,
      Math.nextDown(1.0)
    };
    float[] v = values(n, 5);
    for (double p : ps) {
      float[] expected = v.clone();
      for (int i = 0; i < n; i++) {
        if (!(u[i] < p)) expected[i] = 0f;
      }
      onEveryImpl(
          impl -> {
            float[] d = v.clone();
            impl.kernels().bernoulliKeep(seed, hash, 7, p, d, n);
            assertSameFloats(expected, d, impl + " p=" + p);
          });
    }
  }

  @Test
  void bernoulliDensityIsCloseToP() {
    int n = 200_000;
    float[] d = new float[n];
    Arrays.fill(d, 1f);
    Kernels.shared().bernoulliKeep(7, Philox.streamHash("w", 0), 0, 0.3, d, n);
    double kept = 0;
    for (float x : d) kept += x;
    assertEquals(0.3, kept / n, 0.005); // about 5 standard deviations
  }

  /**
   * Values drawn from few magnitudes, so that many equal a threshold, mixed with {@link #values}.
   */
  private static float[] tiedValues(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = values(n, seed);
    for (int i = 0; i < n; i++) {
      if (r.nextInt(3) > 0)
        v[i] = (r.nextInt(9) - 4) * 0.00390625f; // -1/64 .. 1/64, zeros of both signs
    }
    return v;
  }

  /** {@code n} values of a type at byte {@code 7 * size} of a direct buffer, positioned there. */
  private static java.nio.ByteBuffer stored(float[] v, dev.amalgam.tensor.DType type) {
    int size = type.byteSize();
    java.nio.ByteBuffer buf =
        java.nio.ByteBuffer.allocateDirect((v.length + 7) * size)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    buf.position(7 * size);
    java.nio.ByteBuffer at = buf.slice().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < v.length; i++) JavaKernels.store(at, type, i, v[i]);
    return buf;
  }

  @Test
  void taskVectorsMatchTheReferenceForEveryTypePairOnEveryPath() {
    dev.amalgam.tensor.DType[] types = {
      dev.amalgam.tensor.DType.F32, dev.amalgam.tensor.DType.F16, dev.amalgam.tensor.DType.BF16
    };
    for (int n : new int[] {0, 1, 15, 17, 2047, 2048, 2049, 4099, 70001}) {
      float[] x = values(n, 3L * n);
      float[] b = values(n, 5L * n + 1);
      for (dev.amalgam.tensor.DType xType : types) {
        java.nio.ByteBuffer stored = stored(x, xType);
        for (dev.amalgam.tensor.DType round : types) {
          float[] expected = new float[n];
          for (int i = 0; i < n; i++) {
            float v = JavaKernels.load(stored, xType, i);
            if (xType != round && round == dev.amalgam.tensor.DType.BF16) {
              v = dev.amalgam.tensor.Bf16.toFloat(dev.amalgam.tensor.Bf16.fromFloat(v));
            } else if (xType != round && round == dev.amalgam.tensor.DType.F16) {
              v = dev.amalgam.tensor.F16.toFloat(dev.amalgam.tensor.F16.fromFloat(v));
            }
            expected[i] = v - b[i];
          }
          onEveryImpl(
              impl -> {
                float[] d = new float[n + 1];
                d[n] = 42f;
                impl.kernels().taskVector(stored, xType, round, b, d, n);
                assertSameFloats(
                    expected, Arrays.copyOf(d, n), impl + " " + xType + " -> " + round + " n=" + n);
                assertEquals(42f, d[n], impl + ": wrote past n");
                assertEquals(7 * xType.byteSize(), stored.position(), impl + ": position moved");
              });
        }
      }
    }
  }

  @Test
  void taskVectorArgumentsAreChecked() {
    java.nio.ByteBuffer x = java.nio.ByteBuffer.allocateDirect(20);
    float[] b = new float[10];
    onEveryImpl(
        impl -> {
          Kernels k = impl.kernels();
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  k.taskVector(
                      x,
                      dev.amalgam.tensor.DType.F32,
                      dev.amalgam.tensor.DType.BF16,
                      b,
                      new float[10],
                      10),
              impl + " x too short");
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  k.taskVector(
                      x,
                      dev.amalgam.tensor.DType.BF16,
                      dev.amalgam.tensor.DType.BF16,
                      b,
                      new float[9],
                      10),
              impl + " d too short");
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  k.taskVector(
                      x,
                      dev.amalgam.tensor.DType.BF16,
                      dev.amalgam.tensor.DType.F64,
                      b,
                      new float[10],
                      10),
              impl + " round type");
          assertThrows(
              NullPointerException.class,
              () ->
                  k.taskVector(
                      x,
                      dev.amalgam.tensor.DType.BF16,
                      dev.amalgam.tensor.DType.BF16,
                      null,
                      new float[10],
                      1),
              impl + " null b");
        });
  }

  @Test
  void magnitudeMaskFollowsTheThresholdWalk() {
    float[] v = {0.5f, -0.25f, 0.25f, -0f, 0.25f, 1f, Float.NaN, -0.25f};
    int quarter = JavaKernels.absBits(0.25f);
    onEveryImpl(
        impl -> {
          // keep |x| > 0.25 and the first two elements equal to 0.25 in magnitude; drop nothing
          float[] d = v.clone();
          long[] seen = new long[2];
          impl.kernels().magnitudeMask(d, d.length, quarter, 2, Integer.MAX_VALUE, 0, seen);
          assertSameFloats(
              new float[] {0.5f, -0.25f, 0.25f, 0f, 0f, 1f, Float.NaN, 0f}, d, impl + " keep");
          assertArrayEquals(new long[] {2, 0}, seen, impl + " counters");
          // keep everything, drop |x| > 0.5 and the first element equal to 0.5: outliers gone
          d = v.clone();
          seen = new long[2];
          impl.kernels().magnitudeMask(d, d.length, -1, 0, JavaKernels.absBits(0.5f), 1, seen);
          assertSameFloats(
              new float[] {0f, -0.25f, 0.25f, -0f, 0.25f, 0f, 0f, -0.25f}, d, impl + " drop");
          assertArrayEquals(new long[] {0, 1}, seen, impl + " drop counter");
        });
  }

  @Test
  void magnitudeMaskMatchesTheReferenceAcrossCallsOnEveryPath() {
    for (int n : SIZES) {
      float[] v = tiedValues(n, 77L * n);
      int tied = JavaKernels.absBits(0.0078125f);
      int[][] thresholds = {
        {tied, 0, Integer.MAX_VALUE, 0},
        {tied, n / 5, Integer.MAX_VALUE, 0},
        {tied, n, Integer.MAX_VALUE, 0},
        {0, n / 3, JavaKernels.absBits(0.01171875f), n / 7},
        {-1, 0, JavaKernels.absBits(0.015625f), n / 9},
        {Integer.MAX_VALUE, 0, Integer.MAX_VALUE, 0},
        {JavaKernels.absBits(0.02f), 3, 0x7F800000, 1}
      };
      for (int[] t : thresholds) {
        float[] expected = v.clone();
        long[] seenExpected = {0, 0};
        JavaKernels.INSTANCE.magnitudeMask(expected, n, t[0], t[1], t[2], t[3], seenExpected);
        onEveryImpl(
            impl -> {
              // in uneven pieces: the counters carry the equal-element state from call to call
              float[] d = Arrays.copyOf(v, n + 1);
              d[n] = 42f;
              long[] seen = {0, 0};
              int[] cuts = {0, Math.min(n, 5), Math.min(n, 37), Math.min(n, n / 2 + 1), n};
              Arrays.sort(cuts);
              for (int c = 0; c + 1 < cuts.length; c++) {
                float[] piece = Arrays.copyOfRange(d, cuts[c], cuts[c + 1]);
                impl.kernels().magnitudeMask(piece, piece.length, t[0], t[1], t[2], t[3], seen);
                System.arraycopy(piece, 0, d, cuts[c], piece.length);
              }
              assertSameFloats(
                  expected, Arrays.copyOf(d, n), impl + " n=" + n + " t=" + Arrays.toString(t));
              assertArrayEquals(seenExpected, seen, impl + " counters n=" + n);
              float[] whole = Arrays.copyOf(v, n + 1);
              whole[n] = 42f;
              long[] seenWhole = {0, 0};
              impl.kernels().magnitudeMask(whole, n, t[0], t[1], t[2], t[3], seenWhole);
              assertSameFloats(expected, Arrays.copyOf(whole, n), impl + " whole n=" + n);
              assertEquals(42f, whole[n], impl + ": wrote past n");
            });
      }
    }
  }

  @Test
  void mergesMatchTheReferenceOnEveryPath() {
    float[][] weightSets = {
      {1f}, {0.5f, 0.5f}, {1f, -0.5f, 0.25f}, {0.3f, 0.3f, -0.6f, 2f}, {0f, 0f}
    };
    for (int n : SIZES) {
      for (float[] weights : weightSets) {
        int models = weights.length;
        int stride = n + 5;
        float[] w = values(models * stride, 31L * n + models);
        float[] base = values(n, 17L * n + models);
        for (boolean normalize : new boolean[] {true, false}) {
          for (float lambda : new float[] {1f, 0.7f}) {
            float[] expected = new float[n];
            JavaKernels.INSTANCE.disjointMerge(
                w, stride, models, weights, n, normalize, base, lambda, expected);
            float[] expectedPlain = new float[n];
            float divisor = normalize ? 1.25f : 1f;
            JavaKernels.INSTANCE.plainMerge(
                w, stride, models, n, divisor, base, lambda, expectedPlain);
            onEveryImpl(
                impl -> {
                  float[] out = new float[n];
                  impl.kernels()
                      .disjointMerge(w, stride, models, weights, n, normalize, base, lambda, out);
                  assertSameFloats(expected, out, impl + " disjoint n=" + n + " m=" + models);
                  float[] plain = new float[n];
                  impl.kernels().plainMerge(w, stride, models, n, divisor, base, lambda, plain);
                  assertSameFloats(expectedPlain, plain, impl + " plain n=" + n + " m=" + models);
                });
          }
        }
      }
    }
  }

  @Test
  void disjointMergeFollowsTheDocumentedRules() {
    // three models, four elements each (stride 4): weights 1, 2, 4
    float[] w = {
      1f, -1f, 0f, 2f, // model 0
      -3f, -1f, 0f, -2f, // model 1
      1f, 3f, 0f, 0f
    }; // model 2
    float[] weights = {1f, 2f, 4f};
    float[] base = {10f, 10f, 10f, 10f};
    float[] out = new float[4];
    onEveryImpl(
        impl -> {
          impl.kernels().disjointMerge(w, 4, 3, weights, 4, true, base, 1f, out);
          // 0: sum -1 -> negative; only model 1 agrees: -3 / 2
          // 1: sum 1 -> positive; only model 2 agrees: 3 / 4
          // 2: all zero: the zero sum counts positive, zeros never agree, divisor 0 -> 1: base + 0
          // 3: sum 0 -> positive; model 0 agrees (2), model 2's zero does not: 2 / 1
          assertArrayEquals(new float[] {10f - 1.5f, 10.75f, 10f, 12f}, out, impl.toString());
          impl.kernels().disjointMerge(w, 4, 3, weights, 4, false, base, 0.5f, out);
          assertArrayEquals(new float[] {10f - 1.5f, 11.5f, 10f, 11f}, out, impl.toString());
          impl.kernels().plainMerge(w, 4, 3, 4, 7f, base, 2f, out);
          assertArrayEquals(
              new float[] {10f - 2f / 7 * 1, 10f + 1f / 7 * 2, 10f, 10f},
              out,
              1e-6f,
              impl.toString());
        });
  }

  @Test
  void mergeMayWriteIntoTheBase() {
    int n = 1000;
    float[] w = values(2 * n, 8);
    float[] weights = {0.6f, 0.4f};
    float[] base = values(n, 9);
    float[] expected = new float[n];
    JavaKernels.INSTANCE.disjointMerge(w, n, 2, weights, n, true, base, 1f, expected);
    onEveryImpl(
        impl -> {
          float[] b = base.clone();
          impl.kernels().disjointMerge(w, n, 2, weights, n, true, b, 1f, b);
          assertSameFloats(expected, b, impl.toString());
        });
  }

  @Test
  void badArgumentsAreRefusedBeforeAnyWork() {
    float[] v = new float[100];
    long[] h = new long[Kernels.MAGNITUDE_BUCKETS];
    float[] w = new float[300];
    float[] one = {1f, 1f, 1f};
    onEveryImpl(
        impl -> {
          Kernels k = impl.kernels();
          float[] out = new float[100];
          Arrays.fill(out, 5f);
          assertThrows(
              IllegalArgumentException.class,
              () -> k.magnitudeHistogramHigh(v, 101, h),
              impl + " n > length");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.magnitudeHistogramHigh(v, -1, h),
              impl + " negative n");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.magnitudeHistogramHigh(v, 10, new long[100]),
              impl + " short histogram");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.magnitudeHistogramLow(v, 10, 65536, h),
              impl + " bucket");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.magnitudeHistogramLow(v, 10, -1, h),
              impl + " bucket");
          assertThrows(
              NullPointerException.class,
              () -> k.magnitudeHistogramHigh(null, 0, h),
              impl + " null");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.philoxUniforms(0, 0, -1, out, 10),
              impl + " first");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.philoxUniforms(0, 0, Long.MAX_VALUE - 5, out, 10),
              impl + " range overflow");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.bernoulliKeep(0, 0, 0, 0.5, out, 101),
              impl + " n");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.disjointMerge(w, 100, 4, one, 100, true, v, 1f, out),
              impl + " too few weights");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.disjointMerge(w, 101, 3, one, 100, true, v, 1f, out),
              impl + " w too short for the stride");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.plainMerge(w, 99, 3, 100, 1f, v, 1f, out),
              impl + " stride below n");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.plainMerge(w, 100, 0, 100, 1f, v, 1f, out),
              impl + " no model");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.plainMerge(w, 100, 3, 100, 1f, v, 1f, w),
              impl + " out is w");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.plainMerge(w, 100, 3, 100, 1f, new float[50], 1f, out),
              impl + " short base");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.magnitudeMask(out, 101, 0, 0, 0, 0, new long[2]),
              impl + " mask n > length");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.magnitudeMask(out, 10, 0, 0, 0, 0, new long[1]),
              impl + " one counter");
          assertThrows(
              IllegalArgumentException.class,
              () -> k.magnitudeMask(out, 10, 0, -1, 0, 0, new long[2]),
              impl + " negative equal count");
          assertThrows(
              NullPointerException.class,
              () -> k.magnitudeMask(out, 10, 0, 0, 0, 0, null),
              impl + " null");
          for (float x : out) assertTrue(x == 5f, impl + ": output touched by a refused call");
        });
  }
}
