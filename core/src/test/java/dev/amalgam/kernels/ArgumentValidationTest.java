package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.kernels.KernelTestSupport.Impl;
import dev.amalgam.kernels.KernelTestSupport.Region;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad arguments throw IllegalArgumentException before any kernel runs: every call here would read
 * or write out of bounds if it reached native code, so each test also checks that the output
 * memory, guards included, is untouched. The output regions sit inside larger buffers, so an
 * unchecked native write would land in memory that exists and be seen, rather than crash the JVM.
 */
class ArgumentValidationTest extends EveryImplementationTest {
  private static final long N = 1000;

  /**
   * Checks on every implementation that {@code call} throws IllegalArgumentException and leaves out
   * untouched.
   */
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

  private interface Call {
    void run(Kernels k);
  }

  private static ByteBuffer shortBy(Region r, int bytes) {
    ByteBuffer v = r.view();
    return v.limit(v.limit() - bytes);
  }

  @Test
  void negativeCounts() {
    Region a = KernelTestSupport.normal(DType.BF16, N, 1),
        out = KernelTestSupport.region(DType.BF16, N, 0);
    rejects("convert n=-1", out, k -> k.convert(a.view(), DType.BF16, out.view(), DType.BF16, -1));
    rejects(
        "weightedSum n=-1",
        out,
        k ->
            k.weightedSum(
                new ByteBuffer[] {a.view()},
                new DType[] {DType.BF16},
                new float[] {1f},
                out.view(),
                DType.BF16,
                -1));
    rejects("dot3 n=-1", out, k -> k.dot3(a.view(), DType.BF16, a.view(), DType.BF16, -1));
    rejects(
        "convert n=Long.MIN_VALUE",
        out,
        k -> k.convert(a.view(), DType.BF16, out.view(), DType.BF16, Long.MIN_VALUE));
  }

  @Test
  void buffersTooSmallByOneByte() {
    Region a = KernelTestSupport.normal(DType.BF16, N, 2),
        b = KernelTestSupport.normal(DType.F32, N, 3);
    Region out = KernelTestSupport.region(DType.F32, N, 0);
    rejects(
        "convert, short src",
        out,
        k -> k.convert(shortBy(a, 1), DType.BF16, out.view(), DType.F32, N));
    rejects(
        "convert, short dst",
        out,
        k -> k.convert(a.view(), DType.BF16, shortBy(out, 1), DType.F32, N));
    rejects(
        "convert, src read as a wider type",
        out,
        k -> k.convert(a.view(), DType.F32, out.view(), DType.F32, N));
    rejects(
        "weightedSum, short second input",
        out,
        k ->
            k.weightedSum(
                new ByteBuffer[] {a.view(), shortBy(b, 1)},
                new DType[] {DType.BF16, DType.F32},
                new float[] {1f, 1f},
                out.view(),
                DType.F32,
                N));
    rejects(
        "weightedSum, short out",
        out,
        k ->
            k.weightedSum(
                new ByteBuffer[] {a.view(), b.view()},
                new DType[] {DType.BF16, DType.F32},
                new float[] {1f, 1f},
                shortBy(out, 1),
                DType.F32,
                N));
    rejects("dot3, short y", out, k -> k.dot3(a.view(), DType.BF16, shortBy(b, 1), DType.F32, N));
    rejects("dot3, short x", out, k -> k.dot3(shortBy(a, 2), DType.BF16, b.view(), DType.F32, N));
    // A count whose byte size overflows a long must not wrap around into a small, "valid" size.
    rejects(
        "convert, byte count overflows",
        out,
        k -> k.convert(a.view(), DType.F32, out.view(), DType.F32, Long.MAX_VALUE / 2));
  }

  @Test
  void readOnlyOutputs() {
    Region a = KernelTestSupport.normal(DType.BF16, N, 4),
        out = KernelTestSupport.region(DType.BF16, N, 0);
    rejects(
        "convert into a read-only buffer",
        out,
        k -> k.convert(a.view(), DType.BF16, out.view().asReadOnlyBuffer(), DType.BF16, N));
    rejects(
        "weightedSum into a read-only buffer",
        out,
        k ->
            k.weightedSum(
                new ByteBuffer[] {a.view()},
                new DType[] {DType.BF16},
                new float[] {2f},
                out.view().asReadOnlyBuffer(),
                DType.BF16,
                N));
  }

  @Test
  void mismatchedArrayLengthsAndEmptyInputs() {
    Region a = KernelTestSupport.normal(DType.BF16, N, 5),
        out = KernelTestSupport.region(DType.BF16, N, 0);
    ByteBuffer[] two = {a.view(), a.view()};
    rejects(
        "one type for two inputs",
        out,
        k ->
            k.weightedSum(
                two, new DType[] {DType.BF16}, new float[] {1f, 1f}, out.view(), DType.BF16, N));
    rejects(
        "three coefficients for two inputs",
        out,
        k ->
            k.weightedSum(
                two,
                new DType[] {DType.BF16, DType.BF16},
                new float[] {1f, 1f, 1f},
                out.view(),
                DType.BF16,
                N));
    rejects(
        "one coefficient for two inputs",
        out,
        k ->
            k.weightedSum(
                two,
                new DType[] {DType.BF16, DType.BF16},
                new float[] {1f},
                out.view(),
                DType.BF16,
                N));
    rejects(
        "no inputs",
        out,
        k ->
            k.weightedSum(
                new ByteBuffer[0], new DType[0], new float[0], out.view(), DType.BF16, N));
  }

