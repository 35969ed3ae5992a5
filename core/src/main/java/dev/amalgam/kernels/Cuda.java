package dev.amalgam.kernels;

import dev.amalgam.kernels.jni.AmalgamNative;
import dev.amalgam.kernels.jni.CudaLibrary;
import dev.amalgam.tensor.DType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.bytedeco.javacpp.Pointer;

/**
 * The CUDA path: which devices are usable, and kernels over memory that is already on a device.
 *
 * <p>Merges reach CUDA through {@link Kernels#forDevice}. The methods here serve applications that
 * hold device memory themselves: they take device pointers and a CUDA stream, either as raw
 * addresses or as JavaCPP {@link Pointer}s, the base type of every pointer type of the JavaCPP CUDA
 * presets ({@code org.bytedeco:cuda}, e.g. a buffer from {@code cudaMalloc} or a {@code
 * CUstream_st}). Amalgam never loads those presets itself (they link the driver, which a machine
 * without a GPU lacks); it only reads the addresses. The kernels are enqueued on the stream and the
 * call returns without waiting, except {@link #dot3}, which waits for its sums.
 *
 * <p>Results have the CPU kernels' bits (amalgam.h contract point 10). Nothing here can check that
 * a device pointer is valid or large enough: that is the caller's part.
 */
public final class Cuda {
  /**
   * Free device memory below which a device counts as unusable: each kernel thread keeps two 32 MiB
   * staging slots on the device, plus scratch.
   */
  public static final long MIN_FREE_BYTES = 1L << 30;

  /** Most inputs of {@link #weightedSum} on device pointers. */
  public static final int MAX_DEVICE_SUM_INPUTS = 32;

  private static final Object LOCK = new Object();
  private static Probe probe;

  private Cuda() {}

  /**
   * What the one probe of the CUDA runtime found.
   *
   * @param devices the devices, possibly none
   * @param problem why there are none (no CUDA library in this build, no driver, no device), or
   *     empty
   */
  public record Probe(List<CudaDevice> devices, Optional<String> problem) {
    /** Copies the list. */
    public Probe {
      devices = List.copyOf(devices);
      Objects.requireNonNull(problem, "problem");
    }
  }

  /** The devices and the runtime's state, probed once per JVM (free memory is as of that probe). */
  public static Probe probe() {
    synchronized (LOCK) {
      if (probe == null) probe = runProbe();
      return probe;
    }
  }

  /** Whether at least one CUDA device exists (usable or not). */
  public static boolean isAvailable() {
    return !probe().devices().isEmpty();
  }

  /**
   * Device {@code index} as it is now (free memory queried again).
   *
   * @throws DeviceUnavailableException if the CUDA library is not attached
   */
  public static Optional<CudaDevice> device(int index) {
    requireAttached();
    return query(index);
  }

  private static Probe runProbe() {
    if (!CudaLibrary.isAttached()) {
      return new Probe(List.of(), Optional.of(CudaLibrary.status().detail()));
    }
    int[] count = new int[1];
    int[] error = new int[1];
    int status = AmalgamNative.amalgam_cuda_device_count(count, error);
    if (status != 0) {
      return new Probe(List.of(), Optional.of(AmalgamNative.amalgam_status_message(status)));
    }
    if (error[0] != 0) return new Probe(List.of(), Optional.of(explain(error[0])));
    if (count[0] == 0) return new Probe(List.of(), Optional.of("no CUDA device"));
    List<CudaDevice> devices = new ArrayList<>();
    StringBuilder problems = new StringBuilder();
    for (int i = 0; i < count[0]; i++) {
      try {
        query(i).ifPresent(devices::add);
      } catch (KernelException e) {
        problems.append("cuda:").append(i).append(": ").append(e.getMessage()).append("; ");
      }
    }
    return new Probe(
        devices, devices.isEmpty() ? Optional.of(problems.toString().trim()) : Optional.empty());
  }

  private static Optional<CudaDevice> query(int index) {
    byte[] name = new byte[256];
    long[] memory = new long[2];
    int[] numbers = new int[6];
    int[] error = new int[1];
    int status =
        AmalgamNative.amalgam_cuda_device_info(index, name, name.length, memory, numbers, error);
    if (status != 0) {
      if (error[0] == 101) return Optional.empty(); // cudaErrorInvalidDevice: no such index
      throw new KernelException(
          "cuda device info", status, error[0] != 0 ? explain(error[0]) : "status " + status);
    }
    int length = 0;
    while (length < name.length && name[length] != 0) length++;
    return Optional.of(
        new CudaDevice(
            index,
            new String(name, 0, length, StandardCharsets.UTF_8),
            numbers[0],
            numbers[1],
            numbers[2],
            memory[0],
            memory[1],
            numbers[3],
            numbers[4]));
  }

