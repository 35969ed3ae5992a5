package dev.amalgam.kernels;

import dev.amalgam.kernels.jni.NativeLibrary;
import dev.amalgam.tensor.DType;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Optional;

/**
 * The merge kernels: conversions, weighted sums and the SLERP reductions over bf16, f16 and f32
 * buffers, and the Q8_0 quantizer and block decoders that GGUF files need.
 *
 * <p>Buffers are little-endian whatever their {@link ByteBuffer#order()}, and data starts at each
 * buffer's position; positions and limits are not changed. Every bound is checked before any work
 * starts, so a bad argument throws an {@link IllegalArgumentException} and never reaches native
 * code. Work is split across {@link #threads()} threads; results do not depend on the thread count.
 *
 * <p>Obtain an instance with {@link #best(int)} (native where it loads, the Java kernels otherwise)
 * and close it to stop its threads.
 */
public interface Kernels extends AutoCloseable {
  /** Elements per block of the canonical reduction (amalgam.h AMALGAM_DOT_BLOCK). */
  int DOT_BLOCK = 4096;

  /** Elements per independent reduction segment; results are combined in segment order. */
  int DOT_SEGMENT = 1 << 20;

  /** System property choosing the implementation: auto (default), native or java. */
  String IMPLEMENTATION_PROPERTY = "amalgam.kernels";

  /** System property capping the native ISA path (scalar, avx2, avx512, avx512_bf16). */
  String ISA_PROPERTY = "amalgam.kernels.isa";

  /** For example "native avx512_bf16, 2 threads". */
  String description();

  /** True when the native library does the work. */
  boolean isNative();

  /** Threads used per call (including the caller's). */
  int threads();

  /** {@code dst[i] = round(src[i])} for {@code n} elements. */
  void convert(ByteBuffer src, DType srcType, ByteBuffer dst, DType dstType, long n);

  /**
   * {@code out[i] = sum_k coefficients[k] * inputs[k][i]}: the first product rounded to f32, then
   * one f32 FMA per further input in order, then one rounding to {@code outType}.
   */
  void weightedSum(
      ByteBuffer[] inputs,
      DType[] inputTypes,
      float[] coefficients,
      ByteBuffer out,
      DType outType,
      long n);

  /**
   * Counts the non-finite values among {@code n} elements at {@code src}'s position: adds the NaNs
   * to {@code counts[0]} and the infinities (either sign) to {@code counts[1]}. Merges run it over
   * every input chunk as they read it, which costs one pass over data that is still in the cache.
   * Runs on the calling thread.
   */
  void countNonFinite(ByteBuffer src, DType type, long n, long[] counts);

  /** The dot product and both squared norms of two equally long vectors. */
  default Dot3 dot3(ByteBuffer x, DType xType, ByteBuffer y, DType yType, long n) {
    Dot3.Accumulator sums = new Dot3.Accumulator();
    dot3(x, xType, y, yType, n, sums);
    return sums.result();
  }

  /**
   * Adds the reductions of {@code n} elements to {@code sums}, one {@link #DOT_SEGMENT} at a time
   * in order. To reduce a tensor in several calls, start each call at a multiple of {@link
   * #DOT_SEGMENT} elements.
   */
  void dot3(ByteBuffer x, DType xType, ByteBuffer y, DType yType, long n, Dot3.Accumulator sums);

  /**
   * Quantizes {@code n} values of {@code srcType} (F32, F16 or BF16) into {@code n / 32} Q8_0
   * blocks of 34 bytes at {@code dst}'s position, with ggml's reference quantizer exactly as {@link
   * JavaKernels#quantizeQ8_0Block} defines it (amalgam.h contract point 7: NaN and infinite blocks
   * included).
   *
   * @param n a multiple of {@link BlockFormat#BLOCK_ELEMENTS}
   */
  void quantizeQ8_0(ByteBuffer src, DType srcType, ByteBuffer dst, long n);

  /**
   * Decodes {@code n} elements of a block format at {@code src}'s position into {@code dstType}
   * values: x = q·d in f32 (as ggml's dequantize_row_*), then rounded to {@code dstType}.
   *
   * @param n a multiple of {@link BlockFormat#BLOCK_ELEMENTS}
   */
  void dequantize(ByteBuffer src, BlockFormat format, ByteBuffer dst, DType dstType, long n);

