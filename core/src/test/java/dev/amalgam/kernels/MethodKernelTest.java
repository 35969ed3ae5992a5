package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.kernels.KernelTestSupport.Region;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The method kernels of amalgam.h contract point 9 (arcee_fusion's importance histograms and
 * output, nearswap): every implementation, each native ISA path at 1 and 2 threads included, gives
 * the bits of the contract as written out here, one division per element, on values with NaNs of
 * both signs, infinities, signed zeros and subnormals, odd sizes and misaligned buffers.
 */
class MethodKernelTest extends EveryImplementationTest {
  private static final int[] SIZES = {0, 1, 3, 15, 16, 17, 33, 65, 257, 4099};
  private static final long[] ROW_LENGTHS = {1, 7, 64, 1000};

  /** The importance of contract point 9, written out. */
  static float importance(float a, float b, float kl) {
    float d = b - a;
    float m = Float.intBitsToFloat(Float.floatToRawIntBits(d) & 0x7fffffff);
    return Float.isNaN(m) ? m : m * kl;
  }

  static int key(float f) {
    int bits = Float.floatToRawIntBits(f);
    return bits < 0 ? bits ^ 0x7fffffff : bits;
  }

  /** nearswap of contract point 9 with Java's Math.max and Math.min spelled out. */
  static float nearSwap(float b, float x, float t) {
    float distance = Float.intBitsToFloat(Float.floatToRawIntBits(b - x) & 0x7fffffff);
    float m = Float.isNaN(distance) || distance >= 1e-6f ? distance : 1e-6f;
    float w = t / m;
    if (!Float.isNaN(w) && w >= 1f) w = 1f;
    if (!Float.isNaN(w) && w <= 0f) w = 0f; // -0 too
    return Float.isNaN(w) ? w : Math.fma(w, x, (1f - w) * b);
  }

  /** nearswap as the merge computed it before the kernels: the same bits wherever no NaN is met. */
  static float legacyNearSwap(float b, float x, float t) {
    float w = t / Math.max(Math.abs(b - x), 1e-6f);
    w = Math.max(0f, Math.min(1f, w));
    return Math.fma(w, x, (1f - w) * b);
  }

