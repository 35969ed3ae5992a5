package dev.amalgam.kernels;

import static dev.amalgam.kernels.KernelTestSupport.TYPES;
import static dev.amalgam.kernels.KernelTestSupport.normal;
import static dev.amalgam.kernels.KernelTestSupport.region;
import static dev.amalgam.kernels.KernelTestSupport.special;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.amalgam.kernels.KernelTestSupport.Region;
import dev.amalgam.kernels.jni.NativeLibrary;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * Every kernel on every implementation (Java and each native ISA path, 1 and 2 threads) against the
 * Java reference {@link JavaKernels}, bit for bit, for every dtype combination. Inputs mix normal
 * values with NaN payloads, infinities, zeros and subnormals wherever the contract promises equal
 * bits for them; buffers start at odd offsets and carry guard bytes that must stay untouched.
 */
class KernelEquivalenceTest extends EveryImplementationTest {
  private static final long BIG = (1L << 20) + 7;
  private static final long[] SIZES = {0, 1, 31, 4096, BIG};
  private static final float[] COEFFICIENTS = {0.3f, -0.7f, 1.25f, 1e-3f, -2.5f};

  @Test
  void everyAvailablePathIsUnderTest() {
    int expected =
        2
            + (NativeLibrary.isLoaded() ? 2 * (NativeKernels.bestIsa().ordinal() + 1) : 0)
            + 2 * KernelTestSupport.usableCudaDevices().size();
    assertEquals(expected, impls.size(), impls.toString());
  }

  private static void assertPositionKept(ByteBuffer view, int position, int limit, String what) {
    assertEquals(position, view.position(), what + ": position changed");
    assertEquals(limit, view.limit(), what + ": limit changed");
  }

  // ------------------------------------------------------------------------------------------------ convert

  @TestFactory
  Stream<DynamicTest> convertMatchesReference() {
    List<DynamicTest> tests = new ArrayList<>();
    long seed = 100;
    for (long n : SIZES) {
      for (DType from : TYPES) {
        for (DType to : TYPES) {
          long s = seed++;
          tests.add(
              dynamicTest(from + " -> " + to + ", n=" + n, () -> checkConvert(from, to, n, s)));
        }
      }
    }
    return tests.stream();
  }

  private static void checkConvert(DType from, DType to, long n, long seed) {
    Region src = special(from, n, seed);
    Region want = region(to, n, 0);
    JavaKernels.INSTANCE.convert(src.view(), 0, from, want.view(), 0, to, n, 0);
    onEveryImpl(
        impl -> {
          Region got = region(to, n, (int) (seed % 7));
          ByteBuffer in = src.view();
          ByteBuffer out = got.view();
          int inPosition = in.position(), outPosition = out.position();
          impl.kernels().convert(in, from, out, to, n);
          String what = impl + " convert " + from + " -> " + to + " n=" + n;
          assertPositionKept(in, inPosition, inPosition + src.bytes, what + " (src)");
          assertPositionKept(out, outPosition, outPosition + got.bytes, what + " (dst)");
          got.assertSameAs(want, what);
        });
  }

  // -------------------------------------------------------------------------------------------
  // weighted sum

  @TestFactory
  Stream<DynamicTest> weightedSumMatchesReference() {
    List<DType[]> inputSets = new ArrayList<>();
    for (DType a : TYPES) inputSets.add(new DType[] {a});
    for (DType a : TYPES) {
      for (DType b : TYPES) inputSets.add(new DType[] {a, b});
    }
    inputSets.add(new DType[] {DType.BF16, DType.BF16, DType.BF16});
    inputSets.add(new DType[] {DType.F32, DType.F16, DType.BF16});
    inputSets.add(new DType[] {DType.BF16, DType.F32, DType.F16, DType.BF16, DType.F16});
    List<DynamicTest> tests = new ArrayList<>();
    long seed = 1000;
    for (long n : SIZES) {
      for (DType[] inputs : inputSets) {
        for (DType out : TYPES) {
          // At the big size, two inputs (the merge case) in every combination; other counts once
          // per output.
          if (n == BIG && inputs.length != 2 && inputs[0] != out) continue;
          long s = seed++;
          String name = Arrays.toString(inputs) + " -> " + out + ", n=" + n;
          tests.add(dynamicTest(name, () -> checkWeightedSum(inputs, out, n, s)));
        }
      }
    }
    return tests.stream();
  }