  /** "cudaErrorInsufficientDriver (35): no NVIDIA driver, or one older than the CUDA runtime". */
  static String explain(int error) {
    String hint =
        switch (error) {
          case 35 -> "no NVIDIA driver, or one too old for CUDA 13 (r580 or newer)";
          case 100 -> "no CUDA device";
          case 2 -> "out of device memory";
          case 46 -> "the device is busy or unavailable (exclusive mode?)";
          default -> AmalgamNative.amalgam_cuda_error_string(error);
        };
    return AmalgamNative.amalgam_cuda_error_name(error) + " (" + error + "): " + hint;
  }

  private static void requireAttached() {
    if (!CudaLibrary.isAttached()) {
      throw new DeviceUnavailableException("CUDA unavailable: " + CudaLibrary.status().detail());
    }
  }

  private static void check(String operation, int status) {
    NativeKernels.check(operation, status);
  }

  private static long address(Pointer p, String what) {
    Objects.requireNonNull(p, what);
    if (p.isNull()) throw new IllegalArgumentException(what + " is a null pointer");
    return p.address() + p.position() * Math.max(1, p.sizeof());
  }

  private static long stream(Pointer stream) {
    return stream == null ? 0 : stream.address();
  }

  private static void checkCount(long n) {
    if (n < 0) throw new IllegalArgumentException("negative element count " + n);
  }

  // ------------------------------------------------------------------------ device pointers

  /**
   * dst = src converted to {@code dstType} (amalgam.h point 5) on device {@code device}.
   *
   * @param stream the CUDA stream, or null for the legacy default stream
   */
  public static void convert(
      int device, Pointer stream, Pointer src, DType srcType, Pointer dst, DType dstType, long n) {
    convert(device, stream(stream), address(src, "src"), srcType, address(dst, "dst"), dstType, n);
  }

  /** {@link #convert(int, Pointer, Pointer, DType, Pointer, DType, long)} on raw addresses. */
  public static void convert(
      int device, long stream, long src, DType srcType, long dst, DType dstType, long n) {
    checkCount(n);
    requireAttached();
    check(
        "cuda convert",
        AmalgamNative.amalgam_cuda_device_convert(
            device, stream, src, srcType.kernelCode(), dst, dstType.kernelCode(), n));
  }

  /**
   * out = sum of coefficients[k] * inputs[k] (amalgam.h point 6: the CPU's rounding, bit for bit)
   * on device {@code device}; at most {@value #MAX_DEVICE_SUM_INPUTS} inputs.
   */
  public static void weightedSum(
      int device,
      Pointer stream,
      Pointer[] inputs,
      DType[] types,
      float[] coefficients,
      Pointer out,
      DType outType,
      long n) {
    long[] addresses = new long[inputs.length];
    for (int i = 0; i < inputs.length; i++) addresses[i] = address(inputs[i], "inputs[" + i + "]");
    weightedSum(
        device, stream(stream), addresses, types, coefficients, address(out, "out"), outType, n);
  }

  /**
   * {@link #weightedSum(int, Pointer, Pointer[], DType[], float[], Pointer, DType, long)} on raw
   * addresses.
   */
  public static void weightedSum(
      int device,
      long stream,
      long[] inputs,
      DType[] types,
      float[] coefficients,
      long out,
      DType outType,
      long n) {
    checkCount(n);
    if (inputs.length < 1 || inputs.length > MAX_DEVICE_SUM_INPUTS) {
      throw new IllegalArgumentException(
          "weighted sum of " + inputs.length + " inputs: 1 to " + MAX_DEVICE_SUM_INPUTS);
    }
    if (types.length != inputs.length || coefficients.length != inputs.length) {
      throw new IllegalArgumentException(
          "inputs, types and coefficients differ in length: "
              + inputs.length
              + ", "
              + types.length
              + ", "
              + coefficients.length);
    }
    requireAttached();
    int[] codes = new int[types.length];
    for (int i = 0; i < codes.length; i++) codes[i] = types[i].kernelCode();
    check(
        "cuda weighted sum",
        AmalgamNative.amalgam_cuda_device_weighted_sum(
            device,
            stream,
            inputs.length,
            inputs,
            codes,
            coefficients.clone(),
            out,
            outType.kernelCode(),
            n));
  }

  /**
   * The three SLERP reductions of x and y, as {@link Kernels#dot3} computes them for a whole tensor
   * (the same bits); waits for the stream.
   */
  public static Dot3 dot3(
      int device, Pointer stream, Pointer x, DType xType, Pointer y, DType yType, long n) {
    return dot3(device, stream(stream), address(x, "x"), xType, address(y, "y"), yType, n);
  }