  /** Per-row KL values as the merge makes them, plus NaNs of both signs, infinities and zeros. */
  static float[] kls(int rows, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] kl = new float[rows];
    for (int i = 0; i < rows; i++) {
      switch (r.nextInt(8)) {
        case 0:
          kl[i] = Float.intBitsToFloat(0x7fc00000 | (r.nextInt() & 0x803fffff));
          break;
        case 1:
          kl[i] = r.nextBoolean() ? 0f : Float.POSITIVE_INFINITY;
          break;
        default:
          kl[i] = (float) Math.abs(r.nextGaussian() * 1e-3);
      }
    }
    return kl;
  }

  @Test
  void fusionKernelsFollowTheContractOnEveryPath() {
    SplittableRandom rng = new SplittableRandom(11);
    for (int n : SIZES) {
      for (DType aType : KernelTestSupport.TYPES) {
        for (DType bType : KernelTestSupport.TYPES) {
          Region a = KernelTestSupport.special(aType, n, 3L * n + aType.ordinal());
          Region b = KernelTestSupport.special(bType, n, 5L * n + bType.ordinal());
          ByteBuffer av = a.view();
          ByteBuffer bv = b.view();
          for (int i = 0; i < n; i += 5) { // equal elements: importance 0
            if (aType == bType) {
              JavaKernels.store(bv, bType, i, JavaKernels.load(av, aType, i));
            }
          }
          for (long rowLength : ROW_LENGTHS) {
            long first = rng.nextInt(100);
            int rows = (int) ((first + n) / rowLength + 1);
            float[] kl = kls(rows, n + rowLength);
            float[] imp = new float[n];
            long[] high = new long[Kernels.MAGNITUDE_BUCKETS];
            for (int i = 0; i < n; i++) {
              float x = JavaKernels.load(av, aType, i);
              float y = JavaKernels.load(bv, bType, i);
              imp[i] = importance(x, y, kl[(int) ((first + i) / rowLength)]);
              high[key(imp[i]) >>> 16]++;
            }
            int[] buckets = new int[3];
            for (int j = 0; j < 2; j++) buckets[j] = n == 0 ? 0 : key(imp[rng.nextInt(n)]) >>> 16;
            buckets[2] = buckets[0]; // a repeated bucket counts twice
            long[] low = new long[3 * Kernels.MAGNITUDE_BUCKETS];
            for (int i = 0; i < n; i++) {
              int k = key(imp[i]);
              for (int j = 0; j < 3; j++) {
                if (buckets[j] == k >>> 16) low[j * Kernels.MAGNITUDE_BUCKETS + (k & 0xffff)]++;
              }
            }
            float threshold = n == 0 ? 0f : imp[rng.nextInt(n)];
            String what = n + " " + aType + "/" + bType + " rows of " + rowLength;
            onEveryImpl(
                impl -> {
                  long[] gotHigh = new long[Kernels.MAGNITUDE_BUCKETS];
                  gotHigh[7] = 3; // counts add to what is there
                  impl.kernels()
                      .fusionHistogramHigh(av, aType, bv, bType, n, first, rowLength, kl, gotHigh);
                  gotHigh[7] -= 3;
                  assertArrayEquals(high, gotHigh, impl + " high " + what);
                  long[] gotLow = new long[3 * Kernels.MAGNITUDE_BUCKETS];
                  impl.kernels()
                      .fusionHistogramLow(
                          av, aType, bv, bType, n, first, rowLength, kl, buckets, gotLow);
                  assertArrayEquals(low, gotLow, impl + " low " + what);
                  assertEquals(a.view().position(), av.position(), impl + ": position moved");
                });
            for (DType outType : KernelTestSupport.TYPES) {
              Region want = KernelTestSupport.region(outType, n, 3);
              ByteBuffer wv = want.view();
              for (int i = 0; i < n; i++) {
                float x = JavaKernels.load(av, aType, i);
                float y = JavaKernels.load(bv, bType, i);
                JavaKernels.store(wv, outType, i, imp[i] >= threshold ? x + (y - x) : x);
              }
              onEveryImpl(
                  impl -> {
                    Region got = KernelTestSupport.region(outType, n, 3);
                    impl.kernels()
                        .fusionSelect(
                            av,
                            aType,
                            bv,
                            bType,
                            n,
                            first,
                            rowLength,
                            kl,
                            threshold,
                            got.view(),
                            outType);
                    got.assertSameAs(want, impl + " select " + what + " -> " + outType);
                  });
            }
          }
        }
      }
    }
  }

  @Test
  void nearSwapFollowsTheContractOnEveryPath() {
    float[] ts = {0f, -0f, 1e-3f, 0.5f, 1e30f, Float.POSITIVE_INFINITY, Float.NaN};
    // 600_001 elements are split across the threads; the others run whole.
    for (int n : new int[] {0, 1, 3, 17, 33, 65, 4099, 600_001}) {
      for (DType baseType : KernelTestSupport.TYPES) {
        for (DType otherType : KernelTestSupport.TYPES) {
          Region base = KernelTestSupport.special(baseType, n, 7L * n + baseType.ordinal());
          Region other = KernelTestSupport.special(otherType, n, 9L * n + otherType.ordinal());
          ByteBuffer bv = base.view();
          ByteBuffer xv = other.view();
          if (n > 5000 && (baseType != DType.BF16 || otherType != DType.BF16)) continue;
          for (float t : n > 5000 ? new float[] {1e-3f} : ts) {
            for (DType outType : KernelTestSupport.TYPES) {
              Region want = KernelTestSupport.region(outType, n, 5);
              ByteBuffer wv = want.view();
              for (int i = 0; i < n; i++) {
                float b = JavaKernels.load(bv, baseType, i);
                float x = JavaKernels.load(xv, otherType, i);
                float v = nearSwap(b, x, t);
                if (!Float.isNaN(v)) {
                  assertEquals(
                      Float.floatToRawIntBits(legacyNearSwap(b, x, t)),
                      Float.floatToRawIntBits(v),
                      "the merge's old formula at " + b + ", " + x + ", t = " + t);
                }
                JavaKernels.store(wv, outType, i, v);
              }
              String what = n + " " + baseType + "/" + otherType + " -> " + outType + " t=" + t;
              onEveryImpl(
                  impl -> {
                    Region got = KernelTestSupport.region(outType, n, 5);
                    impl.kernels().nearSwap(bv, baseType, xv, otherType, t, got.view(), outType, n);
                    got.assertSameAs(want, impl + " nearSwap " + what);
                  });
            }
          }
        }
      }
    }
  }

  @Test
  void theJavaReferenceIsTheContract() {
    SplittableRandom r = new SplittableRandom(3);
    for (int i = 0; i < 200_000; i++) {
      float a = Float.intBitsToFloat(r.nextInt());
      float b = r.nextInt(4) == 0 ? a : Float.intBitsToFloat(r.nextInt());
      float k = r.nextInt(8) == 0 ? Float.NaN : (float) r.nextDouble();
      assertEquals(
          Float.floatToRawIntBits(importance(a, b, k)),
          Float.floatToRawIntBits(JavaKernels.fusionImportance(a, b, k)));
      assertEquals(key(a), JavaKernels.sortableKey(a));
      float t = r.nextInt(4) == 0 ? Float.intBitsToFloat(r.nextInt()) : (float) r.nextDouble();
      assertEquals(
          Float.floatToRawIntBits(nearSwap(a, b, t)),
          Float.floatToRawIntBits(JavaKernels.nearSwap(a, b, t)));
    }
  }
}
