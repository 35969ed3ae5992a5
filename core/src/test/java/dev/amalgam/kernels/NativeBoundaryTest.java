package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.amalgam.kernels.jni.AmalgamNative;
import dev.amalgam.kernels.jni.NativeLibrary;
import dev.amalgam.tensor.DType;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every Java entry that reaches native code, driven with bad arguments on every native ISA path: it
 * must throw a Java exception that names the problem, never crash the JVM or touch memory. Where
 * Java cannot even express a bad argument (an unknown dtype or ISA code), the native function's own
 * checks, the second line of defence, are called directly with codes that fail before any pointer
 * is read.
 *
 * <p>Each test names the native functions it drives in {@link Drives}; {@link
 * #everyNativeFunctionHasABoundaryCase} fails when AmalgamNative gains a native method no test
 * drives. ArgumentValidationTest holds the older cases (short and read-only buffers of convert,
 * weightedSum, dot3), which are not repeated here.
 */
class NativeBoundaryTest {
  /** The native functions of AmalgamNative that a test drives with bad arguments. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  @interface Drives {
    String[] value();
  }

  private static final int N = 100;
  private static final int BUCKETS = Kernels.MAGNITUDE_BUCKETS;
  private static List<Kernels> paths;

  @BeforeAll
  static void openNativePaths() {
    assumeTrue(NativeLibrary.isLoaded(), "native library not loaded: " + NativeLibrary.detail());
    paths = new ArrayList<>();
    Isa best = Kernels.nativeBestIsa().orElseThrow();
    for (Isa isa : Isa.values()) {
      if (isa.compareTo(best) <= 0) paths.add(Kernels.nativeKernels(isa, 2));
    }
  }

  @AfterAll
  static void closeNativePaths() {
    if (paths != null) paths.forEach(Kernels::close);
    paths = null;
  }

  private interface Call {
    void run(Kernels k);
  }

  /**
   * On every native path: {@code call} throws {@code expected} whose message contains {@code
   * mentions}.
   */
  private static void rejects(
      Class<? extends RuntimeException> expected, String mentions, String what, Call call) {
    List<Executable> checks = new ArrayList<>();
    for (Kernels k : paths) {
      checks.add(
          () -> {
            RuntimeException e =
                assertThrows(expected, () -> call.run(k), k.description() + ": " + what);
            assertTrue(
                String.valueOf(e.getMessage()).contains(mentions),
                k.description()
                    + ": "
                    + what
                    + ": message '"
                    + e.getMessage()
                    + "' lacks '"
                    + mentions
                    + "'");
          });
    }
    assertAll(checks);
  }

  private static void rejects(String mentions, String what, Call call) {
    rejects(IllegalArgumentException.class, mentions, what, call);
  }

  private static ByteBuffer direct(long bytes) {
    return ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static ByteBuffer elements(DType type, long n) {
    return direct(type.byteCount(n));
  }

  /** A status code's message from the library: a sentence of its own, not "unknown status". */
  private static void refusedWith(int status, int expected, String what) {
    assertEquals(expected, status, what + ": " + AmalgamNative.amalgam_status_message(status));
    assertFalse(AmalgamNative.amalgam_status_message(status).equals("unknown status"), what);
  }

  @Test
  void everyNativeFunctionHasABoundaryCase() {
    Set<String> natives = new TreeSet<>();
    for (Method m : AmalgamNative.class.getDeclaredMethods()) {
      if (Modifier.isNative(m.getModifiers())) natives.add(m.getName());
    }
    Set<String> driven = new TreeSet<>();
    for (Method m : NativeBoundaryTest.class.getDeclaredMethods()) {
      Drives d = m.getAnnotation(Drives.class);
      if (d != null) driven.addAll(Arrays.asList(d.value()));
    }
    Set<String> missing = new TreeSet<>(natives);
    missing.removeAll(driven);
    assertTrue(missing.isEmpty(), "native functions without a boundary case: " + missing);
    Set<String> stale = new TreeSet<>(driven);
    stale.removeAll(natives);
    assertTrue(stale.isEmpty(), "boundary cases of functions that are gone: " + stale);
  }

  @Test
  @Drives({"amalgam_abi_version", "amalgam_isa_best", "amalgam_isa_name", "amalgam_address_of"})
  void identityCallsTakeAnyArgument() {
    assertTrue(AmalgamNative.amalgam_abi_version() > 0);
    Isa best = Kernels.nativeBestIsa().orElseThrow();
    assertEquals(best.code(), AmalgamNative.amalgam_isa_best());
    for (int code : new int[] {-1, Isa.values().length, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
      assertEquals("unknown", AmalgamNative.amalgam_isa_name(code), "isa code " + code);
    }
    assertEquals(0L, AmalgamNative.amalgam_address_of(null));
    // A kernel path beyond this CPU's best is refused before any kernel object exists.
    if (best.compareTo(Isa.values()[Isa.values().length - 1]) < 0) {
      Isa beyond = Isa.values()[best.ordinal() + 1];
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Kernels.nativeKernels(beyond, 1));
      assertTrue(e.getMessage().contains(beyond.label()), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Isa.fromCode(-1));
    assertThrows(IllegalArgumentException.class, () -> Isa.fromCode(99));
  }

  @Test
  @Drives("amalgam_status_message")
  void everyStatusHasAMessageAndUnknownOnesSaySo() {
    for (int status = -11; status <= 0; status++) {
      assertFalse(
          AmalgamNative.amalgam_status_message(status).equals("unknown status"), "" + status);
    }
    assertEquals("unknown status", AmalgamNative.amalgam_status_message(Integer.MIN_VALUE));
    assertEquals("unknown status", AmalgamNative.amalgam_status_message(1));
    KernelException e = new KernelException("convert", -3, "unsupported element type");
    assertTrue(e.getMessage().contains("convert") && e.getMessage().contains("status -3"));
  }

  @Test
  @Drives({
    "amalgam_cuda_attach",
    "amalgam_cuda_device_count",
    "amalgam_cuda_device_info",
    "amalgam_cuda_last_error",
    "amalgam_cuda_error_name",
    "amalgam_cuda_error_string",
    "amalgam_cuda_set_staging_bytes",
    "amalgam_cuda_device_convert",
    "amalgam_cuda_device_weighted_sum",
    "amalgam_cuda_device_dot3",
    "amalgam_cuda_malloc",
    "amalgam_cuda_free",
    "amalgam_cuda_copy",
    "amalgam_cuda_synchronize",
    "amalgam_cuda_set_pipelining"
  })
  void cudaFunctionsRefuseBadArgumentsWithAStatus() {
    boolean attached = dev.amalgam.kernels.jni.CudaLibrary.isAttached();
    refusedWith(AmalgamNative.amalgam_cuda_attach(0), -1, "attach of address 0");
    int[] one = new int[1];
    int[] error = new int[1];
    refusedWith(AmalgamNative.amalgam_cuda_device_count(null, error), -1, "count without a count");
    int counted = AmalgamNative.amalgam_cuda_device_count(one, error);
    assertEquals(attached ? 0 : -11, counted, "device count");
    byte[] name = new byte[64];
    long[] memory = new long[2];
    int[] numbers = new int[6];
    refusedWith(
        AmalgamNative.amalgam_cuda_device_info(0, null, 64, memory, numbers, error), -1, "no name");
    refusedWith(
        AmalgamNative.amalgam_cuda_device_info(-1, name, 64, memory, numbers, error),
        -9,
        "device -1");
    refusedWith(
        AmalgamNative.amalgam_cuda_device_info(0, name, 0, memory, numbers, error),
        -9,
        "no room for the name");
    int noCuda = -11;
    refusedWith(
        AmalgamNative.amalgam_cuda_set_staging_bytes(1), attached ? -9 : noCuda, "1-byte staging");
    long[] inputs = {4096, 8192};
    int[] types = {2, 2};
    float[] c = {0.5f, 0.5f};
    refusedWith(
        AmalgamNative.amalgam_cuda_device_weighted_sum(0, 0, 0, inputs, types, c, 4096, 2, 8),
        attached ? -4 : noCuda,
        "no inputs");
    refusedWith(
        AmalgamNative.amalgam_cuda_device_weighted_sum(0, 0, 33, inputs, types, c, 4096, 2, 8),
        attached ? -4 : noCuda,
        "33 inputs");
    refusedWith(
        AmalgamNative.amalgam_cuda_device_weighted_sum(0, 0, 2, inputs, types, c, 4096, 2, -1),
        attached ? -2 : noCuda,
        "negative count");
    refusedWith(
        AmalgamNative.amalgam_cuda_device_weighted_sum(
            0, 0, 2, new long[] {4096, 0}, types, c, 4096, 2, 8),
        attached ? -1 : noCuda,
        "null input");
    refusedWith(
        AmalgamNative.amalgam_cuda_device_weighted_sum(
            0, 0, 2, inputs, new int[] {2, 7}, c, 4096, 2, 8),
        attached ? -3 : noCuda,
        "bad dtype");
    refusedWith(
        AmalgamNative.amalgam_cuda_device_convert(-1, 0, 4096, 2, 8192, 0, 8),
        attached ? -9 : noCuda,
        "device -1");
    refusedWith(
        AmalgamNative.amalgam_cuda_device_convert(0, 0, 0, 2, 8192, 0, 8),
        attached ? -1 : noCuda,
        "null source");
    double[] sums = {1, 2, 3};
    int empty = AmalgamNative.amalgam_cuda_device_dot3(0, 0, 0, 2, 0, 2, 0, sums);
    if (attached) {
      assertEquals(0, empty, "an empty dot3 needs no device");
      assertArrayEquals(new double[] {0, 0, 0}, sums);
    } else {
      refusedWith(empty, noCuda, "dot3 without CUDA");
    }
    refusedWith(
        AmalgamNative.amalgam_cuda_device_dot3(0, 0, 4096, 2, 8192, 9, 8, sums),
        attached ? -3 : noCuda,
        "bad dtype");
    long[] address = {7};
    refusedWith(
        AmalgamNative.amalgam_cuda_malloc(0, 0, address), attached ? -9 : noCuda, "0 bytes");
    refusedWith(
        AmalgamNative.amalgam_cuda_malloc(0, 8, null), attached ? -1 : noCuda, "no address");
    refusedWith(AmalgamNative.amalgam_cuda_free(-1, 4096), attached ? -9 : noCuda, "device -1");
    assertEquals(attached ? 0 : noCuda, AmalgamNative.amalgam_cuda_free(0, 0), "free of 0");
    refusedWith(
        AmalgamNative.amalgam_cuda_copy(0, 0, 4096, 8192, 8, 4), attached ? -9 : noCuda, "kind 4");
    refusedWith(
        AmalgamNative.amalgam_cuda_copy(0, 0, 4096, 8192, -8, 3),
        attached ? -2 : noCuda,
        "negative bytes");
    refusedWith(
        AmalgamNative.amalgam_cuda_copy(0, 0, 0, 8192, 8, 3), attached ? -1 : noCuda, "null dst");
    refusedWith(AmalgamNative.amalgam_cuda_synchronize(-2, 0), attached ? -9 : noCuda, "device -2");
    if (!attached) {
      refusedWith(AmalgamNative.amalgam_cuda_set_pipelining(1), noCuda, "pipelining");
    } else {
      assertEquals(0, AmalgamNative.amalgam_cuda_set_pipelining(1));
    }
    // names of CUDA errors, whether or not the library is attached
    assertFalse(AmalgamNative.amalgam_cuda_error_name(35).isEmpty());
    assertFalse(AmalgamNative.amalgam_cuda_error_string(35).isEmpty());
    AmalgamNative.amalgam_cuda_last_error();
    // a CUDA isa value without a usable device is refused like an ISA beyond this CPU
    if (KernelTestSupport.usableCudaDevices().isEmpty()) {
      refusedWith(
          AmalgamNative.amalgam_convert(64, 4096, 2, 8192, 0, 8, 0), -5, "cuda:0 without a device");
    }
  }

  @Test
  @Drives("amalgam_convert")
  void convert() {
    ByteBuffer src = elements(DType.F32, N), dst = elements(DType.BF16, N);
    rejects(
        NullPointerException.class,
        "src",
        "null src",
        k -> k.convert(null, DType.F32, dst, DType.BF16, N));
    rejects(
        NullPointerException.class,
        "dst",
        "null dst",
        k -> k.convert(src, DType.F32, null, DType.BF16, N));
    rejects(
        NullPointerException.class,
        "type",
        "null type",
        k -> k.convert(src, null, dst, DType.BF16, N));
    rejects("negative", "n = -1", k -> k.convert(src, DType.F32, dst, DType.BF16, -1));
    rejects(
        "overflow",
        "n = Long.MAX_VALUE",
        k -> k.convert(src, DType.F32, dst, DType.BF16, Long.MAX_VALUE));
    rejects(
        "remaining",
        "n = Integer.MAX_VALUE + 1",
        k -> k.convert(src, DType.F32, dst, DType.BF16, 1L << 31));
    rejects(
        "read-only",
        "read-only dst",
        k -> k.convert(src, DType.F32, dst.asReadOnlyBuffer(), DType.BF16, N));
    rejects("kernel type", "I8 src", k -> k.convert(src, DType.I8, dst, DType.BF16, N));
    // Codes Java cannot produce are refused by the library before it reads any pointer.
    int best = AmalgamNative.amalgam_isa_best();
    refusedWith(AmalgamNative.amalgam_convert(best, 0, 9, 0, 0, 1, 0), -3, "dtype 9");
    refusedWith(AmalgamNative.amalgam_convert(best, 0, 0, 0, -1, 1, 0), -3, "dtype -1");
    refusedWith(AmalgamNative.amalgam_convert(best + 1, 0, 0, 0, 0, 1, 0), -5, "isa best + 1");
    refusedWith(AmalgamNative.amalgam_convert(-2, 0, 0, 0, 0, 1, 0), -5, "isa -2");
    refusedWith(AmalgamNative.amalgam_convert(best, 0, 0, 0, 0, Long.MIN_VALUE, 0), -2, "n min");
    refusedWith(AmalgamNative.amalgam_convert(best, 0, 0, 0, 0, 1, 0), -1, "null addresses");
  }

  @Test
  @Drives("amalgam_weighted_sum")
  void weightedSum() {
    ByteBuffer a = elements(DType.BF16, N), out = elements(DType.F32, N);
    ByteBuffer[] one = {a};
    DType[] bf16 = {DType.BF16};
    float[] c = {1f};
    rejects(
        NullPointerException.class,
        "inputs",
        "null inputs",
        k -> k.weightedSum(null, bf16, c, out, DType.F32, N));
    rejects(
        NullPointerException.class,
        "coefficients",
        "null coefficients",
        k -> k.weightedSum(one, bf16, null, out, DType.F32, N));
    rejects(
        NullPointerException.class,
        "inputs[0]",
        "null input",
        k -> k.weightedSum(new ByteBuffer[] {null}, bf16, c, out, DType.F32, N));
    rejects(
        NullPointerException.class,
        "inputs[0] type",
        "null input type",
        k -> k.weightedSum(one, new DType[] {null}, c, out, DType.F32, N));
    rejects(
        "overflow",
        "n = Long.MAX_VALUE",
        k -> k.weightedSum(one, bf16, c, out, DType.F32, Long.MAX_VALUE));
    // 70 inputs, one of them a byte short: the check covers every input of a >64-input sum.
    ByteBuffer[] many = new ByteBuffer[70];
    DType[] types = new DType[70];
    float[] cs = new float[70];
    Arrays.fill(many, a);
    Arrays.fill(types, DType.BF16);
    many[69] = a.duplicate().limit(a.capacity() - 1);
    rejects(
        "inputs[69]",
        "70 inputs, the last short",
        k -> k.weightedSum(many, types, cs, out, DType.F32, N));
    int best = AmalgamNative.amalgam_isa_best();
    long[] addresses = {0};
    int[] codes = {7};
    float[] coefficients = {1f};
    refusedWith(
        AmalgamNative.amalgam_weighted_sum(best, 1, addresses, codes, coefficients, 0, 0, 1, 0),
        -3,
        "dtype 7");
    refusedWith(
        AmalgamNative.amalgam_weighted_sum(
            best, 0, addresses, new int[] {0}, coefficients, 0, 0, 1, 0),
        -4,
        "count 0");
    refusedWith(
        AmalgamNative.amalgam_weighted_sum(best, 1, null, new int[] {0}, coefficients, 0, 0, 1, 0),
        -1,
        "null table");
  }

  @Test
  @Drives("amalgam_dot3")
  void dot3() {
    ByteBuffer x = elements(DType.F16, N);
    rejects(
        NullPointerException.class, "x", "null x", k -> k.dot3(null, DType.F16, x, DType.F16, N));
    rejects("negative", "n = -5", k -> k.dot3(x, DType.F16, x, DType.F16, -5));
    rejects(
        "overflow", "n = Long.MAX_VALUE", k -> k.dot3(x, DType.F16, x, DType.F16, Long.MAX_VALUE));
    rejects("kernel type", "F64", k -> k.dot3(x, DType.F64, x, DType.F16, 1));
    int best = AmalgamNative.amalgam_isa_best();
    refusedWith(AmalgamNative.amalgam_dot3(best, 0, 0, 0, 0, 1, null), -1, "null result");
    refusedWith(AmalgamNative.amalgam_dot3(best, 0, 3, 0, 0, 1, new double[3]), -3, "dtype 3");
  }

  @Test
  @Drives("amalgam_quantize_q8_0")
  void quantizeQ8_0() {
    ByteBuffer src = elements(DType.F32, 64), dst = direct(2 * 34);
    rejects("whole number", "n = 33", k -> k.quantizeQ8_0(src, DType.F32, dst, 33));
    rejects("whole number", "n = 1", k -> k.quantizeQ8_0(src, DType.F32, dst, 1));
    rejects("negative", "n = -32", k -> k.quantizeQ8_0(src, DType.F32, dst, -32));
    rejects(
        "overflow",
        "n near Long.MAX_VALUE",
        k -> k.quantizeQ8_0(src, DType.F32, dst, Long.MAX_VALUE / 32 * 32));
    rejects(
        "need",
        "dst a byte short",
        k -> k.quantizeQ8_0(src, DType.F32, dst.duplicate().limit(67), 64));
    rejects(
        "need",
        "src a byte short",
        k -> k.quantizeQ8_0(src.duplicate().limit(255), DType.F32, dst, 64));
    rejects(
        "read-only",
        "read-only dst",
        k -> k.quantizeQ8_0(src, DType.F32, dst.asReadOnlyBuffer(), 64));
    rejects("kernel type", "U8 src", k -> k.quantizeQ8_0(src, DType.U8, dst, 64));
    rejects(
        NullPointerException.class,
        "dst",
        "null dst",
        k -> k.quantizeQ8_0(src, DType.F32, null, 64));
    int best = AmalgamNative.amalgam_isa_best();
    refusedWith(AmalgamNative.amalgam_quantize_q8_0(best, 0, 0, 0, 31), -8, "31 elements");
    refusedWith(AmalgamNative.amalgam_quantize_q8_0(best, 0, 5, 0, 32), -3, "dtype 5");
  }

  @Test
  @Drives("amalgam_dequantize")
  void dequantize() {
    ByteBuffer q8 = direct(2 * 34), q4 = direct(2 * 18), dst = elements(DType.BF16, 64);
    rejects("whole number", "n = 48", k -> k.dequantize(q8, BlockFormat.Q8_0, dst, DType.BF16, 48));
    rejects("negative", "n = -64", k -> k.dequantize(q8, BlockFormat.Q8_0, dst, DType.BF16, -64));
    rejects(
        "remaining",
        "n near Long.MAX_VALUE",
        k -> k.dequantize(q4, BlockFormat.Q4_0, dst, DType.BF16, Long.MAX_VALUE / 32 * 32));
    rejects(
        "need",
        "Q4_0 src a byte short",
        k -> k.dequantize(q4.duplicate().limit(35), BlockFormat.Q4_0, dst, DType.BF16, 64));
    rejects(
        "need",
        "dst a byte short",
        k -> k.dequantize(q8, BlockFormat.Q8_0, dst.duplicate().limit(127), DType.BF16, 64));
    rejects(
        "read-only",
        "read-only dst",
        k -> k.dequantize(q8, BlockFormat.Q8_0, dst.asReadOnlyBuffer(), DType.BF16, 64));
    rejects(
        NullPointerException.class,
        "format",
        "null format",
        k -> k.dequantize(q8, null, dst, DType.BF16, 64));
    int best = AmalgamNative.amalgam_isa_best();
    refusedWith(AmalgamNative.amalgam_dequantize(best, 0, 3, 0, 0, 32), -3, "format 3");
    refusedWith(AmalgamNative.amalgam_dequantize(best, 0, 8, 0, 0, 40), -8, "40 elements");
  }

  @Test
  @Drives({"amalgam_magnitude_histogram_high", "amalgam_magnitude_histogram_low"})
  void magnitudeHistograms() {
    float[] v = new float[N];
    long[] h = new long[BUCKETS];
    rejects(
        "counters",
        "histogram one short",
        k -> k.magnitudeHistogramHigh(v, N, new long[BUCKETS - 1]));
    rejects(
        "counters",
        "histogram one long",
        k -> k.magnitudeHistogramLow(v, N, 0, new long[BUCKETS + 1]));
    rejects("counters", "empty histogram", k -> k.magnitudeHistogramHigh(v, 0, new long[0]));
    rejects("needed", "n past the values", k -> k.magnitudeHistogramHigh(v, N + 1, h));
    rejects("negative", "n = -1", k -> k.magnitudeHistogramLow(v, -1, 0, h));
    rejects("bucket", "high = 65536", k -> k.magnitudeHistogramLow(v, N, BUCKETS, h));
    rejects("bucket", "high = -1", k -> k.magnitudeHistogramLow(v, N, -1, h));
    rejects(
        NullPointerException.class,
        "values",
        "null values",
        k -> k.magnitudeHistogramHigh(null, 0, h));
    rejects(
        NullPointerException.class,
        "histogram",
        "null histogram",
        k -> k.magnitudeHistogramLow(v, 0, 0, null));
    refusedWith(
        AmalgamNative.amalgam_magnitude_histogram_low(0, v, 1, BUCKETS, h),
        -9,
        "native high = 65536");
    refusedWith(AmalgamNative.amalgam_magnitude_histogram_high(0, v, -1, h), -2, "native n = -1");
  }

  @Test
  @Drives("amalgam_task_vector")
  void taskVector() {
    ByteBuffer x = elements(DType.BF16, N);
    float[] b = new float[N], d = new float[N];
    rejects(
        "needed",
        "b one short",
        k -> k.taskVector(x, DType.BF16, DType.BF16, new float[N - 1], d, N));
    rejects(
        "needed",
        "d one short",
        k -> k.taskVector(x, DType.BF16, DType.BF16, b, new float[N - 1], N));
    rejects(
        "remaining",
        "x a byte short",
        k -> k.taskVector(x.duplicate().limit(2 * N - 1), DType.BF16, DType.BF16, b, d, N));
    rejects("negative", "n = -1", k -> k.taskVector(x, DType.BF16, DType.BF16, b, d, -1));
    rejects("kernel type", "round to I32", k -> k.taskVector(x, DType.BF16, DType.I32, b, d, N));
    rejects("kernel type", "x as F8", k -> k.taskVector(x, DType.F8_E5M2, DType.BF16, b, d, N));
    rejects(
        NullPointerException.class,
        "x",
        "null x",
        k -> k.taskVector(null, DType.BF16, DType.BF16, b, d, N));
    rejects(
        NullPointerException.class,
        "d",
        "null d",
        k -> k.taskVector(x, DType.BF16, DType.BF16, b, null, N));
    refusedWith(
        AmalgamNative.amalgam_task_vector(0, 0, 0, 11, b, 1, d), -3, "native round dtype 11");
    refusedWith(AmalgamNative.amalgam_task_vector(0, 0, 0, 0, b, 1, d), -1, "native null x");
  }

  @Test
  @Drives("amalgam_magnitude_mask")
  void magnitudeMask() {
    float[] v = new float[N];
    long[] seen = new long[2];
    rejects("counters", "one counter", k -> k.magnitudeMask(v, N, 0, 0, 0, 0, new long[1]));
    rejects("negative", "keepEqual = -1", k -> k.magnitudeMask(v, N, 0, -1, 0, 0, seen));
    rejects(
        "negative",
        "dropEqual = Long.MIN_VALUE",
        k -> k.magnitudeMask(v, N, 0, 0, 0, Long.MIN_VALUE, seen));
    rejects("needed", "n past the values", k -> k.magnitudeMask(v, N + 1, 0, 0, 0, 0, seen));
    rejects("negative", "n = -1", k -> k.magnitudeMask(v, -1, 0, 0, 0, 0, seen));
    rejects(
        NullPointerException.class,
        "seen",
        "null seen",
        k -> k.magnitudeMask(v, N, 0, 0, 0, 0, null));
    refusedWith(
        AmalgamNative.amalgam_magnitude_mask(0, v, 1, 0, -1, 0, 0, seen),
        -9,
        "native keepEqual -1");
    refusedWith(
        AmalgamNative.amalgam_magnitude_mask(0, v, 1, 0, 0, 0, 0, null), -1, "native null seen");
  }

  @Test
  @Drives({
    "amalgam_sce_variance_keys",
    "amalgam_sce_histogram_high",
    "amalgam_sce_histogram_low",
    "amalgam_sce_square_sums",
    "amalgam_sce_merge"
  })
  void sce() {
    float[] x = new float[2 * N], b = new float[N], out = new float[N];
    int[] keys = new int[N];
    long[] h = new long[BUCKETS], nz = new long[1], seen = new long[1];
    double[] sums = new double[2], w = new double[2];
    rejects("need", "x one short", k -> k.sceVarianceKeys(new float[2 * N - 1], N, 2, b, N, keys));
    rejects("needed", "base one short", k -> k.sceVarianceKeys(x, N, 2, new float[N - 1], N, keys));
    rejects("needed", "keys one short", k -> k.sceVarianceKeys(x, N, 2, b, N, new int[N - 1]));
    rejects("stride", "stride below n", k -> k.sceHistogramHigh(x, N - 1, 2, b, N, h, nz, null));
    rejects("models", "no models", k -> k.sceMerge(x, N, 0, b, null, N, -1, 0, seen, w, out));
    rejects("negative", "n = -1", k -> k.sceVarianceKeys(x, N, 2, b, -1, keys));
    rejects(
        "counters",
        "histogram one short",
        k -> k.sceHistogramLow(x, N, 2, b, N, 0, new long[BUCKETS - 1]));
    rejects("bucket", "high = 65536", k -> k.sceHistogramLow(x, N, 2, b, N, BUCKETS, h));
    rejects("bucket", "high = -1", k -> k.sceHistogramLow(x, N, 2, b, N, -1, h));
    rejects(
        "nonzero",
        "no nonzero counter",
        k -> k.sceHistogramHigh(x, N, 2, b, N, h, new long[0], null));
    rejects(
        "negative", "equalKept = -1", k -> k.sceSquareSums(x, N, 2, b, null, N, 0, -1, seen, sums));
    rejects(
        "seen", "no counter", k -> k.sceSquareSums(x, N, 2, b, null, N, 0, 0, new long[0], sums));
    rejects(
        "sums",
        "one sum for two models",
        k -> k.sceSquareSums(x, N, 2, b, null, N, 0, 0, seen, new double[1]));
    rejects(
        "weights",
        "one weight for two models",
        k -> k.sceMerge(x, N, 2, b, null, N, 0, 0, seen, new double[1], out));
    rejects(
        "needed",
        "out one short",
        k -> k.sceMerge(x, N, 2, b, null, N, 0, 0, seen, w, new float[N - 1]));
    rejects(
        "needed",
        "kept keys one short",
        k -> k.sceMerge(x, N, 2, b, new int[N - 1], N, 0, 0, seen, w, out));
    rejects(
        "needed",
        "keys out one short",
        k -> k.sceHistogramHigh(x, N, 2, b, N, h, nz, new int[N - 1]));
    rejects("task-vector", "out is x", k -> k.sceMerge(x, N, 1, b, null, N, -1, 0, seen, w, x));
    rejects(
        NullPointerException.class, "x", "null x", k -> k.sceVarianceKeys(null, N, 2, b, N, keys));
    rejects(
        NullPointerException.class,
        "histogram",
        "null histogram",
        k -> k.sceHistogramHigh(x, N, 2, b, N, null, nz, null));
    rejects(
        NullPointerException.class,
        "seen",
        "null seen",
        k -> k.sceMerge(x, N, 2, b, null, N, 0, 0, null, w, out));
    refusedWith(
        AmalgamNative.amalgam_sce_variance_keys(0, 0, x, N, b, 1, keys), -4, "native models 0");
    refusedWith(
        AmalgamNative.amalgam_sce_histogram_high(0, 2, x, 1, b, 2, h, nz, null),
        -9,
        "native stride below n");
    refusedWith(
        AmalgamNative.amalgam_sce_histogram_low(0, 1, x, N, b, 1, BUCKETS, h),
        -9,
        "native high 65536");
    refusedWith(
        AmalgamNative.amalgam_sce_square_sums(0, 1, x, N, b, null, 1, 0, -1, seen, sums),
        -9,
        "native equalKept -1");
    refusedWith(
        AmalgamNative.amalgam_sce_merge(0, 1, x, N, b, null, 1, 0, 0, null, w, out),
        -1,
        "native null seen");
  }

  @Test
  @Drives({"amalgam_philox_uniforms", "amalgam_philox_keep"})
  void philox() {
    float[] v = new float[N];
    rejects("negative first", "first = -1", k -> k.philoxUniforms(1, 2, -1, v, N));
    rejects(
        "overflow",
        "first + n overflows",
        k -> k.philoxUniforms(1, 2, Long.MAX_VALUE - N + 1, v, N));
    rejects(
        "overflow",
        "keep: first + n overflows",
        k -> k.bernoulliKeep(1, 2, Long.MAX_VALUE, 0.5, v, 1));
    rejects("needed", "n past the values", k -> k.bernoulliKeep(1, 2, 0, 0.5, v, N + 1));
    rejects("negative", "n = -1", k -> k.philoxUniforms(1, 2, 0, v, -1));
    rejects(
        NullPointerException.class, "values", "null out", k -> k.philoxUniforms(1, 2, 0, null, 0));
    // Any seed is valid, and p outside [0, 1] or NaN has a defined meaning (amalgam.h point 8):
    // keep
    // nothing for NaN and p <= 0, everything for p >= 1, the same on every path as in Java.
    for (double p : new double[] {Double.NaN, -0.0, -1, 1, 2, Double.POSITIVE_INFINITY}) {
      for (Kernels k : paths) {
        float[] kept = new float[N];
        Arrays.fill(kept, 1.5f);
        k.bernoulliKeep(Long.MIN_VALUE, -1, Long.MAX_VALUE - N, p, kept, N);
        float want = p >= 1 ? 1.5f : 0f;
        for (float f : kept) assertEquals(want, f, k.description() + ": p = " + p);
      }
    }
    refusedWith(AmalgamNative.amalgam_philox_uniforms(0, 0, 0, -1, 1, v), -2, "native first -1");
    refusedWith(
        AmalgamNative.amalgam_philox_keep(0, 0, 0, Long.MAX_VALUE, 2, 0.5, v),
        -9,
        "native overflow");
  }

  @Test
  @Drives("amalgam_gram")
  void gram() {
    ByteBuffer x = direct(4L * N);
    DType[] f32 = {DType.F32};
    rejects(
        "inputs",
        "no input",
        k -> k.gram(new ByteBuffer[0], new DType[0], null, null, N, new double[1]));
    rejects(
        "bytes",
        "short input",
        k -> k.gram(new ByteBuffer[] {x}, f32, null, null, N + 1, new double[1]));
    rejects(
        "acc",
        "short acc",
        k ->
            k.gram(
                new ByteBuffer[] {x, x},
                new DType[] {DType.F32, DType.F32},
                null,
                null,
                N,
                new double[2]));
    rejects(
        NullPointerException.class,
        "acc",
        "null acc",
        k -> k.gram(new ByteBuffer[] {x}, f32, null, null, N, null));
    long address = AmalgamNative.amalgam_address_of(x);
    double[] acc = new double[3];
    refusedWith(
        AmalgamNative.amalgam_gram(0, 0, new long[] {address}, new int[] {0}, 0, 0, 4, acc),
        -4,
        "native no input");
    refusedWith(
        AmalgamNative.amalgam_gram(0, 65, new long[65], new int[65], 0, 0, 4, acc),
        -4,
        "native 65 inputs");
    refusedWith(
        AmalgamNative.amalgam_gram(0, 1, new long[] {address}, new int[] {7}, 0, 0, 4, acc),
        -3,
        "native bad dtype");
    refusedWith(
        AmalgamNative.amalgam_gram(0, 1, new long[] {0}, new int[] {0}, 0, 0, 4, acc),
        -1,
        "native null input");
    refusedWith(
        AmalgamNative.amalgam_gram(0, 1, new long[] {address}, new int[] {0}, address, 9, 4, acc),
        -3,
        "native bad base dtype");
  }

  @Test
  @Drives("amalgam_della_mask")
  void dellaMask() {
    float[] v = new float[N];
    long[] keys = new long[3 * N];
    float[] u = new float[N];
    rejects("negative first", "first = -1", k -> k.dellaMask(1, 2, -1, 0.5, 0.1, v, N, N, keys, u));
    rejects("whole rows", "partial row", k -> k.dellaMask(1, 2, 0, 0.5, 0.1, v, N, N - 1, keys, u));
    rejects("whole rows", "row 0", k -> k.dellaMask(1, 2, 0, 0.5, 0.1, v, N, 0, keys, u));
    rejects(
        "keys", "short keys", k -> k.dellaMask(1, 2, 0, 0.5, 0.1, v, N, N, new long[3 * N - 1], u));
    rejects(
        "uniforms",
        "short uniforms",
        k -> k.dellaMask(1, 2, 0, 0.5, 0.1, v, N, N, keys, new float[N - 1]));
    rejects(
        "needed", "n past the values", k -> k.dellaMask(1, 2, 0, 0.5, 0.1, v, N + 1, 1, keys, u));
    rejects(
        NullPointerException.class,
        "keys",
        "null keys",
        k -> k.dellaMask(1, 2, 0, 0.5, 0.1, v, N, N, null, u));
    refusedWith(
        AmalgamNative.amalgam_della_mask(0, 0, 0, 0, 6, 4, 0.5, 0.1, v, keys, u),
        -9,
        "native partial row");
    refusedWith(
        AmalgamNative.amalgam_della_mask(0, 0, 0, -1, 4, 4, 0.5, 0.1, v, keys, u),
        -2,
        "native first -1");
    refusedWith(
        AmalgamNative.amalgam_della_mask(0, 0, 0, 0, 4, 0, 0.5, 0.1, v, keys, u),
        -9,
        "native row 0");
  }

  @Test
  @Drives({"amalgam_disjoint_merge", "amalgam_plain_merge"})
  void merges() {
    float[] w = new float[2 * N], weights = {1f, 1f}, base = new float[N], out = new float[N];
    rejects("stride", "stride < n", k -> k.plainMerge(w, N - 1, 2, N, 1f, base, 1f, out));
    rejects(
        "need", "w one short", k -> k.plainMerge(new float[2 * N - 1], N, 2, N, 1f, base, 1f, out));
    rejects(
        "need",
        "models * stride past w",
        k -> k.disjointMerge(w, N, 3, new float[3], N, true, base, 1f, out));
    rejects(
        "need",
        "stride near Integer.MAX_VALUE",
        k -> k.disjointMerge(w, Integer.MAX_VALUE, 2, weights, N, false, base, 1f, out));
    rejects("models", "0 models", k -> k.plainMerge(w, N, 0, N, 1f, base, 1f, out));
    rejects("models", "-1 models", k -> k.disjointMerge(w, N, -1, weights, N, true, base, 1f, out));
    rejects(
        "weights",
        "1 weight for 2 models",
        k -> k.disjointMerge(w, N, 2, new float[1], N, true, base, 1f, out));
    rejects(
        "needed", "base one short", k -> k.plainMerge(w, N, 2, N, 1f, new float[N - 1], 1f, out));
    rejects(
        "needed",
        "out one short",
        k -> k.disjointMerge(w, N, 2, weights, N, true, base, 1f, new float[N - 1]));
    rejects("negative", "n = -1", k -> k.plainMerge(w, N, 2, -1, 1f, base, 1f, out));
    rejects("must not be", "out is w", k -> k.plainMerge(w, N, 1, N, 1f, base, 1f, w));
    rejects(
        NullPointerException.class,
        "weights",
        "null weights",
        k -> k.disjointMerge(w, N, 2, null, N, true, base, 1f, out));
    rejects(
        NullPointerException.class,
        "base",
        "null base",
        k -> k.plainMerge(w, N, 2, N, 1f, null, 1f, out));
    refusedWith(
        AmalgamNative.amalgam_plain_merge(0, 2, w, Long.MAX_VALUE, 1, 1f, base, 1f, out),
        -9,
        "native stride overflow");
    refusedWith(
        AmalgamNative.amalgam_disjoint_merge(0, 1, w, 0, weights, 1, 0, base, 1f, out),
        -9,
        "native stride < n");
    refusedWith(
        AmalgamNative.amalgam_disjoint_merge(0, 0, w, 1, weights, 1, 0, base, 1f, out),
        -4,
        "native 0 models");
  }

  @Test
  @Drives("amalgam_count_nonfinite")
  void countNonFinite() {
    ByteBuffer x = elements(DType.BF16, N);
    rejects(
        NullPointerException.class,
        "src",
        "null src",
        k -> k.countNonFinite(null, DType.BF16, N, new long[2]));
    rejects(
        NullPointerException.class,
        "counts",
        "null counts",
        k -> k.countNonFinite(x, DType.BF16, N, null));
    rejects("negative", "n = -1", k -> k.countNonFinite(x, DType.BF16, -1, new long[2]));
    rejects(
        "overflow",
        "n = Long.MAX_VALUE",
        k -> k.countNonFinite(x, DType.BF16, Long.MAX_VALUE, new long[2]));
    rejects("remaining", "n past the buffer", k -> k.countNonFinite(x, DType.F32, N, new long[2]));
    rejects("kernel type", "I8", k -> k.countNonFinite(x, DType.I8, 1, new long[2]));
    rejects("counts", "one counter", k -> k.countNonFinite(x, DType.BF16, 1, new long[1]));
    int best = AmalgamNative.amalgam_isa_best();
    refusedWith(AmalgamNative.amalgam_count_nonfinite(best, 0, 2, 1, null), -1, "null counts");
    refusedWith(AmalgamNative.amalgam_count_nonfinite(best, 0, 2, 1, new long[2]), -1, "src 0");
    refusedWith(AmalgamNative.amalgam_count_nonfinite(best, 0, 7, 1, new long[2]), -3, "dtype 7");
    refusedWith(AmalgamNative.amalgam_count_nonfinite(best, 0, 2, -1, new long[2]), -2, "n = -1");
    refusedWith(
        AmalgamNative.amalgam_count_nonfinite(best + 1, 0, 2, 1, new long[2]), -5, "isa past best");
  }

  @Test
  @Drives({
    "amalgam_fusion_histogram_high",
    "amalgam_fusion_histogram_low",
    "amalgam_fusion_select"
  })
  void fusion() {
    ByteBuffer a = elements(DType.BF16, N);
    ByteBuffer b = elements(DType.F32, N);
    ByteBuffer out = elements(DType.F16, N);
    float[] kl = new float[10]; // rows of 10: exactly N elements
    long[] h = new long[BUCKETS];
    int[] buckets = {1, 2};
    long[] lows = new long[2 * BUCKETS];
    rejects(
        "KL values",
        "a row past kl",
        k -> k.fusionHistogramHigh(a, DType.BF16, b, DType.F32, N, 1, 10, kl, h));
    rejects(
        "KL values",
        "rows of 9",
        k -> k.fusionHistogramHigh(a, DType.BF16, b, DType.F32, N, 0, 9, kl, h));
    rejects(
        "row length",
        "rows of 0",
        k -> k.fusionHistogramHigh(a, DType.BF16, b, DType.F32, N, 0, 0, kl, h));
    rejects(
        "negative first",
        "first = -1",
        k -> k.fusionSelect(a, DType.BF16, b, DType.F32, N, -1, 10, kl, 0f, out, DType.F16));
    rejects(
        "overflow",
        "first + n overflows",
        k -> k.fusionHistogramHigh(a, DType.BF16, b, DType.F32, N, Long.MAX_VALUE - 1, 10, kl, h));
    rejects(
        "negative",
        "n = -1",
        k -> k.fusionHistogramHigh(a, DType.BF16, b, DType.F32, -1, 0, 10, kl, h));
    rejects(
        "remaining",
        "b read as F32 past its end",
        k -> k.fusionHistogramHigh(a, DType.BF16, a, DType.F32, N, 0, 10, kl, h));
    rejects(
        "kernel type",
        "a as I32",
        k -> k.fusionHistogramHigh(a, DType.I32, b, DType.F32, 1, 0, 10, kl, h));
    rejects(
        "counters",
        "histogram one short",
        k ->
            k.fusionHistogramHigh(
                a, DType.BF16, b, DType.F32, N, 0, 10, kl, new long[BUCKETS - 1]));
    rejects(
        "bucket",
        "bucket 65536",
        k ->
            k.fusionHistogramLow(
                a, DType.BF16, b, DType.F32, N, 0, 10, kl, new int[] {BUCKETS, 0}, lows));
    rejects(
        "bucket",
        "no bucket",
        k ->
            k.fusionHistogramLow(
                a, DType.BF16, b, DType.F32, N, 0, 10, kl, new int[0], new long[0]));
    rejects(
        "per bucket",
        "histograms for one bucket",
        k -> k.fusionHistogramLow(a, DType.BF16, b, DType.F32, N, 0, 10, kl, buckets, h));
    rejects(
        "remaining",
        "out a byte short",
        k ->
            k.fusionSelect(
                a,
                DType.BF16,
                b,
                DType.F32,
                N,
                0,
                10,
                kl,
                0f,
                out.duplicate().limit(2 * N - 1),
                DType.F16));
    rejects(
        "read-only",
        "read-only out",
        k ->
            k.fusionSelect(
                a, DType.BF16, b, DType.F32, N, 0, 10, kl, 0f, out.asReadOnlyBuffer(), DType.F16));
    rejects(
        NullPointerException.class,
        "kl",
        "null kl",
        k -> k.fusionHistogramHigh(a, DType.BF16, b, DType.F32, N, 0, 10, null, h));
    rejects(
        NullPointerException.class,
        "buckets",
        "null buckets",
        k -> k.fusionHistogramLow(a, DType.BF16, b, DType.F32, N, 0, 10, kl, null, lows));
    int best = AmalgamNative.amalgam_isa_best();
    refusedWith(
        AmalgamNative.amalgam_fusion_histogram_high(best, 0, 2, 0, 2, 11, 0, 10, kl, 1, h),
        -9,
        "native: rows past kl_rows");
    refusedWith(
        AmalgamNative.amalgam_fusion_histogram_high(best, 0, 2, 0, 2, 1, 0, 0, kl, 1, h),
        -9,
        "native: row length 0");
    refusedWith(
        AmalgamNative.amalgam_fusion_histogram_high(best, 0, 2, 0, 2, 1, -1, 1, kl, 1, h),
        -2,
        "native: first -1");
    refusedWith(
        AmalgamNative.amalgam_fusion_histogram_high(best, 0, 2, 0, 2, 1, 0, 1, kl, 1, h),
        -1,
        "native: null a");
    refusedWith(
        AmalgamNative.amalgam_fusion_histogram_low(
            best, 0, 2, 0, 2, 1, 0, 1, kl, 1, 1, new int[] {BUCKETS}, lows),
        -9,
        "native: bucket 65536");
    refusedWith(
        AmalgamNative.amalgam_fusion_histogram_low(
            best, 0, 2, 0, 2, 1, 0, 1, kl, 1, 0, buckets, lows),
        -4,
        "native: no bucket");
    refusedWith(
        AmalgamNative.amalgam_fusion_select(best, 0, 2, 0, 2, 1, 0, 1, kl, 1, 0f, 0, 6),
        -3,
        "native: out dtype 6");
    refusedWith(
        AmalgamNative.amalgam_fusion_select(best + 1, 0, 2, 0, 2, 1, 0, 1, kl, 1, 0f, 0, 2),
        -5,
        "native: isa past best");
  }

  @Test
  @Drives("amalgam_nearswap")
  void nearSwap() {
    ByteBuffer x = elements(DType.BF16, N);
    ByteBuffer out = elements(DType.F32, N);
    rejects(
        "remaining",
        "other read as F32 past its end",
        k -> k.nearSwap(x, DType.BF16, x, DType.F32, 0.5f, out, DType.F32, N));
    rejects(
        "remaining",
        "out a byte short",
        k ->
            k.nearSwap(
                x,
                DType.BF16,
                x,
                DType.BF16,
                0.5f,
                out.duplicate().limit(4 * N - 1),
                DType.F32,
                N));
    rejects(
        "read-only",
        "read-only out",
        k -> k.nearSwap(x, DType.BF16, x, DType.BF16, 0.5f, x.asReadOnlyBuffer(), DType.BF16, N));
    rejects(
        "negative",
        "n = -1",
        k -> k.nearSwap(x, DType.BF16, x, DType.BF16, 0.5f, out, DType.F32, -1));
    rejects(
        "kernel type",
        "out as I8",
        k -> k.nearSwap(x, DType.BF16, x, DType.BF16, 0.5f, out, DType.I8, N));
    rejects(
        NullPointerException.class,
        "base",
        "null base",
        k -> k.nearSwap(null, DType.BF16, x, DType.BF16, 0.5f, out, DType.F32, N));
    int best = AmalgamNative.amalgam_isa_best();
    refusedWith(
        AmalgamNative.amalgam_nearswap(best, 0, 2, 0, 2, 0.5f, 0, 0, -1, 0), -2, "native n = -1");
    refusedWith(
        AmalgamNative.amalgam_nearswap(best, 0, 2, 0, 9, 0.5f, 0, 0, 1, 0), -3, "native dtype 9");
    refusedWith(
        AmalgamNative.amalgam_nearswap(best, 0, 2, 0, 2, 0.5f, 0, 0, 1, 0), -1, "native null base");
    refusedWith(
        AmalgamNative.amalgam_nearswap(best + 1, 0, 2, 0, 2, 0.5f, 0, 0, 1, 0),
        -5,
        "native isa past best");
  }

  @Test
  @Drives({"amalgam_advise", "amalgam_start_writeback", "amalgam_advise_file"})
  void hintsRefuseBadArgumentsWithAStatus(@TempDir Path dir) throws Exception {
    // StoredTensorData and Writeback ignore these statuses on purpose (hints); the library must
    // still refuse bad arguments rather than act on them. No bad advice is given to real memory.
    refusedWith(AmalgamNative.amalgam_advise(0, 4096, 1), -1, "advise at address 0");
    refusedWith(AmalgamNative.amalgam_advise(4096, -1, 1), -2, "advise negative length");
    refusedWith(AmalgamNative.amalgam_advise(4096, 4096, 0), -6, "advice 0");
    refusedWith(AmalgamNative.amalgam_advise(4096, 4096, 99), -6, "advice 99");
    ByteBuffer b = direct(3 * 4096);
    assertEquals(
        0, AmalgamNative.amalgam_advise(AmalgamNative.amalgam_address_of(b), b.capacity(), 1));
    refusedWith(AmalgamNative.amalgam_start_writeback(null, 0, 1), -1, "writeback null path");
    refusedWith(
        AmalgamNative.amalgam_start_writeback(dir.toString(), -1, 1), -2, "writeback offset -1");
    refusedWith(
        AmalgamNative.amalgam_start_writeback(dir.toString(), 0, Long.MIN_VALUE),
        -2,
        "writeback length");
    assertNotEquals(
        0,
        AmalgamNative.amalgam_start_writeback(dir.resolve("missing").toString(), 0, 1),
        "missing file");
    Path file = Files.write(dir.resolve("written"), new byte[10_000]);
    assertEquals(0, AmalgamNative.amalgam_start_writeback(file.toString(), 0, 10_000));
    assertEquals(0, AmalgamNative.amalgam_start_writeback(file.toString(), Long.MAX_VALUE - 1, 1));
    refusedWith(AmalgamNative.amalgam_advise_file(null, 0, 1, 2), -1, "advise_file null path");
    refusedWith(AmalgamNative.amalgam_advise_file(file.toString(), -1, 1, 2), -2, "offset -1");
    refusedWith(AmalgamNative.amalgam_advise_file(file.toString(), 0, -1, 2), -2, "length -1");
    refusedWith(AmalgamNative.amalgam_advise_file(file.toString(), 0, 1, 0), -6, "advice 0");
    assertNotEquals(
        0,
        AmalgamNative.amalgam_advise_file(dir.resolve("missing").toString(), 0, 1, 2),
        "missing file");
    assertEquals(0, AmalgamNative.amalgam_advise_file(file.toString(), 0, 10_000, 2));
    assertEquals(0, AmalgamNative.amalgam_advise_file(file.toString(), 0, 0, 2), "zero length");
  }
}