  private static void checkWeightedSum(DType[] types, DType outType, long n, long seed) {
    int count = types.length;
    Region[] regions = new Region[count];
    ByteBuffer[] inputs = new ByteBuffer[count];
    for (int k = 0; k < count; k++) {
      regions[k] = special(types[k], n, seed * 31 + k);
      inputs[k] = regions[k].view();
    }
    float[] c = Arrays.copyOf(COEFFICIENTS, count);
    Region want = region(outType, n, 0);
    JavaKernels.INSTANCE.weightedSum(
        inputs, new long[count], types, c, want.view(), 0, outType, n, 0);
    onEveryImpl(
        impl -> {
          Region got = region(outType, n, (int) (seed % 9));
          ByteBuffer[] views = new ByteBuffer[count];
          for (int k = 0; k < count; k++) views[k] = regions[k].view();
          impl.kernels().weightedSum(views, types, c, got.view(), outType, n);
          got.assertSameAs(
              want, impl + " weightedSum " + Arrays.toString(types) + " -> " + outType + " n=" + n);
        });
  }

  // --------------------------------------------------------------------------------------------------- dot3

  @TestFactory
  Stream<DynamicTest> dot3MatchesReference() {
    List<DynamicTest> tests = new ArrayList<>();
    long seed = 5000;
    for (long n : SIZES) {
      for (DType x : TYPES) {
        for (DType y : TYPES) {
          long s = seed++;
          tests.add(
              dynamicTest(
                  x + " . " + y + ", n=" + n + ", normal data",
                  () -> checkDot3(x, y, n, s, false)));
          if (n > 1 && n < BIG) {
            tests.add(
                dynamicTest(
                    x + " . " + y + ", n=" + n + ", special values",
                    () -> checkDot3(x, y, n, s, true)));
          }
        }
      }
    }
    return tests.stream();
  }

  /**
   * The reference in the Kernels API's shape: one JavaKernels call per DOT_SEGMENT, added in order.
   */
  static Dot3 referenceDot3(ByteBuffer x, DType xt, ByteBuffer y, DType yt, long n) {
    double xy = 0.0, xx = 0.0, yy = 0.0;
    double[] r = new double[3];
    for (long from = 0; from < n; from += Kernels.DOT_SEGMENT) {
      long len = Math.min(Kernels.DOT_SEGMENT, n - from);
      JavaKernels.INSTANCE.dot3(x, from * xt.byteSize(), xt, y, from * yt.byteSize(), yt, len, r);
      xy += r[0];
      xx += r[1];
      yy += r[2];
    }
    return new Dot3(xy, xx, yy);
  }

  private static void checkDot3(DType xt, DType yt, long n, long seed, boolean specials) {
    Region x = specials ? special(xt, n, seed) : normal(xt, n, seed);
    Region y = specials ? special(yt, n, seed + 7777) : normal(yt, n, seed + 7777);
    Dot3 want = referenceDot3(x.view(), xt, y.view(), yt, n);
    onEveryImpl(
        impl -> {
          // vdpbf16ps flushes subnormals (amalgam.h contract point 4): exact there only on normal
          // data.
          if (specials && impl.isa() == Isa.AVX512_BF16 && xt == DType.BF16 && yt == DType.BF16)
            return;
          Dot3 got = impl.kernels().dot3(x.view(), xt, y.view(), yt, n);
          // Record equality compares doubles like Double.compare: bit for bit, except that any NaN
          // equals any NaN
          // (NaN payloads of dot3 are unspecified).
          assertEquals(want, got, impl + " dot3 " + xt + " . " + yt + " n=" + n);
        });
  }

