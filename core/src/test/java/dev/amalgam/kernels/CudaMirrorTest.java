package dev.amalgam.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CUDA kernels against the CPU kernels (amalgam.h point 10) at the sizes the CUDA issue names:
 * 1, 31, 4096, 2^20 + 7 and 2^28 elements, on random data with NaNs, infinities, signed zeros and
 * subnormals. Bit for bit: the element-wise kernels, the reductions (dot3 keeps the CPU's order),
 * the seeded DARE mask and the histograms. The other kernels meet the Java reference on every CUDA
 * device through {@link KernelTestSupport#implementations()} in the kernel tests.
 *
 * <p>Runs on the first usable CUDA device; without one it is skipped with the reason. {@code
 * -Damalgam.test.mirror=ISA} (e.g. scalar) puts that CPU path in the GPU's place, which checks this
 * test itself on a machine without a GPU.
 */
class CudaMirrorTest {
  private static final long[] SIZES = {1, 31, 4096, (1L << 20) + 7};
  private static final long HUGE = 1L << 28;

  private static Kernels reference;
  private static Kernels underTest;
  private static String name;
  private static int device = -1;

  @BeforeAll
  static void open() {
    Assumptions.assumeTrue(
        dev.amalgam.kernels.jni.NativeLibrary.isLoaded(),
        "native kernels not loaded: " + dev.amalgam.kernels.jni.NativeLibrary.detail());
    reference = Kernels.nativeKernels(NativeKernels.bestIsa(), 2);
    String mirror = System.getProperty("amalgam.test.mirror");
    if (mirror != null && !mirror.isBlank()) {
      Isa isa = Isa.fromLabel(mirror).orElseThrow();
      underTest = Kernels.nativeKernels(isa, 2);
      name = "native " + isa.label() + " (in the GPU's place)";
      return;
    }
    List<CudaDevice> devices = KernelTestSupport.usableCudaDevices();
    Assumptions.assumeTrue(
        !devices.isEmpty(),
        "no usable CUDA device, CUDA mirror tests skipped: "
            + Cuda.probe().problem().orElse("no device is usable (sm_75 or newer, 1 GiB free)"));
    device = devices.get(0).index();
    underTest = Kernels.cuda(device, 2);
    name = devices.get(0).describe();
  }

  @AfterAll
  static void close() {
    if (reference != null) reference.close();
    if (underTest != null) underTest.close();
  }

  /** Random values of a type, a fifth of them special (NaN, +-inf, +-0, subnormal). */
  private static ByteBuffer data(DType type, long n, long seed) {
    ByteBuffer b =
        ByteBuffer.allocateDirect(Math.toIntExact(type.byteCount(n)))
            .order(ByteOrder.LITTLE_ENDIAN);
    SplittableRandom r = new SplittableRandom(seed);
    float[] special = {
      Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1e-40f
    };
    for (long i = 0; i < n; i++) {
      float v =
          r.nextInt(5) == 0
              ? special[r.nextInt(special.length)]
              : (float) (r.nextGaussian() * Math.exp(r.nextInt(-8, 8)));
      if (v != v && r.nextBoolean()) v = Float.intBitsToFloat(0xff812345); // a signalling payload
      JavaKernels.store(b, type, i, v);
    }
    return b;
  }

  private static ByteBuffer empty(DType type, long n) {
    return ByteBuffer.allocateDirect(Math.toIntExact(type.byteCount(n)))
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  private static void assertSameBytes(ByteBuffer want, ByteBuffer got, String what) {
    if (want.mismatch(got) >= 0) {
      int at = want.mismatch(got);
      fail(name + " " + what + ": first different byte " + at);
    }
  }

  @Test
  void convertAndWeightedSumGiveTheCpuBits() {
    for (long n : SIZES) {
      for (DType in : KernelTestSupport.TYPES) {
        ByteBuffer a = data(in, n, n + 1);
        ByteBuffer b = data(DType.BF16, n, n + 2);
        ByteBuffer c = data(DType.F32, n, n + 3);
        for (DType out : KernelTestSupport.TYPES) {
          ByteBuffer want = empty(out, n);
          ByteBuffer got = empty(out, n);
          reference.convert(a, in, want, out, n);
          underTest.convert(a, in, got, out, n);
          assertSameBytes(want, got, "convert " + in + "->" + out + " n " + n);
          ByteBuffer[] inputs = {a, b, c};
          DType[] types = {in, DType.BF16, DType.F32};
          float[] coefficients = {0.3f, -0.7f, 1.25f};
          reference.weightedSum(inputs, types, coefficients, want, out, n);
          underTest.weightedSum(inputs, types, coefficients, got, out, n);
          assertSameBytes(want, got, "weighted sum " + in + "->" + out + " n " + n);
        }
      }
    }
  }

  @Test
  void aSumOfManyInputsGivesTheCpuBits() {
    long n = 4099;
    int count = 40; // more than one CUDA launch takes: the chain continues through f32
    ByteBuffer[] inputs = new ByteBuffer[count];
    DType[] types = new DType[count];
    float[] coefficients = new float[count];
    for (int k = 0; k < count; k++) {
      types[k] = KernelTestSupport.TYPES[k % 3];
      inputs[k] = data(types[k], n, 100 + k);
      coefficients[k] = (float) (k % 7 - 3) / 5f;
    }
    ByteBuffer want = empty(DType.BF16, n);
    ByteBuffer got = empty(DType.BF16, n);
    reference.weightedSum(inputs, types, coefficients, want, DType.BF16, n);
    underTest.weightedSum(inputs, types, coefficients, got, DType.BF16, n);
    assertSameBytes(want, got, "weighted sum of " + count);
  }

  @Test
  void dot3GivesTheCpuSums() {
    for (long n : SIZES) {
      ByteBuffer x = data(DType.BF16, n, 7 * n);
      ByteBuffer y = data(DType.F16, n, 7 * n + 1);
      // without NaNs and infinities the sums are finite and comparable bit for bit
      for (long i = 0; i < n; i++) {
        if (!Float.isFinite(JavaKernels.load(x, DType.BF16, i)))
          JavaKernels.store(x, DType.BF16, i, 1f);
        if (!Float.isFinite(JavaKernels.load(y, DType.F16, i)))
          JavaKernels.store(y, DType.F16, i, -1f);
      }
      Dot3 want = reference.dot3(x, DType.BF16, y, DType.F16, n);
      Dot3 got = underTest.dot3(x, DType.BF16, y, DType.F16, n);
      assertEquals(want, got, name + " dot3 n " + n);
    }
  }

  @Test
  void theSeededDareMaskIsTheSame() {
    for (long n : SIZES) {
      int len = Math.toIntExact(n);
      float[] values = new float[len];
      SplittableRandom r = new SplittableRandom(n);
      for (int i = 0; i < len; i++) values[i] = (float) r.nextGaussian();
      for (double p : new double[] {0.1, 0.5, 0.9}) {
        float[] want = values.clone();
        float[] got = values.clone();
        reference.bernoulliKeep(42, 0x1234_5678_9abcL, 5_000_000_000L, p, want, len);
        underTest.bernoulliKeep(42, 0x1234_5678_9abcL, 5_000_000_000L, p, got, len);
        assertArrayEquals(want, got, name + " DARE mask n " + n + " p " + p);
        float[] u = new float[len];
        float[] v = new float[len];
        reference.philoxUniforms(7, 99, 3, u, len);
        underTest.philoxUniforms(7, 99, 3, v, len);
        assertArrayEquals(u, v, name + " uniforms n " + n);
      }
    }
  }

  @Test
  void histogramsAndCountsAreExact() {
    for (long n : SIZES) {
      int len = Math.toIntExact(n);
      ByteBuffer raw = data(DType.F32, n, 3 * n);
      float[] values = new float[len];
      raw.asFloatBuffer().get(values);
      long[] want = new long[Kernels.MAGNITUDE_BUCKETS];
      long[] got = new long[Kernels.MAGNITUDE_BUCKETS];
      want[5] = got[5] = 11; // the kernels add to what is there
      reference.magnitudeHistogramHigh(values, len, want);
      underTest.magnitudeHistogramHigh(values, len, got);
      assertArrayEquals(want, got, name + " high histogram n " + n);
      long[] counts = new long[2];
      long[] gotCounts = new long[2];
      reference.countNonFinite(raw, DType.F32, n, counts);
      underTest.countNonFinite(raw, DType.F32, n, gotCounts);
      assertArrayEquals(counts, gotCounts, name + " non-finite counts n " + n);
    }
  }

  @Test
  void nearSwapAndQuantizeGiveTheCpuBits() {
    for (long n : SIZES) {
      ByteBuffer a = data(DType.BF16, n, 11 * n);
      ByteBuffer b = data(DType.F16, n, 11 * n + 1);
      ByteBuffer want = empty(DType.BF16, n);
      ByteBuffer got = empty(DType.BF16, n);
      reference.nearSwap(a, DType.BF16, b, DType.F16, 0.01f, want, DType.BF16, n);
      underTest.nearSwap(a, DType.BF16, b, DType.F16, 0.01f, got, DType.BF16, n);
      assertSameBytes(want, got, "nearswap n " + n);
      long blocks = n / 32 * 32;
      if (blocks == 0) continue;
      ByteBuffer q = empty(DType.BF16, blocks * 34 / 32 / 2 + 1);
      ByteBuffer gq = empty(DType.BF16, blocks * 34 / 32 / 2 + 1);
      reference.quantizeQ8_0(a, DType.BF16, q, blocks);
      underTest.quantizeQ8_0(a, DType.BF16, gq, blocks);
      assertSameBytes(q, gq, "q8_0 n " + blocks);
    }
  }

  @Test
  void aQuarterBillionElementsStreamThroughTheStagingBuffers() {
    Assumptions.assumeTrue(
        Runtime.getRuntime().maxMemory() > 4L << 30,
        "2^28 elements need a heap of more than 4 GiB for the references");
    ByteBuffer x = data(DType.BF16, HUGE, 1);
    ByteBuffer y = data(DType.BF16, HUGE, 2);
    ByteBuffer want = empty(DType.BF16, HUGE);
    ByteBuffer got = empty(DType.BF16, HUGE);
    reference.weightedSum(
        new ByteBuffer[] {x, y},
        new DType[] {DType.BF16, DType.BF16},
        new float[] {0.25f, 0.75f},
        want,
        DType.BF16,
        HUGE);
    underTest.weightedSum(
        new ByteBuffer[] {x, y},
        new DType[] {DType.BF16, DType.BF16},
        new float[] {0.25f, 0.75f},
        got,
        DType.BF16,
        HUGE);
    assertSameBytes(want, got, "weighted sum 2^28");
  }

  @Test
  void slerpOnDeviceMemoryGivesTheCpuMergeBits() {
    Assumptions.assumeTrue(device >= 0, "needs a CUDA device (not a CPU path in its place)");
    for (long n : SIZES) {
      ByteBuffer a = data(DType.BF16, n, 13 * n);
      ByteBuffer b = data(DType.BF16, n, 13 * n + 1);
      for (long i = 0; i < n; i++) {
        if (!Float.isFinite(JavaKernels.load(a, DType.BF16, i)))
          JavaKernels.store(a, DType.BF16, i, 0.5f);
        if (!Float.isFinite(JavaKernels.load(b, DType.BF16, i)))
          JavaKernels.store(b, DType.BF16, i, 2f);
      }
      // the CPU merge's SLERP of one tensor: dot3, the coefficients, a weighted sum
      Slerp.Coefficients c =
          Slerp.coefficients(reference.dot3(a, DType.BF16, b, DType.BF16, n), 0.3);
      ByteBuffer want = empty(DType.BF16, n);
      reference.weightedSum(
          new ByteBuffer[] {a, b},
          new DType[] {DType.BF16, DType.BF16},
          new float[] {c.s0(), c.s1()},
          want,
          DType.BF16,
          n);
      long bytes = DType.BF16.byteCount(n);
      try (Cuda.DeviceBuffer da = Cuda.allocate(device, bytes);
          Cuda.DeviceBuffer db = Cuda.allocate(device, bytes);
          Cuda.DeviceBuffer out = Cuda.allocate(device, bytes)) {
        da.upload(a);
        db.upload(b);
        org.bytedeco.javacpp.Pointer pa = new RawPointer(da.address());
        org.bytedeco.javacpp.Pointer pb = new RawPointer(db.address());
        org.bytedeco.javacpp.Pointer po = new RawPointer(out.address());
        Cuda.slerp(device, null, 0.3, pa, DType.BF16, pb, DType.BF16, po, DType.BF16, n);
        Cuda.synchronize(device, 0);
        ByteBuffer got = empty(DType.BF16, n);
        out.download(got);
        assertSameBytes(want, got, "device-memory slerp n " + n);
      }
    }
  }

  /** A JavaCPP pointer at a raw device address, as the CUDA presets' pointers are. */
  private static final class RawPointer extends org.bytedeco.javacpp.Pointer {
    RawPointer(long address) {
      this.address = address;
    }
  }
}