  /**
   * Counters of a magnitude histogram: one per value of 16 bits (amalgam.h
   * AMALGAM_MAGNITUDE_BUCKETS).
   */
  int MAGNITUDE_BUCKETS = 1 << 16;

  /**
   * The first counting pass of a k-th-largest-magnitude selection: adds 1 to {@code histogram[a >>>
   * 16]} for each {@code values[i]}, {@code i < n}, where {@code a = floatToRawIntBits(x) &
   * 0x7FFFFFFF} orders like {@code |x|} (NaN magnitudes above infinity). Runs on the calling
   * thread.
   *
   * @param histogram {@link #MAGNITUDE_BUCKETS} counters, added to
   */
  void magnitudeHistogramHigh(float[] values, int n, long[] histogram);

  /**
   * The second counting pass: adds 1 to {@code histogram[a & 0xFFFF]} for each element whose {@code
   * a >>> 16} equals {@code high} (see {@link #magnitudeHistogramHigh}).
   *
   * @param high the bucket the first pass located, in [0, {@link #MAGNITUDE_BUCKETS})
   */
  void magnitudeHistogramLow(float[] values, int n, int high, long[] histogram);

  /**
   * A task vector: {@code d[i] = r(x[i]) - b[i]} in f32 for {@code i < n}, where {@code x[i]} is
   * widened from {@code xType} (at {@code x}'s position) and {@code r} rounds it to {@code
   * roundType} (round to nearest even, as {@link #convert}) when that is F16 or BF16 and differs
   * from {@code xType}; mergekit casts each model to the base's dtype before subtracting. Runs on
   * the calling thread.
   */
  void taskVector(ByteBuffer x, DType xType, DType roundType, float[] b, float[] d, int n);

  /**
   * The magnitude top-k masks of a selection ({@code MagnitudeSelection}), applied in element
   * order: with {@code a = floatToRawIntBits(x) & 0x7FFFFFFF}, an element is in a threshold's set
   * {@code (bits, equalKept)} iff {@code a > bits}, or {@code a == bits} while fewer than {@code
   * equalKept} equal elements were counted (it is then counted; both thresholds see every element).
   * {@code values[i]} becomes +0 unless it is in the keep set and not in the drop set. A drop set
   * of {@code (Integer.MAX_VALUE, 0)} drops nothing. Runs on the calling thread.
   *
   * @param seen the keep and drop counters ({@code seen[0]}, {@code seen[1]}), carried across calls
   */
  void magnitudeMask(
      float[] values,
      int n,
      int keepBits,
      long keepEqual,
      int dropBits,
      long dropEqual,
      long[] seen);

  /**
   * {@code out[i]} = the {@link Philox} uniform of element {@code first + i} of the stream with
   * this seed and {@link Philox#streamHash stream hash}: the same values as {@link
   * Philox#uniforms}, from any implementation.
   */
  void philoxUniforms(long seed, long streamHash, long first, float[] out, int n);

  /**
   * Bernoulli(p) masking: sets {@code values[i]} to +0 unless the {@link Philox} uniform u of
   * element {@code first + i} satisfies {@code u < p} (compared in double; a NaN p keeps nothing).
   */
  void bernoulliKeep(long seed, long streamHash, long first, double p, float[] values, int n);

  /**
   * DELLA's magnitude-ranked random drop over the whole rows of {@code values[0..n)}, element
   * {@code i} being element {@code first + i} of the {@link Philox} stream: in each row of {@code
   * rowLength}, the element of ascending magnitude rank r (ties by index; magnitude as {@code
   * floatToRawIntBits(x) & 0x7FFFFFFF}) is kept iff its uniform u satisfies {@code u < p} with
   * {@code p = (density - epsilon) + 2 epsilon r / (rowLength - 1)} in double ({@code density -
   * epsilon} for one-element rows), else becomes +0 (amalgam.h contract point 9). Rows are
   * independent, so callers may split a tensor across threads at row boundaries. Runs on the
   * calling thread.
   *
   * @param n a multiple of {@code rowLength}
   * @param keys scratch of at least {@code 3 * rowLength} longs
   * @param uniforms scratch of at least {@code rowLength} floats
   */
  void dellaMask(
      long seed,
      long streamHash,
      long first,
      double density,
      double epsilon,
      float[] values,
      int n,
      int rowLength,
      long[] keys,
      float[] uniforms);