  /** {@link #dot3(int, Pointer, Pointer, DType, Pointer, DType, long)} on raw addresses. */
  public static Dot3 dot3(
      int device, long stream, long x, DType xType, long y, DType yType, long n) {
    checkCount(n);
    requireAttached();
    double[] r = new double[3];
    check(
        "cuda dot3",
        AmalgamNative.amalgam_cuda_device_dot3(
            device, stream, x, xType.kernelCode(), y, yType.kernelCode(), n, r));
    return new Dot3(r[0], r[1], r[2]);
  }

  /**
   * out = SLERP(a, b, t) of two tensors on the device, with mergekit's rule and Amalgam's CPU bits:
   * the reductions ({@link #dot3}, which waits), the coefficients on the host ({@link
   * Slerp#coefficients}), then a weighted sum enqueued on the stream.
   */
  public static void slerp(
      int device,
      Pointer stream,
      double t,
      Pointer a,
      DType aType,
      Pointer b,
      DType bType,
      Pointer out,
      DType outType,
      long n) {
    Dot3 d = dot3(device, stream, a, aType, b, bType, n);
    Slerp.Coefficients c = Slerp.coefficients(d, t);
    weightedSum(
        device,
        stream,
        new Pointer[] {a, b},
        new DType[] {aType, bType},
        new float[] {c.s0(), c.s1()},
        out,
        outType,
        n);
  }

  // ------------------------------------------------------------------------ device memory

  /**
   * Device memory from {@code cudaMalloc}, freed by {@link #close()}: for applications without a
   * CUDA binding of their own, and for tests and benchmarks of the device-pointer kernels.
   */
  public static final class DeviceBuffer implements AutoCloseable {
    private final int device;
    private final long bytes;
    private long address;

    private DeviceBuffer(int device, long bytes, long address) {
      this.device = device;
      this.bytes = bytes;
      this.address = address;
    }

    /** The device address (0 once closed). */
    public long address() {
      return address;
    }

    /** The size in bytes. */
    public long bytes() {
      return bytes;
    }

    /** The device it lives on. */
    public int device() {
      return device;
    }

    /**
     * Copies {@code src}'s remaining bytes (a direct buffer) to the start of this buffer; waits.
     */
    public void upload(java.nio.ByteBuffer src) {
      transfer(src, 1);
    }

    /**
     * Copies this buffer's first {@code dst.remaining()} bytes into {@code dst} (direct); waits.
     */
    public void download(java.nio.ByteBuffer dst) {
      transfer(dst, 2);
    }

    private void transfer(java.nio.ByteBuffer host, int kind) {
      if (!host.isDirect()) throw new IllegalArgumentException("host buffer must be direct");
      if (host.remaining() > bytes) {
        throw new IllegalArgumentException(
            host.remaining() + " bytes do not fit a device buffer of " + bytes);
      }
      if (address == 0) throw new IllegalStateException("device buffer is closed");
      long h = AmalgamNative.amalgam_address_of(host);
      long dst = kind == 1 ? address : h;
      long src = kind == 1 ? h : address;
      check(
          "cuda copy",
          AmalgamNative.amalgam_cuda_copy(device, 0, dst, src, host.remaining(), kind));
      check("cuda synchronize", AmalgamNative.amalgam_cuda_synchronize(device, 0));
      java.lang.ref.Reference.reachabilityFence(host);
    }

    /** Frees the memory; later calls do nothing. */
    @Override
    public void close() {
      if (address != 0) {
        long a = address;
        address = 0;
        check("cuda free", AmalgamNative.amalgam_cuda_free(device, a));
      }
    }
  }

  /**
   * {@code bytes} of memory on device {@code device}.
   *
   * @throws KernelException if the device cannot provide it (out of memory, no such device)
   */
  public static DeviceBuffer allocate(int device, long bytes) {
    if (bytes <= 0) throw new IllegalArgumentException("bytes must be positive: " + bytes);
    if (device < 0) throw new IllegalArgumentException("device must be >= 0: " + device);
    requireAttached();
    long[] address = new long[1];
    check("cuda malloc", AmalgamNative.amalgam_cuda_malloc(device, bytes, address));
    return new DeviceBuffer(device, bytes, address[0]);
  }

  /** An asynchronous device-to-device copy of {@code bytes} on the stream (0: legacy default). */
  public static void copy(int device, long stream, long dst, long src, long bytes) {
    if (bytes < 0) throw new IllegalArgumentException("negative byte count " + bytes);
    requireAttached();
    check("cuda copy", AmalgamNative.amalgam_cuda_copy(device, stream, dst, src, bytes, 3));
  }

  /** Waits for the stream (0: legacy default) of device {@code device}. */
  public static void synchronize(int device, long stream) {
    requireAttached();
    check("cuda synchronize", AmalgamNative.amalgam_cuda_synchronize(device, stream));
  }
}
