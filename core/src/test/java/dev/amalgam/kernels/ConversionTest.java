package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.kernels.KernelTestSupport.Impl;
import dev.amalgam.kernels.KernelTestSupport.Region;
import dev.amalgam.tensor.Bf16;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.F16;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Conversions over every f16 and bf16 bit pattern and over special and sampled f32 values, on every
 * implementation. The Java reference (F16, Bf16) is itself checked against an independent oracle
 * that rounds in double precision with {@link Math#rint} (round half to even) and against
 * hand-worked values, so a shared mistake cannot hide.
 */
class ConversionTest extends EveryImplementationTest {
  // -------------------------------------------------------------------------------------
  // independent oracle

  /**
   * IEEE binary16 bits to float, from the definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals m
   * 2^-24.
   */
  static float halfValue(int h) {
    int sign = (h >>> 15) & 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
    double magnitude;
    if (e == 0x1f) {
      if (m != 0) throw new IllegalArgumentException("NaN has no value");
      magnitude = Double.POSITIVE_INFINITY;
    } else if (e == 0) {
      magnitude = m * 0x1p-24;
    } else {
      magnitude = Math.scalb(1.0 + m / 1024.0, e - 15);
    }
    return (float) (sign == 1 ? -magnitude : magnitude);
  }

  /**
   * Round a finite or infinite non-NaN float to binary16, nearest even, by scaling and Math.rint.
   */
  static short halfOracle(float f) {
    int sign = Float.floatToRawIntBits(f) < 0 ? 0x8000 : 0;
    double a = Math.abs((double) f);
    if (a >= 65520.0)
      return (short) (sign | 0x7c00); // half-way above 65504 ties to the even infinity
    double quantum = a < 0x1p-14 ? 0x1p-24 : Math.scalb(1.0, Math.getExponent(a) - 10);
    double r = Math.rint(a / quantum) * quantum; // both steps exact: quantum is a power of two
    if (r < 0x1p-14) return (short) (sign | (int) (r / 0x1p-24));
    int e = Math.getExponent(r);
    int m = (int) (r / Math.scalb(1.0, e - 10)) - 1024;
    return (short) (sign | (e + 15) << 10 | m);
  }

  /** Round a non-NaN float to bfloat16, nearest even, by scaling and Math.rint. */
  static short bf16Oracle(float f) {
    int sign = Float.floatToRawIntBits(f) < 0 ? 0x8000 : 0;
    double a = Math.abs((double) f);
    if (Double.isInfinite(a)) return (short) (sign | 0x7f80);
    double quantum = a < 0x1p-126 ? 0x1p-133 : Math.scalb(1.0, Math.getExponent(a) - 7);
    double r = Math.rint(a / quantum) * quantum;
    if (r >= 0x1p128) return (short) (sign | 0x7f80);
    return (short) (sign | Float.floatToRawIntBits((float) r) >>> 16);
  }

  /** Contract point 5: a NaN becomes a quiet NaN keeping the sign and the payload's top bits. */
  static short halfOfNaN(int bits) {
    return (short) ((bits >>> 16) & 0x8000 | 0x7e00 | (bits & 0x7fffff) >>> 13);
  }

  static short bf16OfNaN(int bits) {
    return (short) (bits >>> 16 | 0x0040);
  }

  // ------------------------------------------------------------------------------ reference
  // against oracle

  @Test
  void referenceWideningMatchesTheDefinitions() {
    for (int h = 0; h < 65536; h++) {
      assertEquals(
          h << 16, Float.floatToRawIntBits(Bf16.toFloat((short) h)), () -> "bf16 widening");
      int bits = Float.floatToRawIntBits(F16.toFloat((short) h));
      if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
        // NaN: quiet, same sign, payload shifted to the top of the f32 mantissa (F16C's vcvtph2ps
        // does this).
        int expected = (h & 0x8000) << 16 | 0x7fc00000 | (h & 0x3ff) << 13;
        if (bits != expected) fail(String.format("f16 NaN %04x widened to %08x", h, bits));
      } else if (bits != Float.floatToRawIntBits(halfValue(h))) {
        fail(
            String.format(
                "f16 %04x widened to %08x, expected %08x",
                h, bits, Float.floatToRawIntBits(halfValue(h))));
      }
    }
  }

  @Test
  void referenceNarrowingMatchesTheOracleOnSampledF32Patterns() {
    // A prime stride visits every exponent and many mantissa patterns; ties and boundaries are
    // listed separately.
    for (long u = 0; u < (1L << 32); u += 2039) checkReferenceNarrowing((int) u);
    for (int bits : specialFloatBits()) checkReferenceNarrowing(bits);
  }

  private static void checkReferenceNarrowing(int bits) {
    float f = Float.intBitsToFloat(bits);
    short half = F16.fromFloat(f), bf = Bf16.fromFloat(f);
    short wantHalf = Float.isNaN(f) ? halfOfNaN(bits) : halfOracle(f);
    short wantBf = Float.isNaN(f) ? bf16OfNaN(bits) : bf16Oracle(f);
    if (half != wantHalf || bf != wantBf) {
      fail(
          String.format(
              "f32 %08x: f16 %04x (oracle %04x), bf16 %04x (oracle %04x)",
              bits, half & 0xffff, wantHalf & 0xffff, bf & 0xffff, wantBf & 0xffff));
    }
  }

  @Test
  void handWorkedRoundings() {
    int[][] bf16 = {
      {0x3f808000, 0x3f80}, // 1 + 2^-8: tie, kept bit even -> down
      {0x3f818000, 0x3f82}, // 1 + 3 * 2^-8: tie, kept bit odd -> up
      {0x3f808001, 0x3f81}, // just above the tie
      {0x7f7fffff, 0x7f80}, // max float rounds to infinity
      {0x00000001, 0x0000}, // smallest subnormal: far below half a bf16 subnormal step
      {0x00018000, 0x0002}, // subnormal tie, odd -> up
      {0x00008000, 0x0000}, // subnormal tie, even -> down
      {0x80000000, 0x8000}, // -0 keeps its sign
      {0xff800000, 0xff80}, // -inf
      {0x7f800001, 0x7fc0}, // signalling NaN is quieted
      {0xffa5a5a5, 0xffe5}, // negative NaN keeps sign and top payload bits
    };
    int[][] f16 = {
      {0x3f801000, 0x3c00}, // 1 + 2^-11: tie, even -> down
      {0x3f803000, 0x3c02}, // 1 + 3 * 2^-11: tie, odd -> up
      {0x477fe000, 0x7bff}, // 65504 = max half
      {0x477fefff, 0x7bff}, // just below 65520
      {0x477ff000, 0x7c00}, // 65520: tie to the even infinity
      {0x33000000, 0x0000}, // 2^-25: half the smallest subnormal, ties to even zero
      {0x33000001, 0x0001}, // just above: rounds up to the smallest subnormal
      {0x33c00000, 0x0002}, // 3 * 2^-25: tie, odd -> up
      {0x38800000, 0x0400}, // 2^-14: smallest normal half
      {0x387fc000, 0x03ff}, // largest subnormal half
      {0xc0490fdb, 0xc248}, // -pi
      {0x7f800001, 0x7e00}, // signalling NaN is quieted
      {0xffffe000, 0xffff}, // NaN payload 0x7fe000 keeps its top 10 bits
    };
    List<Executable> checks = new ArrayList<>();
    for (int[] c : bf16) {
      checks.add(
          () ->
              assertEquals(
                  (short) c[1], Bf16.fromFloat(Float.intBitsToFloat(c[0])), hex("bf16", c[0])));
    }
    for (int[] c : f16) {
      checks.add(
          () ->
              assertEquals(
                  (short) c[1], F16.fromFloat(Float.intBitsToFloat(c[0])), hex("f16", c[0])));
    }
    assertAll(checks);
  }

  private static String hex(String type, int bits) {
    return String.format("%s of f32 %08x", type, bits);
  }

  // --------------------------------------------------------------------------- every
  // implementation, exhaustive

  @Test
  void every16BitPatternConvertsLikeTheReferenceOnEveryPath() {
    ByteBuffer patterns =
        ByteBuffer.allocateDirect(2 * 65536).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int h = 0; h < 65536; h++) patterns.putShort(2 * h, (short) h);
    List<Executable> checks = new ArrayList<>();
    for (DType from : new DType[] {DType.F16, DType.BF16}) {
      for (DType to : KernelTestSupport.TYPES) {
        Region want = KernelTestSupport.region(to, 65536, 0);
        JavaKernels.INSTANCE.convert(patterns, 0, from, want.view(), 0, to, 65536, 0);
        for (Impl impl : impls) {
          checks.add(
              () -> {
                Region got = KernelTestSupport.region(to, 65536, 5);
                impl.kernels().convert(patterns.duplicate(), from, got.view(), to, 65536);
                got.assertSameAs(want, impl + " all " + from + " patterns -> " + to);
              });
        }
      }
    }
    assertAll(checks);
  }

  @Test
  void specialAndSampledF32ValuesNarrowLikeTheReferenceOnEveryPath() {
    List<Integer> bits = new ArrayList<>();
    for (int b : specialFloatBits()) bits.add(b);
    for (long u = 0; u < (1L << 32); u += 65521) bits.add((int) u);
    int n = bits.size();
    Region src = KernelTestSupport.region(DType.F32, n, 4);
    ByteBuffer v = src.view();
    for (int i = 0; i < n; i++) v.putInt(v.position() + 4 * i, bits.get(i));
    List<Executable> checks = new ArrayList<>();
    for (DType to : KernelTestSupport.TYPES) {
      Region want = KernelTestSupport.region(to, n, 0);
      JavaKernels.INSTANCE.convert(src.view(), 0, DType.F32, want.view(), 0, to, n, 0);
      for (Impl impl : impls) {
        checks.add(
            () -> {
              Region got = KernelTestSupport.region(to, n, 1);
              impl.kernels().convert(src.view(), DType.F32, got.view(), to, n);
              got.assertSameAs(want, impl + " special f32 -> " + to);
            });
      }
    }
    assertAll(checks);
  }

  /**
   * Zeros, subnormals, infinities, NaN payloads, and every f16 and bf16 rounding tie and its
   * neighbours.
   */
  static int[] specialFloatBits() {
    List<Integer> out =
        new ArrayList<>(
            List.of(
                0x00000000,
                0x80000000,
                0x00000001,
                0x80000001,
                0x007fffff,
                0x807fffff,
                0x00800000,
                0x7f7fffff,
                0xff7fffff,
                0x7f800000,
                0xff800000,
                0x7f800001,
                0xff800001,
                0x7fc00000,
                0xffc00000,
                0x7fffffff,
                0xffffffff,
                0x7fa00000,
                0x7fbfffff,
                0x7f80ffff,
                0x7f802000,
                0x477fe000,
                0x477ff000,
                0x477fefff,
                0x477ff001,
                0x38800000,
                0x387fffff,
                0x33000000,
                0x33000001,
                0x32ffffff));
    for (int h = 0; h < 0x7c00; h++) {
      // Half-way between consecutive halves h and h + 1 (exact in f32), and one f32 ulp either
      // side.
      double mid = (halfValue(h) + (double) halfValue(h + 1)) / 2;
      int m = Float.floatToRawIntBits((float) mid);
      for (int d = -1; d <= 1; d++) {
        out.add(m + d);
        out.add((m + d) | 0x80000000);
      }
    }
    for (int b = 0; b < 0x7f80; b += 3) {
      int tie = b << 16 | 0x8000; // half-way between bf16 b and b + 1
      out.add(tie);
      out.add(tie - 1);
      out.add(tie + 1);
      out.add(tie | 0x80000000);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }
}