  /**
   * TIES sign consensus and disjoint merge of {@code models} weighted task vectors, model k's
   * element i at {@code w[k * stride + i]}, into {@code out[0..n)}: the sign is that of the f32 sum
   * over the models in order (a zero sum counts positive); the models whose value has that sign
   * agree (zeros never do); their values and weights are summed in order from +0; with normalize,
   * the sum is divided by the agreeing weights' sum (1 where it is 0); times lambda unless it is 1;
   * plus {@code base[i]} (amalgam.h contract point 8). {@code out} may be {@code base} but must not
   * overlap {@code w}.
   */
  void disjointMerge(
      float[] w,
      int stride,
      int models,
      float[] weights,
      int n,
      boolean normalize,
      float[] base,
      float lambda,
      float[] out);

  /**
   * The merge without consensus: {@code out[i] = base[i] + ((+0 + w_0 + ... ) / divisor) * lambda},
   * the division skipped when divisor is 1 and the product when lambda is 1 (amalgam.h contract
   * point 8).
   */
  void plainMerge(
      float[] w,
      int stride,
      int models,
      int n,
      float divisor,
      float[] base,
      float lambda,
      float[] out);

  /** Most inputs {@link #gram} takes (amalgam.h AMALGAM_GRAM_MAX_INPUTS). */
  int GRAM_MAX_INPUTS = 64;

  /**
   * Adds the Gram sums of {@code n} elements to {@code acc}: with {@code x_i} input i's element
   * widened to f32, less the base's (one f32 subtraction) when {@code base} is not null, {@code
   * acc[k++] += (double) x_i * (double) x_j} for i in order, j from i on, element by element in
   * order (amalgam.h contract point 9). Each sum is one chain of additions, so this runs on the
   * calling thread; a tensor split into calls in element order gives the same sums.
   *
   * @param acc {@code count * (count + 1) / 2} sums, the upper triangle row by row
   */
  void gram(
      ByteBuffer[] inputs, DType[] types, ByteBuffer base, DType baseType, long n, double[] acc);

  /**
   * arcee_fusion's first selection pass (amalgam.h contract point 9): for elements {@code i < n} of
   * {@code a} (the base) and {@code b} (the other model), from their positions, adds 1 to {@code
   * histogram[key >>> 16]} where {@code key} is the {@link JavaKernels#sortableKey sortable key} of
   * the {@link JavaKernels#fusionImportance importance} {@code |b - a| * kl[row]}. Element {@code
   * i} is tensor element {@code first + i}, in row {@code (first + i) / rowLength}. Runs on the
   * calling thread.
   *
   * @param kl one KL divergence per row of the tensor, covering every row of the range
   * @param histogram {@link #MAGNITUDE_BUCKETS} counters, added to
   */
  void fusionHistogramHigh(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      long[] histogram);

  /**
   * arcee_fusion's second selection pass: for each bucket {@code buckets[j]} (the top 16 bits of a
   * key), adds 1 to {@code histograms[j * MAGNITUDE_BUCKETS + (key & 0xFFFF)]} for every element
   * whose key has those top bits (see {@link #fusionHistogramHigh}; equal buckets each count). Runs
   * on the calling thread.
   *
   * @param buckets at least one, each in [0, {@link #MAGNITUDE_BUCKETS})
   * @param histograms {@link #MAGNITUDE_BUCKETS} counters per bucket, added to
   */
  void fusionHistogramLow(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      int[] buckets,
      long[] histograms);

  /**
   * arcee_fusion's output: {@code out[i] = importance >= threshold ? a + (b - a) : a} in f32 (see
   * {@link #fusionHistogramHigh}), rounded to {@code outType}, at {@code out}'s position. Runs on
   * the calling thread.
   */
  void fusionSelect(
      ByteBuffer a,
      DType aType,
      ByteBuffer b,
      DType bType,
      int n,
      long first,
      long rowLength,
      float[] kl,
      float threshold,
      ByteBuffer out,
      DType outType);

