package dev.amalgam.kernels;

import static dev.amalgam.kernels.KernelTestSupport.TYPES;
import static dev.amalgam.kernels.KernelTestSupport.normal;
import static dev.amalgam.kernels.KernelTestSupport.region;
import static dev.amalgam.kernels.KernelTestSupport.special;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.amalgam.io.gguf.GgmlType;
import dev.amalgam.io.gguf.GgufQuant;
import dev.amalgam.kernels.KernelTestSupport.Impl;
import dev.amalgam.kernels.KernelTestSupport.Region;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.F16;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * The Q8_0 quantizer and the Q8_0/Q4_0 decoders on every implementation (Java and each native ISA
 * path, 1 and 2 threads) against the Java reference, bit for bit, from and to every dtype; plus the
 * reference itself against the original GgufQuant code and hand-computed blocks (ties, zeros,
 * subnormals, NaN, infinity).
 */
class BlockKernelTest extends EveryImplementationTest {
  /** 0, one block, the brief's odd size, and one that every thread count splits. */
  private static final long[] SIZES = {0, 32, 64 * 1024 + 32, (1L << 20) + 96};

  private enum Data {
    NORMAL,
    SPECIAL,
    TIES,
    EDGE_BLOCKS
  }

  // --------------------------------------------------------------------------------------------
  // quantize

  @TestFactory
  Stream<DynamicTest> quantizeMatchesReference() {
    List<DynamicTest> tests = new ArrayList<>();
    long seed = 500;
    for (long n : SIZES) {
      for (DType from : TYPES) {
        for (Data data : Data.values()) {
          long s = seed++;
          tests.add(
              dynamicTest(from + " " + data + ", n=" + n, () -> checkQuantize(from, data, n, s)));
        }
      }
    }
    return tests.stream();
  }

  private static void checkQuantize(DType from, Data data, long n, long seed) {
    Region src = source(from, data, n, seed);
    long bytes = BlockFormat.Q8_0.byteCount(n);
    Region want = new Region(bytes, 0);
    JavaKernels.INSTANCE.quantizeQ8_0(src.view(), 0, from, want.view(), 0, n);
    onEveryImpl(
        impl -> {
          Region got = new Region(bytes, (int) (seed % 7));
          ByteBuffer in = src.view();
          ByteBuffer out = got.view();
          int inPosition = in.position(), outPosition = out.position();
          impl.kernels().quantizeQ8_0(in, from, out, n);
          String what = impl + " quantizeQ8_0 " + from + " " + data + " n=" + n;
          assertEquals(inPosition, in.position(), what + ": src position changed");
          assertEquals(outPosition, out.position(), what + ": dst position changed");
          got.assertSameAs(want, what);
        });
  }

  private static Region source(DType type, Data data, long n, long seed) {
    switch (data) {
      case NORMAL:
        return normal(type, n, seed);
      case SPECIAL:
        return special(type, n, seed);
      default:
        Region r = region(type, n, Math.floorMod(seed, 11));
        float[] x = data == Data.TIES ? ties(n, seed) : edgeBlocks(n, seed);
        ByteBuffer v = r.view();
        for (int i = 0; i < n; i++) JavaKernels.store(v, type, i, x[i]);
        return r;
    }
  }

  /**
   * Blocks whose amax is 127·2^e, so d = 2^e and id = 2^-e exactly, and every other value is (k +
   * 0.5)·2^e: each x·id lands exactly on a tie. The values are exact in every dtype (few mantissa
   * bits).
   */
  private static float[] ties(long n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[(int) n];
    for (int b = 0; b < n; b += 32) {
      float scale = Math.scalb(1f, rng.nextInt(-4, 5));
      x[b] = (rng.nextBoolean() ? 127f : -127f) * scale;
      for (int j = 1; j < 32; j++) x[b + j] = (rng.nextInt(-127, 127) + 0.5f) * scale;
    }
    return x;
  }

  /**
   * Whole blocks of zeros (signed), of subnormals only, with an infinity, with a NaN, and of values
   * above f16.
   */
  private static float[] edgeBlocks(long n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[(int) n];
    for (int b = 0; b < n; b += 32) {
      int kind = (b / 32) % 6;
      for (int j = 0; j < 32; j++) {
        float v = (float) rng.nextGaussian();
        if (kind == 0) v = rng.nextBoolean() ? 0f : -0f;
        if (kind == 1)
          v = Float.intBitsToFloat(rng.nextInt() & 0x807fffff); // subnormal: d may be subnormal
        if (kind == 4) v *= 3e34f;
        x[b + j] = v;
      }
      if (kind == 2)
        x[b + rng.nextInt(32)] =
            rng.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
      if (kind == 3)
        x[b + rng.nextInt(32)] = Float.intBitsToFloat(0x7f800001 | (rng.nextInt() & 0x807fffff));
    }
    return x;
  }