  // ------------------------------------------------------------------------------------------
  // other shapes

  /**
   * Buffers are little-endian whatever their order(): a big-endian view must give the same results.
   */
  @Test
  void byteOrderOfTheViewIsIgnored() {
    long n = 4099;
    Region a = special(DType.BF16, n, 1), b = special(DType.F16, n, 2);
    Region want = region(DType.F32, n, 0);
    JavaKernels.INSTANCE.weightedSum(
        new ByteBuffer[] {a.view(), b.view()},
        new long[2],
        new DType[] {DType.BF16, DType.F16},
        new float[] {0.5f, 2f},
        want.view(),
        0,
        DType.F32,
        n,
        0);
    Dot3 wantDot = referenceDot3(a.view(), DType.BF16, a.view(), DType.BF16, n);
    onEveryImpl(
        impl -> {
          Region got = region(DType.F32, n, 3);
          ByteBuffer[] in = {
            a.view().order(ByteOrder.BIG_ENDIAN), b.view().order(ByteOrder.BIG_ENDIAN)
          };
          impl.kernels()
              .weightedSum(
                  in,
                  new DType[] {DType.BF16, DType.F16},
                  new float[] {0.5f, 2f},
                  got.view().order(ByteOrder.BIG_ENDIAN),
                  DType.F32,
                  n);
          got.assertSameAs(want, impl + " big-endian views");
          if (impl.isa() != Isa.AVX512_BF16) {
            assertEquals(
                wantDot,
                impl.kernels().dot3(in[0], DType.BF16, in[0], DType.BF16, n),
                impl + " dot3");
          }
        });
  }

  /**
   * AMALGAM_FLAG_STREAM_STORES (non-temporal stores), which ParallelKernels sets only for outputs
   * of 64 MiB and more: the native backends called directly with the flag, at every output
   * alignment within a cache line.
   */
  @Test
  void streamingStoresGiveTheSameBits() {
    Kernels.nativeBestIsa()
        .ifPresent(
            best -> {
              long n = 10_007;
              Region a = special(DType.BF16, n, 11), b = special(DType.F32, n, 12);
              List<Executable> checks = new ArrayList<>();
              for (DType outType : TYPES) {
                Region wantSum = region(outType, n, 0), wantConvert = region(outType, n, 0);
                DType[] types = {DType.BF16, DType.F32};
                float[] c = {0.375f, 0.625f};
                JavaKernels.INSTANCE.weightedSum(
                    new ByteBuffer[] {a.view(), b.view()},
                    new long[2],
                    types,
                    c,
                    wantSum.view(),
                    0,
                    outType,
                    n,
                    0);
                JavaKernels.INSTANCE.convert(
                    b.view(), 0, DType.F32, wantConvert.view(), 0, outType, n, 0);
                for (Isa isa : Isa.values()) {
                  if (isa.compareTo(best) > 0) break;
                  NativeKernels backend = new NativeKernels(isa);
                  for (int offset = 0; offset < 64; offset += 3) {
                    int at = offset;
                    checks.add(
                        () -> {
                          Region got = region(outType, n, at);
                          backend.weightedSum(
                              new ByteBuffer[] {a.view(), b.view()},
                              new long[2],
                              types,
                              c,
                              got.view(),
                              0,
                              outType,
                              n,
                              1);
                          got.assertSameAs(
                              wantSum,
                              isa.label()
                                  + " streaming weightedSum -> "
                                  + outType
                                  + " at offset "
                                  + at);
                          got.reset();
                          backend.convert(b.view(), 0, DType.F32, got.view(), 0, outType, n, 1);
                          got.assertSameAs(
                              wantConvert,
                              isa.label()
                                  + " streaming convert -> "
                                  + outType
                                  + " at offset "
                                  + at);
                        });
                  }
                }
              }
              assertAll(checks);
            });
  }
}