  @Test
  void typesTheKernelsDoNotHandle() {
    Region a = KernelTestSupport.normal(DType.BF16, N, 6),
        out = KernelTestSupport.region(DType.BF16, N, 0);
    rejects(
        "convert from I16", out, k -> k.convert(a.view(), DType.I16, out.view(), DType.BF16, N));
    rejects(
        "convert to F64", out, k -> k.convert(a.view(), DType.BF16, out.view(), DType.F64, N / 4));
    rejects(
        "weightedSum of U16",
        out,
        k ->
            k.weightedSum(
                new ByteBuffer[] {a.view()},
                new DType[] {DType.U16},
                new float[] {1f},
                out.view(),
                DType.BF16,
                N));
    rejects("dot3 of F8_E4M3", out, k -> k.dot3(a.view(), DType.F8_E4M3, a.view(), DType.BF16, N));
  }

  @Test
  void sceKernelsRefuseShortArraysBeforeWritingAnything() {
    int n = (int) N;
    float[] x = new float[2 * n];
    float[] b = new float[n];
    for (int i = 0; i < n; i++) {
      b[i] = i * 0.01f;
      x[i] = b[i] + 1;
      x[n + i] = b[i] - 0.5f;
    }
    List<Executable> checks = new ArrayList<>();
    for (Impl impl : impls) {
      Kernels k = impl.kernels();
      checks.add(
          () -> {
            float[] out = new float[n - 1];
            Arrays.fill(out, 9f);
            assertThrows(
                IllegalArgumentException.class,
                () -> k.sceMerge(x, n, 2, b, null, n, -1, 0, new long[1], new double[2], out),
                impl + ": merge into a short out");
            for (float v : out) assertEquals(9f, v, impl + ": merge wrote");
            long[] histogram = new long[Kernels.MAGNITUDE_BUCKETS];
            Arrays.fill(histogram, 7);
            long[] nonzero = {7};
            assertThrows(
                IllegalArgumentException.class,
                () ->
                    k.sceHistogramHigh(new float[2 * n - 1], n, 2, b, n, histogram, nonzero, null),
                impl + ": histogram of a short x");
            for (long c : histogram) assertEquals(7, c, impl + ": histogram counted");
            assertEquals(7, nonzero[0], impl + ": nonzero counted");
            double[] sums = {3, 3};
            long[] seen = {2};
            assertThrows(
                IllegalArgumentException.class,
                () -> k.sceSquareSums(x, n, 2, new float[n - 1], null, n, 0, 1, seen, sums),
                impl + ": squares over a short base");
            assertArrayEquals(new double[] {3, 3}, sums, impl + ": squares summed");
            assertEquals(2, seen[0], impl + ": counter moved");
            int[] keys = new int[n - 1];
            Arrays.fill(keys, 5);
            assertThrows(
                IllegalArgumentException.class,
                () -> k.sceVarianceKeys(x, n, 2, b, n, keys),
                impl + ": keys into a short array");
            for (int key : keys) assertEquals(5, key, impl + ": keys written");
          });
    }
    assertAll(checks);
  }

  @Test
  void slerpRejectsNonFiniteT() {
    Dot3 d = new Dot3(0.5, 1.0, 1.0);
    assertAll(
        () -> assertThrows(IllegalArgumentException.class, () -> Slerp.coefficients(d, Double.NaN)),
        () ->
            assertThrows(
                IllegalArgumentException.class,
                () -> Slerp.coefficients(d, Double.POSITIVE_INFINITY)));
  }

  @Test
  void methodKernelsWriteNothingOnBadArguments() {
    Region a = KernelTestSupport.normal(DType.BF16, N, 6),
        b = KernelTestSupport.normal(DType.F32, N, 7),
        out = KernelTestSupport.region(DType.F16, N, 0);
    float[] kl = new float[10]; // rows of 100: exactly N elements
    rejects(
        "fusionSelect, short out",
        out,
        k ->
            k.fusionSelect(
                a.view(),
                DType.BF16,
                b.view(),
                DType.F32,
                (int) N,
                0,
                100,
                kl,
                0f,
                shortBy(out, 1),
                DType.F16));
    rejects(
        "fusionSelect, a row past kl",
        out,
        k ->
            k.fusionSelect(
                a.view(),
                DType.BF16,
                b.view(),
                DType.F32,
                (int) N,
                1,
                100,
                kl,
                0f,
                out.view(),
                DType.F16));
    rejects(
        "fusionSelect, short b",
        out,
        k ->
            k.fusionSelect(
                a.view(),
                DType.BF16,
                shortBy(b, 1),
                DType.F32,
                (int) N,
                0,
                100,
                kl,
                0f,
                out.view(),
                DType.F16));
    rejects(
        "nearSwap, short out",
        out,
        k ->
            k.nearSwap(
                a.view(), DType.BF16, b.view(), DType.F32, 0.5f, shortBy(out, 1), DType.F16, N));
    rejects(
        "nearSwap, base read as a wider type",
        out,
        k -> k.nearSwap(a.view(), DType.F32, b.view(), DType.F32, 0.5f, out.view(), DType.F16, N));
    rejects(
        "nearSwap into a read-only buffer",
        out,
        k ->
            k.nearSwap(
                a.view(),
                DType.BF16,
                b.view(),
                DType.F32,
                0.5f,
                out.view().asReadOnlyBuffer(),
                DType.F16,
                N));
  }
}