  /**
   * The reference keeps the semantics of the original Java quantizer (Math.max of Math.abs, as
   * GgufQuant had it before the kernels) on every input without NaN, and GgufQuant now gives the
   * reference's bytes.
   */
  @Test
  void referenceEqualsTheOriginalQuantizerAndGgufQuant() {
    for (Data data : Data.values()) {
      int n = 64 * 1024;
      float[] x =
          data == Data.TIES
              ? ties(n, 1)
              : data == Data.EDGE_BLOCKS ? edgeBlocks(n, 2) : gaussian(n, 3);
      if (data == Data.SPECIAL) {
        for (int i = 0; i < n; i += 7)
          x[i] = Float.intBitsToFloat(new SplittableRandom(i).nextInt() & 0x807fffff);
        for (int i = 3; i < n; i += 97)
          x[i] = i % 2 == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
      }
      byte[] reference = new byte[n / 32 * 34];
      ByteBuffer r = ByteBuffer.wrap(reference);
      for (int b = 0; b < n / 32; b++) JavaKernels.quantizeQ8_0Block(x, 32 * b, r, 34 * b);
      ByteBuffer viaGguf = ByteBuffer.allocate(reference.length);
      GgufQuant.quantizeQ8_0(x, 0, n, viaGguf);
      assertArrayEquals(reference, viaGguf.array(), data + ": GgufQuant");
      byte[] original = originalQuantizer(x);
      for (int b = 0; b < n / 32; b++) {
        boolean hasNaN = false;
        for (int j = 0; j < 32; j++) hasNaN |= Float.isNaN(x[32 * b + j]);
        if (hasNaN) continue;
        for (int k = 0; k < 34; k++) {
          assertEquals(
              original[34 * b + k], reference[34 * b + k], data + ": block " + b + " byte " + k);
        }
      }
    }
  }