  /**
   * nearswap of {@code n} elements: {@code out[i]} = {@link JavaKernels#nearSwap} of the base's and
   * the other model's element, rounded to {@code outType} (amalgam.h contract point 9). Split
   * across the threads like {@link #weightedSum}.
   */
  void nearSwap(
      ByteBuffer base,
      DType baseType,
      ByteBuffer other,
      DType otherType,
      float t,
      ByteBuffer out,
      DType outType,
      long n);

  /**
   * SCE's variance keys (amalgam.h contract point 9): for each element {@code i < n} of {@code
   * models} task-vector rows {@code x[k * stride + i]} over {@code base[i]}, with {@code delta_k =
   * (double) x - base} summed from 0 in model order, {@code mean = total / models} and {@code
   * variance} the sum of {@code (delta_k - mean)^2} from 0 in model order, {@code keys[i] =
   * Float.floatToIntBits((float) (variance / models))}: non-negative, ordered like the variances,
   * every NaN as 0x7FC00000 above +inf. Runs on the calling thread.
   */
  void sceVarianceKeys(float[] x, int stride, int models, float[] base, int n, int[] keys);

  /**
   * The first SCE selection pass: adds 1 to {@code histogram[key >>> 16]} per element and the count
   * of non-zero keys to {@code nonzero[0]} (keys as {@link #sceVarianceKeys}). Runs on the calling
   * thread.
   *
   * @param histogram {@link #MAGNITUDE_BUCKETS} counters, added to
   * @param keys null, or where the {@code n} keys go, for a caller that keeps them for later passes
   */
  void sceHistogramHigh(
      float[] x,
      int stride,
      int models,
      float[] base,
      int n,
      long[] histogram,
      long[] nonzero,
      int[] keys);

  /**
   * The second SCE selection pass: adds 1 to {@code histogram[key & 0xFFFF]} for each element whose
   * {@code key >>> 16} equals {@code high}. Runs on the calling thread.
   *
   * @param high the bucket the first pass located, in [0, {@link #MAGNITUDE_BUCKETS})
   */
  void sceHistogramLow(
      float[] x, int stride, int models, float[] base, int n, int high, long[] histogram);

  /**
   * SCE's weight pass over a range, in element order: for each element, {@code sums[k] += kept ?
   * delta_k * delta_k : -0.0} for every model (one chain of double additions per model, on top of
   * what {@code sums} holds; -0.0 leaves a sum as it is). The selection keeps an element iff its
   * key is above {@code threshold}, or equal to it while {@code seen[0] < equalKept} (then {@code
   * seen[0]} counts it); a negative threshold keeps every element and one above 0x7FC00000 none,
   * and neither moves the counter. Runs on the calling thread.
   *
   * @param keys null, or the elements' keys (as {@link #sceVarianceKeys} computes them), which are
   *     then read instead of computed
   * @param seen the counter of kept equal elements, carried in element order
   */
  void sceSquareSums(
      float[] x,
      int stride,
      int models,
      float[] base,
      int[] keys,
      int n,
      int threshold,
      long equalKept,
      long[] seen,
      double[] sums);

  /**
   * SCE's compute step: {@code out[i] = (float) (base[i] + merged)} in double, where {@code merged}
   * is 0 unless the selection (as {@link #sceSquareSums}) keeps the element, else TIES sign
   * consensus over the deltas (the sign of their sum, a zero sum positive; zeros never agree): the
   * agreeing {@code weights[k] * delta_k} summed in model order, divided by the agreeing weights'
   * sum or 1e-6 where that is smaller (amalgam.h contract point 9). {@code out} may be {@code
   * base}. Runs on the calling thread.
   *
   * @param keys null, or the elements' keys, as for {@link #sceSquareSums}
   */
  void sceMerge(
      float[] x,
      int stride,
      int models,
      float[] base,
      int[] keys,
      int n,
      int threshold,
      long equalKept,
      long[] seen,
      double[] weights,
      float[] out);

  /** One piece of work of {@link #forEachTask}. */
  @FunctionalInterface
  interface TaskBody {
    /**
     * Runs task {@code task} on worker {@code worker}, in [0, min(tasks, threads())): one worker
     * runs one task at a time, so per-worker scratch needs no locking.
     */
    void run(int worker, int task);
  }

  /**
   * Runs tasks {@code 0..tasks-1} on up to {@link #threads()} threads (the caller's included) and
   * returns when all are done; the first failure is rethrown after the others finish. For work
   * split by its caller into pieces that do not depend on which thread runs them (such as a merge's
   * work blocks). A task must not call this again, nor a kernel large enough to be split across
   * threads (one of more than 256 Ki elements): with every thread busy in a task, such a call would
   * wait for a thread that never frees.
   */
  void forEachTask(int tasks, TaskBody body);

  /** Stops the worker threads. */
  @Override
  void close();

  /**
   * One process-wide, single-threaded instance of {@link #best(int)}, created on first use and
   * never closed (it owns no threads). For code without a {@code Kernels} of its own, such as the
   * GGUF reader; thread-safe, as every instance is: concurrent calls do not share state.
   */
  static Kernels shared() {
    return SharedKernels.INSTANCE;
  }

  /**
   * The fastest available kernels: native at the best ISA unless {@value #IMPLEMENTATION_PROPERTY}
   * or {@value #ISA_PROPERTY} say otherwise, else the Java kernels (the fallback is logged once).
   *
   * @param threads threads per call; 0 or less means the number of available processors
   */
  static Kernels best(int threads) {
    String choice =
        System.getProperty(IMPLEMENTATION_PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
    switch (choice) {
      case "java":
        return java(threads);
      case "native":
        return nativeKernels(nativeIsaCap(), threads);
      case "auto":
        if (NativeLibrary.isLoaded()) return nativeKernels(nativeIsaCap(), threads);
        Fallback.logOnce();
        return java(threads);
      default:
        throw new IllegalArgumentException(
            "-D" + IMPLEMENTATION_PROPERTY + "=" + choice + ": expected auto, native or java");
    }
  }

  /** The plain-Java kernels. */
  static Kernels java(int threads) {
    return new ParallelKernels(JavaKernels.INSTANCE, threads);
  }

  /**
   * The native kernels at a given ISA path.
   *
   * @throws IllegalStateException if the native library is not loaded
   * @throws IllegalArgumentException if this CPU or build lacks the ISA
   */
  static Kernels nativeKernels(Isa isa, int threads) {
    return new ParallelKernels(new NativeKernels(isa), threads);
  }

  /**
   * The kernels of CUDA device {@code index} (amalgam.h point 10): the native kernels' functions
   * and bits, with every call staged through pinned buffers to the device and back. CUDA work is
   * mostly copying, so at most {@value #CUDA_MAX_THREADS} host threads feed the device.
   *
   * @throws DeviceUnavailableException if the device is not usable (no CUDA library, driver or
   *     device, or less than {@link Cuda#MIN_FREE_BYTES} free)
   */
  static Kernels cuda(int index, int threads) {
    return cudaOn(usableCudaDevice(index), threads);
  }

  private static Kernels cudaOn(CudaDevice device, int threads) {
    int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    Kernels k = new ParallelKernels(new NativeKernels(device), Math.min(t, CUDA_MAX_THREADS));
    try {
      firstKernel(k);
    } catch (KernelException e) {
      k.close();
      throw new DeviceUnavailableException(
          "CUDA device " + device.describe() + " failed its first kernel: " + e.getMessage());
    }
    return k;
  }

  /**
   * A conversion of a few values on a new CUDA device, checked: a driver that cannot run this
   * build's code (no kernel image for the card) fails here, before a merge has started.
   */
  private static void firstKernel(Kernels k) {
    int n = 64;
    java.nio.ByteBuffer src =
        java.nio.ByteBuffer.allocateDirect(4 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    java.nio.ByteBuffer dst =
        java.nio.ByteBuffer.allocateDirect(2 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) src.putFloat(4 * i, i * 0.5f);
    k.convert(src, dev.amalgam.tensor.DType.F32, dst, dev.amalgam.tensor.DType.BF16, n);
    for (int i = 0; i < n; i++) {
      float back = Float.intBitsToFloat((dst.getShort(2 * i) & 0xffff) << 16);
      if (back != i * 0.5f) {
        throw new KernelException(
            "convert", 0, "element " + i + " came back as " + back + ", not " + i * 0.5f);
      }
    }
  }

  /** Most host threads that feed one CUDA device. */
  int CUDA_MAX_THREADS = 4;

  /**
   * The kernels for a requested {@link Device}. {@link Device#AUTO} picks the first usable CUDA
   * device and says so on {@code notice}, else falls back to the CPU with one line there saying
   * why; {@link Device#CUDA} and {@code cuda:N} fail instead of falling back.
   *
   * @param notice receives one line when {@code auto} chooses (never for cpu or explicit cuda)
   * @throws DeviceUnavailableException if an explicitly requested CUDA device is not usable
   */
  static Kernels forDevice(Device device, int threads, java.util.function.Consumer<String> notice) {
    switch (device.kind()) {
      case CPU:
        return best(threads);
      case CUDA:
        return cuda(device.index(), threads);
      case AUTO:
      default:
        try {
          CudaDevice d = usableCudaDevice(-1);
          Kernels k = cudaOn(d, threads);
          notice.accept("device auto: using " + d.describe());
          return k;
        } catch (DeviceUnavailableException e) {
          Kernels cpu = best(threads);
          notice.accept(
              "device auto: "
                  + e.getMessage()
                  + "; running on the CPU ("
                  + cpu.description()
                  + ")");
          return cpu;
        }
    }
  }

  /**
   * Device {@code index} as it is now; a failing query makes it unusable (auto then falls back).
   */
  private static Optional<CudaDevice> queryDevice(int index) {
    try {
      return Cuda.device(index);
    } catch (KernelException e) {
      throw new DeviceUnavailableException("CUDA device cuda:" + index + ": " + e.getMessage());
    }
  }

  /** Device {@code index} (the first usable one for -1), checked and queried now. */
  private static CudaDevice usableCudaDevice(int index) {
    Cuda.Probe probe = Cuda.probe();
    if (probe.devices().isEmpty()) {
      throw new DeviceUnavailableException(
          "no usable CUDA device: " + probe.problem().orElse("none"));
    }
    String all = probe.devices().stream().map(CudaDevice::describe).toList().toString();
    if (index < 0) {
      for (CudaDevice d : probe.devices()) {
        Optional<CudaDevice> now = queryDevice(d.index());
        if (now.isPresent() && now.get().isUsable()) return now.get();
      }
      throw new DeviceUnavailableException(
          "no usable CUDA device: each is older than sm_75 or has less than "
              + (Cuda.MIN_FREE_BYTES >> 20)
              + " MiB free "
              + all);
    }
    CudaDevice d =
        queryDevice(index)
            .orElseThrow(
                () ->
                    new DeviceUnavailableException(
                        "no CUDA device cuda:"
                            + index
                            + "; this machine has "
                            + probe.devices().size()
                            + " "
                            + all));
    if (d.computeMajor() * 10 + d.computeMinor() < 75) {
      throw new DeviceUnavailableException(
          "CUDA device "
              + d.describe()
              + " is older than sm_75 (Turing), the oldest this build has code for");
    }
    if (!d.isUsable()) {
      throw new DeviceUnavailableException(
          "CUDA device "
              + d.describe()
              + " has less than "
              + (Cuda.MIN_FREE_BYTES >> 20)
              + " MiB free");
    }
    return d;
  }

  /** The best native ISA here, if the native library is loaded. */
  static Optional<Isa> nativeBestIsa() {
    return NativeLibrary.isLoaded() ? Optional.of(NativeKernels.bestIsa()) : Optional.empty();
  }

  private static Isa nativeIsaCap() {
    if (!NativeLibrary.isLoaded()) {
      throw new IllegalStateException("native kernels unavailable: " + NativeLibrary.detail());
    }
    Isa best = NativeKernels.bestIsa();
    String cap = System.getProperty(ISA_PROPERTY);
    if (cap == null || cap.isBlank()) return best;
    Isa wanted =
        Isa.fromLabel(cap)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "-D" + ISA_PROPERTY + "=" + cap + ": unknown ISA"));
    return wanted.compareTo(best) < 0 ? wanted : best;
  }

  /** Logs the fallback to the Java kernels once per JVM. */
  final class Fallback {
    private static boolean logged;

    private Fallback() {}

    static synchronized void logOnce() {
      if (logged) return;
      logged = true;
      System.getLogger("dev.amalgam.kernels")
          .log(
              System.Logger.Level.WARNING,
              "native kernels unavailable, using the slower Java kernels: "
                  + NativeLibrary.detail());
    }
  }
}