  /**
   * GgufQuant.quantizeQ8_0 as it was written before the kernels existed, kept verbatim as the
   * semantic anchor.
   */
  private static byte[] originalQuantizer(float[] src) {
    ByteBuffer b = ByteBuffer.allocate(src.length / 32 * 34).order(ByteOrder.LITTLE_ENDIAN);
    int pos = 0;
    for (int in = 0; in < src.length; in += 32) {
      float amax = 0f;
      for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[in + j]));
      float d = amax / 127f;
      float id = d != 0f ? 1f / d : 0f;
      b.putShort(pos, F16.fromFloat(d));
      for (int j = 0; j < 32; j++) {
        float v = src[in + j] * id;
        double r = Math.floor(Math.abs((double) v) + 0.5);
        b.put(pos + 2 + j, (byte) (int) (v < 0 ? -r : r));
      }
      pos += 34;
    }
    return b.array();
  }

  private static float[] gaussian(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) (rng.nextGaussian() * 0.02);
    return x;
  }

  /** Hand-computed blocks on every implementation, from f32. */
  @Test
  void handComputedBlocks() {
    float[] x = new float[32];
    x[0] = 127f; // d = 1, id = 1
    x[1] = 2.5f;
    x[2] = -2.5f;
    x[3] = 0.5f;
    x[4] = -0.49999997f;
    x[5] = -126.5f;
    assertBlock(x, (short) 0x3c00, new int[] {127, 3, -3, 1, 0, -127}, "ties away from zero");
    float[] zeros = new float[32];
    zeros[5] = -0f;
    assertBlock(zeros, (short) 0, new int[0], "zeros: d = 0, id = 0");
    float[] inf = x.clone();
    inf[9] = Float.NEGATIVE_INFINITY;
    assertBlock(inf, (short) 0x7c00, new int[0], "an infinity: d = inf, qs = 0");
    float[] nan = inf.clone();
    nan[7] =
        Float.intBitsToFloat(
            0xff812345); // first NaN: negative, signalling; its magnitude is stored
    nan[8] = Float.NaN;
    assertBlock(
        nan,
        (short) (0x7e00 | ((0x7f812345 >>> 13) & 0x3ff)),
        new int[0],
        "NaN: first NaN's magnitude");
    float[] huge = new float[32];
    huge[0] = 65504f * 127f * 2f; // d above the f16 range is stored as infinity, the qs stay finite
    huge[1] = -huge[0] / 4;
    assertBlock(huge, (short) 0x7c00, new int[] {127, -32}, "d overflows f16");
    float[] tiny = new float[32];
    tiny[0] = Float.MIN_VALUE * 3; // a subnormal input
    tiny[1] = Float.MIN_NORMAL; // amax: d = 2^-126 / 127 is subnormal (f16 0), and 1/d overflows to
    // infinity
    assertBlock(
        tiny,
        F16.fromFloat(Float.MIN_NORMAL / 127f),
        new int[] {-1, -1},
        "subnormal d: x * inf = inf, Java's (int) saturates and (byte) keeps 0xff");
  }

  private static void assertBlock(float[] x, short d, int[] firstQs, String what) {
    ByteBuffer src = ByteBuffer.allocateDirect(128).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : x) src.putFloat(v);
    src.flip();
    List<Executable> checks = new ArrayList<>();
    for (Impl impl : impls) {
      checks.add(
          () -> {
            ByteBuffer out = ByteBuffer.allocateDirect(34).order(ByteOrder.LITTLE_ENDIAN);
            impl.kernels().quantizeQ8_0(src, DType.F32, out, 32);
            assertEquals(d, out.getShort(0), impl + " " + what + ": d");
            for (int j = 0; j < 32; j++) {
              int expected = j < firstQs.length ? firstQs[j] : 0;
              assertEquals(expected, out.get(2 + j), impl + " " + what + ": qs[" + j + "]");
            }
          });
    }
    assertAll(checks);
  }

  // ------------------------------------------------------------------------------------------
  // dequantize

  @TestFactory
  Stream<DynamicTest> dequantizeMatchesReference() {
    List<DynamicTest> tests = new ArrayList<>();
    long seed = 900;
    for (BlockFormat format : BlockFormat.values()) {
      for (long n : SIZES) {
        for (DType to : TYPES) {
          long s = seed++;
          tests.add(
              dynamicTest(
                  format + " -> " + to + ", n=" + n, () -> checkDequantize(format, to, n, s)));
        }
      }
    }
    return tests.stream();
  }

  /**
   * Random bytes: every scale bit pattern (NaN, infinity, subnormal) and every quant value. The
   * reference is GgufQuant's ggml port, rounded to the destination type, and JavaKernels must equal
   * it too.
   */
  private static void checkDequantize(BlockFormat format, DType to, long n, long seed) {
    long bytes = format.byteCount(n);
    Region src = new Region(bytes, (int) (seed % 13));
    SplittableRandom rng = new SplittableRandom(seed);
    ByteBuffer raw = src.view();
    for (int i = 0; i < bytes; i++) raw.put(raw.position() + i, (byte) rng.nextInt());
    float[] decoded = new float[(int) n];
    GgufQuant.dequantize(
        format == BlockFormat.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q4_0,
        src.view(),
        decoded,
        0,
        (int) n);
    Region want = region(to, n, 0);
    ByteBuffer w = want.view();
    for (int i = 0; i < n; i++) JavaKernels.store(w, to, i, decoded[i]);
    onEveryImpl(
        impl -> {
          Region got = region(to, n, (int) (seed % 5) * to.byteSize());
          ByteBuffer in = src.view();
          ByteBuffer out = got.view();
          int inPosition = in.position(), outPosition = out.position();
          impl.kernels().dequantize(in, format, out, to, n);
          String what = impl + " dequantize " + format + " -> " + to + " n=" + n;
          assertEquals(inPosition, in.position(), what + ": src position changed");
          assertEquals(outPosition, out.position(), what + ": dst position changed");
          got.assertSameAs(want, what);
        });
  }

  @Test
  void quantizeThenDequantizeStaysWithinAboutHalfAStep() {
    int n = 4096;
    Region src = normal(DType.BF16, n, 77);
    onEveryImpl(
        impl -> {
          ByteBuffer q = ByteBuffer.allocateDirect(n / 32 * 34);
          ByteBuffer back = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
          impl.kernels().quantizeQ8_0(src.view(), DType.BF16, q, n);
          impl.kernels().dequantize(q, BlockFormat.Q8_0, back, DType.F32, n);
          for (int b = 0; b < n / 32; b++) {
            float d = F16.toFloat(q.order(ByteOrder.LITTLE_ENDIAN).getShort(34 * b));
            for (int j = 0; j < 32; j++) {
              int i = 32 * b + j;
              float x = JavaKernels.load(src.view(), DType.BF16, i);
              // Half a step of the f32 d, plus 127 times the f16 rounding of d (relative 2^-11):
              // below 0.57 d.
              assertEquals(x, back.getFloat(4 * i), 0.57f * d, impl + " element " + i);
            }
          }
        });
  }

  // ---------------------------------------------------------------------------------------- bad
  // arguments

  @Test
  void badArgumentsAreRejectedBeforeAnyWrite() {
    long n = 1024;
    Region bf16 = normal(DType.BF16, n, 8);
    Region q8 = new Region(BlockFormat.Q8_0.byteCount(n), 3);
    Region f32 = region(DType.F32, n, 1);
    rejects(
        "quantize n not whole blocks",
        q8,
        k -> k.quantizeQ8_0(bf16.view(), DType.BF16, q8.view(), n - 16));
    rejects(
        "quantize negative n", q8, k -> k.quantizeQ8_0(bf16.view(), DType.BF16, q8.view(), -32));
    rejects(
        "quantize dst one byte short",
        q8,
        k -> k.quantizeQ8_0(bf16.view(), DType.BF16, shortBy(q8, 1), n));
    rejects(
        "quantize src one byte short",
        q8,
        k -> k.quantizeQ8_0(shortBy(bf16, 1), DType.BF16, q8.view(), n));
    rejects("quantize from I8", q8, k -> k.quantizeQ8_0(bf16.view(), DType.I8, q8.view(), n));
    rejects(
        "quantize into read-only",
        q8,
        k -> k.quantizeQ8_0(bf16.view(), DType.BF16, q8.view().asReadOnlyBuffer(), n));
    rejects(
        "quantize, byte count overflows",
        q8,
        k -> k.quantizeQ8_0(bf16.view(), DType.F32, q8.view(), Long.MAX_VALUE / 64 * 32));
    Region blocks = new Region(BlockFormat.Q8_0.byteCount(n), 0);
    rejects(
        "dequantize n not whole blocks",
        f32,
        k -> k.dequantize(blocks.view(), BlockFormat.Q8_0, f32.view(), DType.F32, n - 1));
    rejects(
        "dequantize src one byte short",
        f32,
        k -> k.dequantize(shortBy(blocks, 1), BlockFormat.Q8_0, f32.view(), DType.F32, n));
    rejects(
        "dequantize Q4_0 read as Q8_0 is too short",
        f32,
        k ->
            k.dequantize(
                new Region(BlockFormat.Q4_0.byteCount(n), 0).view(),
                BlockFormat.Q8_0,
                f32.view(),
                DType.F32,
                n));
    rejects(
        "dequantize dst one byte short",
        f32,
        k -> k.dequantize(blocks.view(), BlockFormat.Q8_0, shortBy(f32, 1), DType.F32, n));
    rejects(
        "dequantize to U8",
        f32,
        k -> k.dequantize(blocks.view(), BlockFormat.Q8_0, f32.view(), DType.U8, n));
    rejects(
        "dequantize into read-only",
        f32,
        k ->
            k.dequantize(
                blocks.view(), BlockFormat.Q8_0, f32.view().asReadOnlyBuffer(), DType.F32, n));
    assertThrows(
        NullPointerException.class,
        () -> impls.get(0).kernels().dequantize(blocks.view(), null, f32.view(), DType.F32, n));
  }

  private interface Call {
    void run(Kernels k);
  }

  private static void rejects(String what, Region out, Call call) {
    List<Executable> checks = new ArrayList<>();
    for (Impl impl : impls) {
      checks.add(
          () -> {
            out.reset();
            assertThrows(
                IllegalArgumentException.class, () -> call.run(impl.kernels()), impl + ": " + what);
            out.assertUntouched(impl + ": " + what);
          });
    }
    assertAll(checks);
  }

  private static ByteBuffer shortBy(Region r, int bytes) {
    ByteBuffer v = r.view();
    return v.limit(v.limit() - bytes);
  }

  @Test
  void blockFormatSizes() {
    assertEquals(34 * 3, BlockFormat.Q8_0.byteCount(96));
    assertEquals(18 * 3, BlockFormat.Q4_0.byteCount(96));
    assertEquals(GgmlType.Q8_0.id(), BlockFormat.Q8_0.ggmlId());
    assertEquals(GgmlType.Q4_0.id(), BlockFormat.Q4_0.ggmlId());
    assertEquals(GgmlType.Q8_0.blockBytes(), BlockFormat.Q8_0.blockBytes());
    assertEquals(GgmlType.Q4_0.blockBytes(), BlockFormat.Q4_0.blockBytes());
    assertThrows(IllegalArgumentException.class, () -> BlockFormat.Q8_0.byteCount(33));
    assertThrows(
        ArithmeticException.class, () -> BlockFormat.Q8_0.byteCount(Long.MAX_VALUE / 32 * 32));
  }
}
